"""The HTTP half of a run: each SOAP operation of the LMS under wrk, bracketed by the baseline.

The baseline is measured before the first operation and again after each one; an operation's
ratio is its throughput over the mean of the two baseline measurements around it, so a machine
that gets busier or quieter during the run (other test suites share it) moves both sides.
"""
from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

from lms_soap.models.db import build_engine

from bench import data
from bench.load import Figures, Load, basic_token, measure
from bench.profiling import Profiler, summarize
from bench.stack import Stack, cpu_delta

OPERATIONS = ("RegisterCustomer", "SubmitLoan", "GetLoanStatus", "GetTransactions")


def _show(label: str, f: Figures, reference: float | None = None) -> None:
    ratio = f"  = {f.rps / reference:6.1%} of the baseline" if reference else ""
    if reference and f.extra.get("cpu_cost_ratio_to_baseline"):
        ratio += f" (CPU cost: {f.extra['cpu_cost_ratio_to_baseline']:.1%})"
    errors = f"  ERRORS {f.errors}" if f.error_count else ""
    cpu = f.extra.get("cpu_ms_per_request") or {}
    used = " ".join(f"{k} {v:.2f}" for k, v in cpu.items() if v >= 0.01)
    cpu_text = f"\n  {'':18} CPU ms/request: {used}" if used else ""
    share = f.extra.get("lms_worker_cpu_share")
    cpu_text += f"; CPU share per LMS worker {share}" if share else ""
    print(f"  {label:18} {f.rps:8.1f} req/s  p50 {f.p50_ms:6.2f} ms  p99 {f.p99_ms:6.2f} ms{ratio}{errors}"
          f"{cpu_text}", flush=True)


def _print_profile(label: str, profile: dict) -> None:
    print(f"    profile of {label} ({profile['samples']} samples; inclusive %, then self %):")
    for name, pct in profile["inclusive_pct"][:18]:
        print(f"      {pct:5.1f}  {name}")
    for name, pct in profile["self_pct"][:12]:
        print(f"      self {pct:5.1f}  {name}")


