"""One operation called through the LMS's WSGI application in this process, one thread, no
HTTP: the CPU our code spends per request, apart from gunicorn, the sockets and the GIL's
hand-offs that `bench.run` measures around it (issue 15).

    .venv/bin/python -m bench.inprocess --op SubmitLoan --db postgresql --calls 2000
    .venv/bin/python -m bench.inprocess --op GetLoanStatus --db sqlite --profile

Prints the CPU milliseconds per call of this process (`time.process_time`, so the database
server's and the simulators' own CPU is not in it) and of PostgreSQL's backend of the run, the
wall time per call, and with --profile the heaviest functions by cProfile (its overhead
inflates the totals; read the shares). Like `bench.run` it drops and migrates `lms_bench`
(or a fresh SQLite file) and flushes Redis database 9; the CBS and scoring simulators run as
child processes (RegisterCustomer's KYC, the registration with the engine).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from base64 import b64encode
from pathlib import Path

from sqlalchemy import text

from bench import data
from bench.stack import Stack, StackConfig

OPS = ("SubmitLoan", "GetLoanStatus", "RegisterCustomer", "ScoringSteps")
ENVELOPE = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope '
            'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tns="urn:lms-soap:v1">'
            '<soap:Body><tns:{op}>{fields}</tns:{op}></soap:Body></soap:Envelope>')


def fields(op: str, n: int, loan_ids: list[str]) -> str:
    if op == "SubmitLoan":
        return (f"<tns:customerNumber>{n:09d}</tns:customerNumber><tns:amount>1000.00</tns:amount>"
                f"<tns:requestId>bench-{n:09d}</tns:requestId>")
    if op == "GetLoanStatus":
        return f"<tns:loanId>{loan_ids[n % len(loan_ids)]}</tns:loanId>"
    return f"<tns:customerNumber>{n:09d}</tns:customerNumber>"


class Caller:
    def __init__(self, app, username: str, password: str):
        self.app = app
        self.auth = "Basic " + b64encode(f"{username}:{password}".encode()).decode()

    def __call__(self, op: str, body: str) -> bytes:
        raw = body.encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "QUERY_STRING": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
                   "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "text/xml; charset=utf-8",
                   "CONTENT_LENGTH": str(len(raw)), "HTTP_AUTHORIZATION": self.auth,
                   "HTTP_SOAPACTION": f'"{op}"', "wsgi.input": io.BytesIO(raw),
                   "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO()}
        status = []
        out = b"".join(self.app(environ, lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{op} answered {status[0]}: {out[:600]!r}")
        return out


def show_statements(engine, one_call) -> None:
    """Print the SQL statements one call sends, in order."""
    from sqlalchemy import event

    sent: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", before)
    try:
        one_call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    print(f"{len(sent)} statements in one call:")
    for i, statement in enumerate(sent, 1):
        print(f"  {i}. {statement[:300]}")


def postgres_cpu(stack: Stack) -> float:
    """CPU seconds of the PostgreSQL backends of the run's database so far (0 on SQLite)."""
    return stack.cpu_seconds().get("postgres", 0.0)


class LaterClock:
    """The system clock, `ahead` seconds on: the scoring step after the first is due at once."""

    def __init__(self, ahead: float = 0.0):
        self.ahead = ahead

    def now(self):
        from datetime import datetime, timedelta, timezone

        return datetime.now(timezone.utc) + timedelta(seconds=self.ahead)


def scoring_steps(a: argparse.Namespace, stack: Stack, settings, profiler) -> None:
    """`advance_scoring` (what the worker's job runs) for every loan until it is decided: the
    initiate step, then the poll that finds the score (the engine answers at once), against the
    scoring simulator, which pulls the transactions from the LMS served beside it."""
    from decimal import Decimal

    from bench.pipeline import NotingQueue
    from lms_soap.bootstrap import build_container
    from lms_soap.lending.loans import submit_loan
    from lms_soap.lending.model import Caller, Role
    from lms_soap.lending.scoring import advance_scoring

    stack.start_servers(baseline=False)
    container = build_container(settings)
    first = data.BLOCKS["pipeline"]
    total = a.warmup + a.calls
    data.preregister(container.engine, first, total)
    noted = NotingQueue()
    for n in range(first, first + total):
        submit_loan(str(n), Decimal("1000.00"), f"pipe-{n}", container.uow(), noted, container.clock,
                    container.loan_policy, caller=Caller("bench-pipeline", Role.BANK))
    policy = container.scoring_policy
    steps = [0]

    def decide(loan_ids, clock_ahead):
        for loan_id in loan_ids:
            for ahead in (0.0, clock_ahead):
                status = advance_scoring(loan_id, container.uow(), container.scoring_engine, noted,
                                         container.box, LaterClock(ahead), policy)
                steps[0] += 1
                assert status is not None, (loan_id, ahead)
        return steps[0]

    later = policy.backoff_max + 5  # past any back-off
    decide(noted.loan_ids[:a.warmup], later)
    steps[0] = 0
    pg_before = postgres_cpu(stack)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    decide(noted.loan_ids[a.warmup:total], later)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pg_cpu = postgres_cpu(stack) - pg_before
    print(f"ScoringSteps on {a.db}, {a.calls} loans ({steps[0]} steps) in this process: "
          f"{1000 * cpu / a.calls:.3f} ms CPU per loan (PostgreSQL backends {1000 * pg_cpu / a.calls:.3f}), "
          f"{1000 * wall / a.calls:.3f} ms wall per loan")
    container.close()


