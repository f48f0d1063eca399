"""Soak test: the whole LMS under mixed SOAP traffic for a while, then consistency and memory checks.

Starts, as child processes: the CBS and scoring simulators (`lms-soap simulate ...`), the LMS under
gunicorn (`lms-soap serve`) and a job worker (`lms-soap worker`); migrates the database, creates
the API clients and registers with the scoring engine (ScoringRegister). Then N threads drive
RegisterCustomer, SubmitLoan (requestIds, some repeated, a few reused with another amount),
GetLoanStatus, ListLoans, CancelLoan, RepayLoan (on loans seen APPROVED), GetTransactions (SOAP) and
the REST transactions endpoint, on synthetic customers (700000000 + offset ...), for --duration
seconds or --max-iterations per thread, whichever comes first.

Afterwards it waits for scoring to settle and checks:
  - every loan SubmitLoan accepted is in a final state (APPROVED, REJECTED, FAILED, CANCELLED, CLOSED);
  - no requestId names two loans (neither in the answers nor in the database);
  - no customer has more than one ongoing loan (PENDING, SCORING, APPROVED);
  - no Server.InternalError, no answer that is not a SOAP envelope (or JSON, for REST);
  - the RSS (VmRSS) of each gunicorn worker did not grow by more than --max-rss-growth-mb between
    the first and the last third of the run (averages of samples taken every second).
Prints a summary and exits 1 when a check fails (2 when the stack could not start).

Not run in CI. Needs a PostgreSQL (DATABASE_URL, or --database-url) and a Redis (REDIS_URL, or
--redis-url). Point it at a disposable database: its tables are emptied first (--no-reset keeps
them). Run it from the repository root, as a module. Example:

    DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/lms_soak \\
        .venv/bin/python -m bench.soak --duration 60 --threads 8
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if not __package__:  # run as a path (python bench/soak): the relative imports below need the package
    sys.exit("run the soak test as a module, from the repository root: python -m bench.soak [options]")

import requests  # noqa: E402

from lms_soap.sandbox.processes import Children, free_port  # noqa: E402

from .checks import consistency_violations, verdict, wait_settled  # noqa: E402
from .client import Stats, envelope  # noqa: E402
from .database import create_clients, prepare_database  # noqa: E402
from .memory import RssSampler, memory_report  # noqa: E402
from .processes import ROOT, start_stack  # noqa: E402
from .summary import print_summary  # noqa: E402
from .traffic import Ledger, drive, warm_up  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/lms_soak"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=60.0, help="seconds of traffic (default 60)")
    p.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    p.add_argument("--max-iterations", type=int, default=100_000,
                   help="upper bound of requests per thread (default 100000)")
    p.add_argument("--customers", type=int, default=150, help="synthetic customers used (default 150)")
    p.add_argument("--customer-base", type=int, default=700_000_000,
                   help="first synthetic customer number (700000000..799999999)")
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    p.add_argument("--no-reset", action="store_true", help="keep the database's rows (default: empty it)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--gunicorn-threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    p.add_argument("--max-rss-growth-mb", type=float, default=25.0,
                   help="allowed RSS growth of a gunicorn worker, first to last third (default 25 MB)")
    p.add_argument("--settle-timeout", type=float, default=120.0,
                   help="seconds to wait for scoring to finish after the traffic (default 120)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-dir", help="where the children's logs go (default: a temporary folder)")
    a = p.parse_args(argv)

    from lms_soap.config import load_settings

    log_dir = Path(a.log_dir or tempfile.mkdtemp(prefix="lms-soak-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    lms_port, cbs_port, scoring_port = free_port(), free_port(), free_port()
    lms_url = f"http://127.0.0.1:{lms_port}"
    env_settings = {
        "DATABASE_URL": a.database_url,
        "REDIS_URL": a.redis_url,
        "QUEUE_NAME": f"lms-soak-{os.getpid()}",  # a fresh queue: no job or scheduler lock of an earlier run
        "LMS_PUBLIC_URL": lms_url,
        "LMS_SECRET_KEY": os.environ.get("LMS_SECRET_KEY", "soak-secret-key-not-for-production"),
        "CBS_CUSTOMER_URL": f"http://127.0.0.1:{cbs_port}/service/customer",
        "CBS_TRANSACTIONS_URL": f"http://127.0.0.1:{cbs_port}/service/transaction-data",
        "SCORING_BASE_URL": f"http://127.0.0.1:{scoring_port}",
        "SCORING_BACKOFF_BASE": "0.2",
        "SCORING_BACKOFF_MAX": "2",
        "RECONCILE_INTERVAL": "5",
        "RECONCILE_GRACE": "3",
        "LOG_LEVEL": "WARNING",
    }
    env = {**os.environ, **env_settings, "SCORING_SIM_NOT_READY_POLLS": "0",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    settings = load_settings(env)
    children = Children(log_dir, cwd=ROOT)
    print(f"soak: database {settings.database_url.split('@')[-1]}, redis {a.redis_url}, logs in {log_dir}")
    try:
        try:
            prepare_database(a.database_url, reset=not a.no_reset)
            gunicorn = start_stack(children, env, lms_port=lms_port, cbs_port=cbs_port,
                                   scoring_port=scoring_port, workers=a.workers, threads=a.gunicorn_threads)
            creds = create_clients(settings)
            admin = requests.Session()
            admin.auth = creds["admin"]
            answer = admin.post(f"{lms_url}/soap", data=envelope("ScoringRegister"), timeout=30,
                                headers={"Content-Type": "text/xml; charset=utf-8"})
            if answer.status_code != 200:
                raise RuntimeError(f"ScoringRegister failed: {answer.text[:300]}")
        except Exception as exc:  # noqa: BLE001
            print(f"soak: could not start the stack: {exc}", file=sys.stderr)
            return 2

        customers = [str(a.customer_base + i) for i in range(a.customers)]
        stats, ledger = Stats(), Ledger()
        warm_up(lms_url, creds, customers[0], rounds=a.workers * a.gunicorn_threads * 2)  # not measured

        sampler = RssSampler(gunicorn.pid)
        sampler.start()
        started = time.monotonic()
        drive(lms_url, creds, customers, stats, ledger, threads=a.threads, seed=a.seed,
              deadline=started + a.duration, max_iterations=a.max_iterations)
        ended = time.monotonic()
        time.sleep(1.1)  # one more RSS sample after the last request
        sampler.stopped.set()
        sampler.join()
        children.check_running()

        rows, settle_seconds = wait_settled(a.database_url, customers, a.settle_timeout)
        violations = consistency_violations(rows, ledger, stats)
        memory_lines, memory_violations = memory_report(sampler, started, ended, a.max_rss_growth_mb)
        violations += memory_violations
        print_summary(stats, ledger, rows, seconds=ended - started, settle_seconds=settle_seconds,
                      memory_lines=memory_lines, threads=a.threads, workers=a.workers,
                      gunicorn_threads=a.gunicorn_threads, customers=a.customers)
        return verdict(violations)
    finally:
        children.stop(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