class HttpRun:
    def __init__(self, stack: Stack, a: argparse.Namespace, wrk: str, load: Load, clients: dict,
                 profiler: Profiler | None):
        self.stack, self.a, self.wrk, self.load, self.profiler = stack, a, wrk, load, profiler
        self.bank = {"BENCH_BASIC": basic_token(*clients["bank"])}
        self.scoring = {"BENCH_BASIC": basic_token(*clients["scoring"])}
        self.engine = build_engine(stack.settings())  # SQLite too: its busy timeout and pragmas
        self.results: dict[str, dict] = {}
        self.baselines: list[float] = []
        self.baseline_cpu: list[float] = []

    def baseline(self) -> Figures:
        index = len(self.baselines)
        start = data.BLOCKS["baseline"] + index * 1_000_000
        cpu: dict[str, dict] = {}

        @contextlib.contextmanager
        def during():
            cpu["before"] = self.stack.cpu_seconds()
            yield
            cpu["after"] = self.stack.cpu_seconds()

        f = measure(self.wrk, self.stack.urls["baseline"], "baseline.lua",
                    {**self.bank, "BENCH_FIRST": str(start)}, self.load, during=during)
        used = {"baseline": cpu_delta(cpu["before"], cpu["after"], f.requests)["baseline"],
                "wrk": round(1000 * f.extra.pop("wrk_cpu_s", 0.0) / (f.requests or 1), 3)}
        used["total"] = round(used["baseline"] + used["wrk"], 3)
        f.extra["cpu_ms_per_request"] = used
        self.baseline_cpu.append(used["total"])
        _show(f"baseline #{index + 1}", f)
        self.results[f"baseline_{index + 1}"] = f.as_dict()
        self.baselines.append(f.rps)
        return f

    def operation(self, name: str, script: str, env: dict, warm_env: dict | None = None) -> Figures:
        """An operation of the LMS: connections opened counted, profiled on --profile, then the
        next baseline measured and the ratio taken against the two around it."""
        label = script.removesuffix(".lua")
        cpu: dict[str, dict] = {}

        @contextlib.contextmanager
        def during():
            cpu["before"] = self.stack.cpu_seconds()
            cpu["workers_before"] = self.stack.gunicorn_worker_cpu("lms")
            if self.profiler is None:
                yield
            else:
                pids = [m["pid"] for m in self.stack.gunicorn_worker_memory("lms")]
                with self.profiler.record(label, pids, self.load.duration):
                    yield
            cpu["after"] = self.stack.cpu_seconds()
            cpu["workers_after"] = self.stack.gunicorn_worker_cpu("lms")

        sessions = self.stack.pg_sessions()
        f = measure(self.wrk, self.stack.urls["lms"], script, env, self.load, warm_env=warm_env,
                    during=during)
        f.extra["pg_connections_opened"] = self.stack.pg_sessions() - sessions - 1  # -1: the reading's own
        used = cpu_delta(cpu["before"], {**cpu["after"]}, f.requests)
        used["wrk"] = round(1000 * f.extra.pop("wrk_cpu_s", 0.0) / (f.requests or 1), 3)
        used["total"] = round(used["total"] + used["wrk"], 3)
        f.extra["cpu_ms_per_request"] = used
        # How the 8 keep-alive connections spread over the workers: each one's share of their CPU.
        spent = {pid: after - cpu["workers_before"].get(pid, 0.0) for pid, after in cpu["workers_after"].items()}
        f.extra["lms_worker_cpu_share"] = [round(v / (sum(spent.values()) or 1), 2) for v in spent.values()]
        if self.profiler is not None:
            f.extra["profile"] = summarize(sorted(self.profiler.out_dir.glob(f"{label}-*.collapsed")))
        before, before_cpu = self.baselines[-1], self.baseline_cpu[-1]
        after = self.baseline().rps
        reference = (before + after) / 2
        f.extra["baseline_rps"] = round(reference, 1)
        f.extra["ratio_to_baseline"] = round(f.rps / reference, 3) if reference else None
        # The same comparison in CPU time per request (all our processes, wrk included): what
        # the ratio would be on a machine that only ran this benchmark and was CPU-bound.
        reference_cpu = (before_cpu + self.baseline_cpu[-1]) / 2
        f.extra["cpu_cost_ratio_to_baseline"] = (round(reference_cpu / used["total"], 3)
                                                 if used["total"] else None)
        _show(name, f, reference)
        if self.profiler is not None:
            _print_profile(label, f.extra["profile"])
        self.results[name] = f.as_dict()
        return f

    def run(self) -> dict:
        a, bank = self.a, self.bank
        ops = [op.strip() for op in a.ops.split(",") if op.strip()]
        first_baseline = self.baseline()
        if "RegisterCustomer" in ops:
            first = data.BLOCKS["register"]
            self.operation("RegisterCustomer", "register_customer.lua",
                           {**bank, "BENCH_FIRST": str(first + 5_000_000)},
                           {**bank, "BENCH_FIRST": str(first)})
        served = self.stack.cfg.served  # then the worker beside the LMS runs from the start
        if a.scoring_during_http and not served:
            self.stack.start_workers()
        if "SubmitLoan" in ops:
            self.submit_loan(first_baseline.rps)
        if not a.scoring_during_http and not served:
            self.stack.start_workers()
        settled, waited = data.wait_settled(self.engine, timeout=900)
        self.results["settle"] = {"settled": settled, "seconds": round(waited, 1)}
        print(f"  (scoring of the submitted loans settled: {settled}, after {waited:.1f} s)", flush=True)
        if "GetLoanStatus" in ops:
            self.get_loan_status()
        if "GetTransactions" in ops:
            data.preregister(self.engine, data.BLOCKS["transactions"], 1000)  # served for registered only
            self.operation("GetTransactions", "get_transactions.lua",
                           {**self.scoring, "BENCH_FIRST": str(data.BLOCKS["transactions"]),
                            "BENCH_COUNT": "1000"})
        self.results["baseline_rps"] = round(sum(self.baselines) / len(self.baselines), 1)
        self.engine.dispose()
        return self.results

    def submit_loan(self, ceiling_rps: float) -> None:
        # Customers to pre-register: the LMS cannot outrun the bare baseline.
        warm_n = int(ceiling_rps * self.load.warmup * 1.5) + 200
        run_n = int(ceiling_rps * self.load.duration * 1.5) + 200
        first = data.BLOCKS["submit"]
        took = data.preregister(self.engine, first, warm_n + run_n)
        print(f"  (pre-registered {warm_n + run_n} customers in {took:.1f} s)", flush=True)
        f = self.operation("SubmitLoan", "submit_loan.lua", {**self.bank, "BENCH_FIRST": str(first + warm_n)},
                           {**self.bank, "BENCH_FIRST": str(first)})
        f.extra["customers_available"] = run_n
        f.extra["loans_created"] = data.count_loans(self.engine, first + warm_n, run_n)
        self.results["SubmitLoan"] = f.as_dict()
        if f.requests > run_n:
            print("  WARNING: SubmitLoan ran out of pre-registered customers", flush=True)

    def get_loan_status(self) -> None:
        ids = data.decided_loan_ids(self.engine, 5000)
        if not ids:
            print("  GetLoanStatus skipped: no decided loan (run SubmitLoan too)", flush=True)
            return
        ids_file = Path(tempfile.mkstemp(prefix="bench-loan-ids-", suffix=".txt")[1])
        try:
            ids_file.write_text("\n".join(ids) + "\n")
            f = self.operation("GetLoanStatus", "get_loan_status.lua",
                               {**self.bank, "BENCH_IDS_FILE": str(ids_file)})
            f.extra["distinct_loans"] = len(ids)
            self.results["GetLoanStatus"] = f.as_dict()
        finally:
            ids_file.unlink()


def http_phase(stack: Stack, a: argparse.Namespace, wrk: str, load: Load, clients: dict,
               profiler: Profiler | None = None) -> dict:
    return HttpRun(stack, a, wrk, load, clients, profiler).run()