def run(a: argparse.Namespace) -> None:
    from lms_soap import gc_tuning
    from lms_soap.logs import configure_logging
    from lms_soap.app import create_app

    log_dir = Path(tempfile.mkdtemp(prefix="lms-inprocess-"))
    if a.op == "ScoringSteps" and a.db != "postgresql":
        raise SystemExit("error: ScoringSteps runs on PostgreSQL only")
    # ScoringSteps serves the LMS (the engine pulls transactions from it): as the web tier alone,
    # with no `lms-soap worker` beside it that would take the loans' steps first.
    served_db = None if a.op == "ScoringSteps" else a.db
    cfg = StackConfig(log_dir=log_dir, db=served_db, env={"LOG_LEVEL": a.log_level})
    stack = Stack(cfg)
    try:
        stack.prepare_backends()
        stack.start_simulators()
        settings = stack.settings()
        clients = data.create_clients(settings)
        if a.op == "ScoringSteps":
            profiler = cProfile.Profile(time.process_time) if a.profile else None
            scoring_steps(a, stack, settings, profiler)
            print_profile(a, profiler)
            return
        # As lms_soap/wsgi.py does in every gunicorn worker: its JSON logs (the access line is
        # part of a request's cost), to a file here; the server's GC tuning and GIL interval.
        configure_logging(settings.log_level)
        logging.getLogger().handlers[0].setStream(open(log_dir / "lms.log", "w"))  # noqa: SIM115
        app = create_app(settings)
        gc_tuning.tune_for_server()
        sys.setswitchinterval(settings.serve_switch_interval)
        engine = app.container.engine
        call = Caller(app, *clients["bank"])
        first = data.BLOCKS["submit"]
        total = a.warmup + a.calls + 1  # the last one for --show-sql, outside the measured calls
        loan_ids: list[str] = []
        if a.op in ("SubmitLoan", "GetLoanStatus"):
            data.preregister(engine, first, total)
        if a.op == "GetLoanStatus":
            for n in range(first, first + total):
                call("SubmitLoan", ENVELOPE.format(op="SubmitLoan", fields=fields("SubmitLoan", n, [])))
            with engine.connect() as conn:
                loan_ids = list(conn.execute(text("SELECT id FROM loans")).scalars())
        elif a.op == "RegisterCustomer":
            first = data.BLOCKS["register"]
        bodies = [ENVELOPE.format(op=a.op, fields=fields(a.op, n, loan_ids)) for n in range(first, first + total)]
        for body in bodies[:a.warmup]:
            call(a.op, body)
        if a.show_sql:
            show_statements(engine, lambda: call(a.op, bodies[-1]))
        pg_before = postgres_cpu(stack)
        profiler = cProfile.Profile(time.process_time) if a.profile else None  # CPU, not wall
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for body in bodies[a.warmup:-1]:
            call(a.op, body)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        pg_cpu = postgres_cpu(stack) - pg_before
        n = a.calls
        print(f"{a.op} on {a.db}, {n} calls in this process: {1000 * cpu / n:.3f} ms CPU per call "
              f"(PostgreSQL backends {1000 * pg_cpu / n:.3f}), {1000 * wall / n:.3f} ms wall per call")
        print_profile(a, profiler)
        app.container.close()
    finally:
        stack.stop()


def print_profile(a: argparse.Namespace, profiler) -> None:
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(a.sort).print_stats(a.top)
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--op", choices=OPS, default="SubmitLoan")
    p.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--profile", action="store_true", help="cProfile the measured calls")
    p.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    p.add_argument("--show-sql", action="store_true", help="print the statements of one call first")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--log-level", default="INFO", help="the LMS's LOG_LEVEL (the sandbox's INFO)")
    run(p.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
