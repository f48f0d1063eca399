"""The scoring pipeline benchmark: N loans from submission to decision.

    .venv/bin/python -m bench.pipeline [--loans 1000] [--rq-workers 2] [--name NAME]
    (bench.run runs it too, after the HTTP benchmarks, on the same stack)

How: N synthetic customers are pre-registered; N loans are submitted directly through the use case
(lending.loans.submit_loan, in this process, with a queue that only notes the ids), so the loans
sit PENDING and due; then, with the workers idle and ready, every loan's first job is queued
through the production queue adapter (lms_soap.clients.rq_queue.RqJobQueue) and the clock starts. The scoring
simulator answers at once (SCORING_SIM_NOT_READY_POLLS=0), so each loan takes two jobs: initiate
(the engine pulls the transactions from the LMS's REST endpoint, which reads them from the CBS)
and, after the configured back-off (SCORING_BACKOFF_BASE, 1 s by default, via RQ's scheduler),
queryScore and the decision. The clock stops at the last decision (the latest decided_at).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone
from decimal import Decimal

import requests
from sqlalchemy import select

from bench import data, report
from bench.stack import Stack, StackConfig, cpu_delta, exit_on_sigterm
from lms_soap.models.tables import loans


class NotingQueue:
    """A JobQueue that queues nothing: it notes which loans want a job."""

    def __init__(self):
        self.loan_ids: list[str] = []

    def schedule_scoring(self, loan_id: str, at=None) -> None:
        self.loan_ids.append(loan_id)


def run_pipeline(stack: Stack, count: int, timeout: float = 600.0) -> dict:
    from lms_soap.bootstrap import build_container
    from lms_soap.lending.loans import submit_loan
    from lms_soap.lending.model import Caller, Role

    settings = stack.settings()
    container = build_container(settings)
    engine = container.engine
    first = data.BLOCKS["pipeline"]
    try:
        preregister_s = data.preregister(engine, first, count)
        noted = NotingQueue()
        started = time.perf_counter()
        for n in range(first, first + count):
            submit_loan(str(n), Decimal("1000.00"), f"pipe-{n}", container.uow(), noted, container.clock,
                        container.loan_policy, caller=Caller("bench-pipeline", Role.BANK))
        submit_s = time.perf_counter() - started
        stack.stop_workers()  # fresh workers: their timers count this run only
        stack.start_workers()
        cpu_before = stack.cpu_seconds()
        t0 = datetime.now(timezone.utc)
        started = time.perf_counter()
        for loan_id in noted.loan_ids:
            container.queue.schedule_scoring(loan_id)
        enqueue_s = time.perf_counter() - started
        done = _wait_decided(engine, first, count, timeout)
        cpu_used = cpu_delta(cpu_before, stack.cpu_seconds(), count)
        stats = _worker_stats(stack)
        sim = requests.get(f"{stack.urls['scoring']}/_sim/state", timeout=5).json()
        figures = _figures(engine, noted.loan_ids, t0, count, done, stats, sim,
                        {"preregister_s": round(preregister_s, 2), "submit_s": round(submit_s, 2),
                         "submit_per_s": round(count / submit_s, 1), "enqueue_s": round(enqueue_s, 3)},
                        settings)
        figures["cpu_ms_per_loan"] = cpu_used  # the harness's own enqueueing is not in it
        return figures
    finally:
        container.close()


def _wait_decided(engine, first: int, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        by_status = data.count_loans(engine, first, count)
        if sum(by_status.get(s, 0) for s in data.DECIDED) >= count:
            return True
        time.sleep(0.1)
    return False


def _worker_stats(stack: Stack) -> list[dict]:
    stack.stop_workers()  # warm shutdown; each writes its timers
    stats = []
    for path in stack.worker_stats:
        if path.exists():
            stats.append(json.loads(path.read_text()))
    stack.worker_stats.clear()
    return stats


def _figures(engine, loan_ids, t0, count, done, stats, sim, submission, settings) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(select(loans.c.status, loans.c.decided_at).where(loans.c.id.in_(loan_ids))).all()
    decided_at = [r.decided_at for r in rows if r.decided_at is not None]
    latencies = sorted((d - t0).total_seconds() for d in decided_at)
    elapsed = latencies[-1] if latencies else None
    by_status: dict[str, int] = {}
    for r in rows:
        key = getattr(r.status, "value", r.status)
        by_status[key] = by_status.get(key, 0) + 1
    total = {k: sum(s.get(k, 0) for s in stats) for k in
             ("jobs", "job_s", "steps", "step_s", "engine_calls", "engine_s", "initiate_calls",
              "query_calls")}
    jobs = total["jobs"] or 1

    def ms(seconds: float, per: float) -> float:
        return round(1000 * seconds / per, 2)

    return {
        "loans": count, "all_decided": done, "by_status": by_status,
        "seconds_to_last_decision": round(elapsed, 2) if elapsed else None,
        "loans_decided_per_s": round(len(latencies) / elapsed, 1) if elapsed else None,
        "decision_latency_s": {"p50": round(statistics.median(latencies), 2) if latencies else None,
                               "max": round(elapsed, 2) if elapsed else None},
        "rq_workers": len(stats), "backoff_base_s": settings.scoring_backoff_base,
        "jobs": total["jobs"], "jobs_per_loan": round(total["jobs"] / count, 2),
        "per_job_ms": {"rq_job": ms(total["job_s"], jobs), "lms_step": ms(total["step_s"], jobs),
                       "engine_calls": ms(total["engine_s"], jobs),
                       "lms_overhead": ms(total["step_s"] - total["engine_s"], jobs),
                       "rq_overhead": ms(total["job_s"] - total["step_s"], jobs)},
        "per_loan_ms": {"job_overhead": ms(total["job_s"] - total["engine_s"], count),
                        "lms_overhead": ms(total["step_s"] - total["engine_s"], count),
                        "rq_overhead": ms(total["job_s"] - total["step_s"], count),
                        "engine_calls": ms(total["engine_s"], count)},
        "engine_calls": {"initiate": total["initiate_calls"], "queryScore": total["query_calls"]},
        "simulator": {k: sim.get(k) for k in ("initiations", "polls", "results", "fetch_failures")},
        "submission": submission,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", default=f"pipeline-{datetime.now():%Y%m%d-%H%M%S}")
    p.add_argument("--loans", type=int, default=1000)
    p.add_argument("--rq-workers", type=int, default=2)
    p.add_argument("--workers", type=int, default=2,
                   help="gunicorn workers of the LMS (it serves the engine's transaction pulls)")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    a = p.parse_args(argv)
    cfg = StackConfig(workers=a.workers, threads=a.threads, rq_workers=a.rq_workers,
                      env=dict(kv.split("=", 1) for kv in a.env))
    stack = Stack(cfg)
    exit_on_sigterm()
    watch = report.LoadWatch()
    try:
        stack.prepare_backends()
        stack.start_simulators()
        data.create_clients(stack.settings())
        stack.start_servers(baseline=False)
        figures = run_pipeline(stack, a.loans)
    finally:
        stack.stop()
    payload = {**report.header(a.name, {"loans": a.loans, "rq_workers": a.rq_workers, "env": cfg.env},
                               report.machine_info(database_url=cfg.database_url)),
               "load": watch.finish(), "pipeline": figures}
    print(json.dumps(figures, indent=2))
    print(f"wrote {report.write(a.name, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
