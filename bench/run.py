"""The benchmark: the LMS's SOAP operations against a bare-Spyne ceiling, then the scoring pipeline.

    .venv/bin/python -m bench.run --name after          (see bench/README.md, "Benchmarks")

One run, one machine: a fresh PostgreSQL database and Redis db, both simulators, the LMS and the
baseline under the same gunicorn command, the scoring workers. wrk keeps 8 connections open and
drives each operation for a warm-up then a measured period; the baseline is measured before and
after the LMS's operations and their mean is the reference of every ratio.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench import data, report
from bench.http import OPERATIONS, http_phase
from bench.load import Load, find_wrk, wrk_version
from bench.pipeline import run_pipeline
from bench.profiling import Profiler, find_py_spy
from bench.stack import Stack, StackConfig, exit_on_sigterm

TARGETS = {"ratio": {"SubmitLoan": 0.40, "GetLoanStatus": 0.60, "RegisterCustomer": 0.25},
           "p99_ms": 25.0, "pipeline_per_s": 100.0, "rss_mb": 100.0}  # issue 15


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default=f"run-{datetime.now():%Y%m%d-%H%M%S}",
                   help="results go to bench/results/NAME.json")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (LMS and baseline)")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker; 1 = sync worker")
    p.add_argument("--rq-workers", type=int, default=2, help="scoring worker processes")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--duration", type=int, default=5, help="seconds measured per operation")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per operation")
    p.add_argument("--ops", default=",".join(OPERATIONS), help="operations to measure, comma-separated")
    p.add_argument("--loans", type=int, default=None,
                   help="loans of the pipeline benchmark (0: skip it; default 1000, 0 with --db)")
    p.add_argument("--db", default=None, metavar="sqlite,postgresql",
                   help="serve the LMS as `lms-soap sandbox` does (its timers and log level, the "
                        "multiprocess metrics, `lms-soap worker` beside it from the start) on each "
                        "database named, in turn, each with its own baseline; results go to "
                        "NAME-<db>.json. Without it: the web tier alone on PostgreSQL (NAME.json)")
    p.add_argument("--scoring-during-http", action="store_true",
                   help="run the scoring workers while SubmitLoan is measured (default: they start "
                        "after it and drain its loans before GetLoanStatus)")
    p.add_argument("--database", default="lms_bench")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting for the LMS and the workers (repeatable)")
    p.add_argument("--log-dir", default=None, help="process logs (default: a temporary folder)")
    p.add_argument("--lms-app", default="lms_soap.wsgi:application",
                   help="the LMS's WSGI entry point (experiments: a module wrapping lms_soap.wsgi)")
    p.add_argument("--profile", action="store_true",
                   help="py-spy the LMS workers while each operation is measured (bench/profiling.py)")
    p.add_argument("--profile-cpu", action="store_true",
                   help="with --profile: count only samples of threads on the CPU (no --idle), to see "
                        "where the CPU per request goes rather than where a request waits")
    return p.parse_args(argv)


def summary(http: dict, memory: list[dict], pipeline: dict | None) -> list[str]:
    """The targets of the issue, each with its figure and whether it is met."""
    lines = []
    for op in OPERATIONS:
        if op not in http:
            continue
        f = http[op]
        target = TARGETS["ratio"].get(op)
        verdict = "" if target is None else (" ok" if f["ratio_to_baseline"] >= target else
                                             f" MISSED (target {target:.0%})")
        p99 = " ok" if f["p99_ms"] <= TARGETS["p99_ms"] else f" MISSED (target {TARGETS['p99_ms']} ms)"
        cpu = f.get("cpu_cost_ratio_to_baseline")
        cpu_text = f" [CPU cost {cpu:.1%} of the baseline's]" if cpu else ""
        lines.append(f"{op:17} {f['rps']:8.1f} req/s = {f['ratio_to_baseline']:6.1%} of {f['baseline_rps']} "
                     f"req/s{verdict}; p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms{p99}{cpu_text}")
    if memory:
        worst = max(m["rss_mb"] for m in memory)
        ok = " ok" if worst <= TARGETS["rss_mb"] else f" MISSED (target {TARGETS['rss_mb']} MB)"
        lines.append(f"RSS per LMS worker: {', '.join(str(m['rss_mb']) for m in memory)} MB{ok}")
    if pipeline:
        rate = pipeline.get("loans_decided_per_s") or 0
        ok = " ok" if rate >= TARGETS["pipeline_per_s"] else f" MISSED (target {TARGETS['pipeline_per_s']})"
        lines.append(f"pipeline: {pipeline['loans']} loans in {pipeline['seconds_to_last_decision']} s = "
                     f"{rate} loans/s{ok}; job overhead {pipeline['per_loan_ms']['job_overhead']} ms/loan")
    return lines


DATABASES = ("sqlite", "postgresql")


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    find_wrk()  # before anything starts: say how to install it
    if a.db is None:
        a.loans = 1000 if a.loans is None else a.loans
        return run_once(a, None, a.name)
    dbs = [d.strip() for d in a.db.split(",") if d.strip()]
    unknown = [d for d in dbs if d not in DATABASES]
    if unknown:
        raise SystemExit(f"error: --db takes {', '.join(DATABASES)}, not {', '.join(unknown)}")
    a.loans = 0 if a.loans is None else a.loans
    for db in dbs:
        run_once(a, db, f"{a.name}-{db}")
    return 0


def run_once(a: argparse.Namespace, db: str | None, name: str) -> int:
    wrk = find_wrk()
    load = Load(connections=a.connections, duration=a.duration, warmup=a.warmup)
    log_dir = Path(a.log_dir or tempfile.mkdtemp(prefix=f"lms-bench-{name}-"))
    if a.log_dir and db:
        log_dir = log_dir / db
    cfg = StackConfig(workers=a.workers, threads=a.threads, rq_workers=a.rq_workers, database=a.database,
                      redis_url=a.redis_url, log_dir=log_dir, env=dict(kv.split("=", 1) for kv in a.env),
                      lms_app=a.lms_app, db=db)
    loans = a.loans
    if db == "sqlite" and loans:
        print("  (the pipeline benchmark runs on PostgreSQL only: skipped)", flush=True)
        loans = 0
    settings = {"db": db or "postgresql", "served_as_sandbox": cfg.served,
                "gunicorn": {"workers": cfg.workers, "threads": cfg.threads,
                             "worker_class": cfg.worker_class},
                "rq_workers": cfg.rq_workers, "wrk": vars(load), "ops": a.ops, "pipeline_loans": loans,
                "scoring_during_http": a.scoring_during_http, "env": cfg.env, "lms_app": cfg.lms_app,
                "logs": str(log_dir)}
    print(f"bench {name} ({'served as the sandbox serves it, on ' + db if db else 'web tier alone'}): gunicorn {cfg.workers} x {cfg.worker_class}/{cfg.threads}, "
          f"wrk -c{load.connections} "
          f"{load.warmup}+{load.duration} s per operation; logs in {log_dir}", flush=True)
    stack = Stack(cfg)
    exit_on_sigterm()
    watch = report.LoadWatch()
    started = time.monotonic()
    out: dict = {}
    try:
        stack.prepare_backends()
        stack.start_simulators()
        clients = data.create_clients(stack.settings())
        stack.start_servers()
        profiler = Profiler(find_py_spy(), log_dir / "profiles", idle=not a.profile_cpu) if a.profile else None
        out["http"] = http_phase(stack, a, wrk, load, clients, profiler)
        out["memory_after_http"] = {"lms": stack.gunicorn_worker_memory("lms"),
                                    "baseline": stack.gunicorn_worker_memory("baseline")}
        if loans > 0:
            print(f"  pipeline: {loans} loans, {cfg.rq_workers} workers ...", flush=True)
            out["pipeline"] = run_pipeline(stack, loans)
        out["memory_after_run"] = {"lms": stack.gunicorn_worker_memory("lms"),
                                   "baseline": stack.gunicorn_worker_memory("baseline")}
    finally:
        stack.stop()
    out["load"] = {**watch.finish(), "wall_s": round(time.monotonic() - started, 1)}
    machine = report.machine_info(wrk_version(wrk), cfg.database_url, cfg.redis_url)
    lines = summary(out["http"], out["memory_after_run"]["lms"], out.get("pipeline"))
    payload = {**report.header(name, settings, machine), **out, "summary": lines}
    path = report.write(name, payload)
    print("\n" + "\n".join(lines))
    print(f"machine busy {out['load']['machine_busy_pct']} % (load avg {out['load']['loadavg_after']}); "
          f"wrote {path}")
    if out.get("pipeline"):
        print("pipeline ms per loan:", json.dumps(out["pipeline"]["per_loan_ms"]))
        print("pipeline CPU ms per loan:", json.dumps(out["pipeline"].get("cpu_ms_per_loan")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
