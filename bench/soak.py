#!/usr/bin/env python
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
them). Example:

    DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/lms_soak \\
        .venv/bin/python bench/soak.py --duration 60 --threads 8
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (python bench/soak.py), Python puts bench/ first on sys.path, where modules of
# the benchmarks (bench/http.py) would shadow the standard library's: use the repository root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from lxml import etree  # noqa: E402

TNS = "urn:lms-soap:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
FINAL = {"APPROVED", "REJECTED", "FAILED", "CANCELLED", "CLOSED"}
ONGOING = {"PENDING", "SCORING", "APPROVED"}
#: Faults a correct LMS gives to this traffic (it submits for unregistered customers, cancels
#: decided loans, reuses requestIds on purpose...). Anything else is counted as an error.
EXPECTED_FAULTS = {
    "Client.CustomerNotRegistered", "Client.LoanInProgress", "Client.InvalidLoanState",
    "Client.IdempotencyConflict", "Client.AmountExceedsOutstanding", "Client.LoanNotFound",
}
DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/lms_soak"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"


# --- processes --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Children:
    """The processes this script started; stopped (by pid, SIGTERM then SIGKILL) at the end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                log = self.log_dir / f"{name}.log"
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def wait_http(url: str, children: Children, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children.check_alive()
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def child_pids(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(stat.parent.name))
        return pids


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the VmRSS of every gunicorn worker (children of the master) once a second."""

    def __init__(self, master_pid: int, interval: float = 1.0):
        super().__init__(name="rss-sampler", daemon=True)
        self.master_pid, self.interval = master_pid, interval
        self.samples: list[tuple[float, int, int]] = []  # (monotonic time, pid, kB)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            now = time.monotonic()
            for pid in child_pids(self.master_pid):
                kb = rss_kb(pid)
                if kb is not None:
                    self.samples.append((now, pid, kb))
            self.stopped.wait(self.interval)


# --- SOAP -------------------------------------------------------------------------------------------
def envelope(operation: str, fields: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}" '
            f'xmlns:tns="{TNS}"><soap:Body><tns:{operation}>{fields}</tns:{operation}></soap:Body>'
            f"</soap:Envelope>").encode()


def tag(name: str, value) -> str:
    return "" if value is None else f"<tns:{name}>{value}</tns:{name}>"


@dataclass
class Answer:
    ok: bool
    fault: str | None = None
    doc: etree._Element | None = None

    def text(self, name: str) -> str | None:
        found = None if self.doc is None else self.doc.find(f".//{{{TNS}}}{name}")
        return None if found is None else found.text


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter = field(default_factory=Counter)  # operation -> count
    outcomes: Counter = field(default_factory=Counter)  # faultcode or "OK" -> count
    errors: Counter = field(default_factory=Counter)  # unexpected outcome -> count
    latency: dict = field(default_factory=lambda: defaultdict(list))  # operation -> seconds
    problems: list = field(default_factory=list)  # violated invariants seen live

    def record(self, operation: str, outcome: str, seconds: float, unexpected: bool) -> None:
        with self.lock:
            self.calls[operation] += 1
            self.outcomes[outcome] += 1
            self.latency[operation].append(seconds)
            if unexpected:
                self.errors[f"{operation}: {outcome}"] += 1

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)


class Client:
    """One thread's HTTP session, with the bank and scoring credentials."""

    def __init__(self, url: str, bank: tuple[str, str], scoring: tuple[str, str], stats: Stats):
        self.url, self.stats = url, stats
        self.bank = requests.Session()
        self.bank.auth = bank
        self.scoring = requests.Session()
        self.scoring.auth = scoring

    def soap(self, operation: str, fields: str = "", session: requests.Session | None = None) -> Answer:
        started = time.perf_counter()
        try:
            response = (session or self.bank).post(
                f"{self.url}/soap", data=envelope(operation, fields), timeout=30,
                headers={"Content-Type": "text/xml; charset=utf-8"})
        except requests.RequestException as exc:
            outcome = f"transport:{type(exc).__name__}"
            self.stats.record(operation, outcome, time.perf_counter() - started, True)
            return Answer(False, outcome)
        elapsed = time.perf_counter() - started
        try:
            doc = etree.fromstring(response.content)
            if etree.QName(doc).namespace != SOAP_ENV:
                raise ValueError("not a SOAP envelope")
        except (etree.XMLSyntaxError, ValueError):
            outcome = f"not-soap:HTTP {response.status_code} {response.headers.get('Content-Type')}"
            self.stats.record(operation, outcome, elapsed, True)
            return Answer(False, outcome)
        code = doc.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode")
        if code:
            code = code.split(":", 1)[-1]
            self.stats.record(operation, code, elapsed, code not in EXPECTED_FAULTS)
            return Answer(False, code, doc)
        if response.status_code != 200:
            self.stats.record(operation, f"HTTP {response.status_code}", elapsed, True)
            return Answer(False, f"HTTP {response.status_code}")
        self.stats.record(operation, "OK", elapsed, False)
        return Answer(True, None, doc)

    def rest_transactions(self, number: str) -> None:
        started = time.perf_counter()
        operation = "REST:transactions"
        try:
            response = self.scoring.get(f"{self.url}/api/v1/transactions/{number}", timeout=30)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            outcome = f"transport:{type(exc).__name__}"
            self.stats.record(operation, outcome, time.perf_counter() - started, True)
            return
        ok = response.status_code == 200 and isinstance(body, list)
        fault = body.get("faultcode") if isinstance(body, dict) else None
        outcome = "OK" if ok else fault or f"HTTP {response.status_code}"
        self.stats.record(operation, outcome, time.perf_counter() - started, not ok)


# --- the traffic ------------------------------------------------------------------------------------
@dataclass
class Ledger:
    """What the LMS told us: accepted loans, requestIds, loans seen APPROVED (with outstanding)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    loans: dict = field(default_factory=dict)  # loanId -> (customer, requestId)
    by_customer: dict = field(default_factory=lambda: defaultdict(list))
    request_ids: dict = field(default_factory=dict)  # requestId -> (loanId, customer, amount)
    approved: dict = field(default_factory=dict)  # loanId -> outstanding Decimal
    registered: set = field(default_factory=set)  # customers RegisterCustomer accepted

    def accept(self, loan_id: str, customer: str, request_id: str | None, amount: Decimal,
               stats: Stats) -> None:
        with self.lock:
            if loan_id not in self.loans:
                self.loans[loan_id] = (customer, request_id)
                self.by_customer[customer].append(loan_id)
            if request_id:
                seen = self.request_ids.setdefault(request_id, (loan_id, customer, amount))
                if seen[0] != loan_id:
                    stats.problem(f"requestId {request_id} answered loans {seen[0]} and {loan_id}")


def traffic(client: Client, ledger: Ledger, customers: list[str], rng: random.Random, deadline: float,
            max_iterations: int, thread_no: int, stop: threading.Event) -> None:
    stats = client.stats
    own_request_ids: list[str] = []
    seq = itertools.count()
    operations = ["register", "submit", "submit", "status", "status", "list", "cancel", "repay", "repay",
                  "transactions", "rest"]
    for _ in range(max_iterations):
        if time.monotonic() > deadline or stop.is_set():
            return
        op = rng.choice(operations)
        number = rng.choice(customers)
        if op != "register" and rng.random() < 0.9:  # mostly customers known to be registered
            with ledger.lock:
                if ledger.registered:
                    number = rng.choice(tuple(ledger.registered))
        if op == "register":
            if client.soap("RegisterCustomer", tag("customerNumber", number)).ok:
                with ledger.lock:
                    ledger.registered.add(number)
        elif op == "submit":
            roll = rng.random()
            if own_request_ids and roll < 0.2:  # a retry of an earlier request: the same loan back
                request_id = rng.choice(own_request_ids)
                with ledger.lock:
                    _, number, amount = ledger.request_ids.get(request_id, (None, number, Decimal("100.00")))
            else:
                request_id = f"soak-{thread_no}-{next(seq)}" if roll < 0.8 else None
                amount = Decimal(rng.choice(["50.00", "250.00", "1000.00", "4000.00", "9000.00", "60000.00"]))
            if request_id and roll < 0.03 and own_request_ids:  # deliberately conflicting reuse
                amount += Decimal("1.00")
            answer = client.soap("SubmitLoan", tag("customerNumber", number) + tag("amount", amount)
                                 + tag("requestId", request_id))
            if answer.ok:
                ledger.accept(answer.text("loanId"), number, request_id, amount, stats)
                if request_id and request_id not in own_request_ids:
                    own_request_ids.append(request_id)
        elif op in ("status", "cancel"):
            with ledger.lock:
                mine = list(ledger.by_customer.get(number, ()))
            if not mine:
                client.soap("GetLoanStatus", tag("customerNumber", number))
                continue
            loan_id = rng.choice(mine)
            if op == "cancel" and rng.random() < 0.5:
                client.soap("CancelLoan", tag("loanId", loan_id) + tag("reason", "soak"))
                continue
            answer = client.soap("GetLoanStatus", tag("loanId", loan_id))
            if answer.ok and answer.text("status") == "APPROVED":
                with ledger.lock:
                    ledger.approved[loan_id] = Decimal(answer.text("outstanding") or "0")
        elif op == "list":
            client.soap("ListLoans", tag("customerNumber", number) + tag("limit", 10))
        elif op == "repay":
            with ledger.lock:
                candidates = [(i, o) for i, o in ledger.approved.items() if o > 0]
            if not candidates:
                client.soap("ListLoans", tag("customerNumber", number) + tag("status", "APPROVED"))
                continue
            loan_id, outstanding = rng.choice(candidates)
            amount = outstanding if rng.random() < 0.6 else (outstanding / 2).quantize(Decimal("0.01"))
            amount = max(amount, Decimal("0.01"))
            reference = f"R-{thread_no}-{next(seq)}"
            answer = client.soap("RepayLoan", tag("loanId", loan_id) + tag("amount", amount)
                                 + tag("reference", reference))
            if answer.ok:
                with ledger.lock:
                    ledger.approved[loan_id] = Decimal(answer.text("outstanding") or "0")
                if rng.random() < 0.2:  # the same reference again: idempotent (checked in the database)
                    client.soap("RepayLoan", tag("loanId", loan_id) + tag("amount", amount)
                                + tag("reference", reference))
        elif op == "transactions":
            client.soap("GetTransactions", tag("customerNumber", number), session=client.scoring)
        else:
            client.rest_transactions(number)


# --- setup and checks -------------------------------------------------------------------------------
def prepare_database(url: str, reset: bool) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from lms_soap.models import migrate
    from lms_soap.models.tables import metadata

    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": parsed.database}).scalar():
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
    engine = create_engine(url)
    migrate.upgrade(engine)
    if reset:
        names = [t.name for t in reversed(metadata.sorted_tables)]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
            else:
                for name in names:
                    conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


def create_clients(settings) -> dict[str, tuple[str, str]]:
    from lms_soap.bootstrap import build_container
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.model import Role

    container = build_container(settings)
    try:
        creds = {}
        for role in ("bank", "scoring", "admin"):
            client, secret = add_client(f"soak-{role}", Role(role), container.uow(), container.box,
                                        container.clock, generate_secret, rotate=True)
            creds[role] = (client.username, secret)
        return creds
    finally:
        container.close()


def loan_rows(database_url: str, numbers: list[str]) -> list:
    """The loans of these customers, each with the sum of its repayments (`repaid`)."""
    from sqlalchemy import create_engine, func, select

    from lms_soap.models.tables import loans, repayments

    repaid = (select(repayments.c.loan_id, func.sum(repayments.c.amount).label("repaid"))
              .group_by(repayments.c.loan_id).subquery())
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(
                select(loans.c.id, loans.c.customer_number, loans.c.status, loans.c.status_reason,
                       loans.c.request_id, loans.c.amount, loans.c.outstanding, repaid.c.repaid)
                .outerjoin(repaid, repaid.c.loan_id == loans.c.id)
                .where(loans.c.customer_number.in_(numbers))))
    finally:
        engine.dispose()


def status_of(row) -> str:
    return getattr(row.status, "value", row.status)


def memory_report(sampler: RssSampler, start: float, end: float,
                  limit_mb: float) -> tuple[list[str], list[str]]:
    third = (end - start) / 3
    lines, violations = [], []
    by_pid = defaultdict(list)
    for t, pid, kb in sampler.samples:
        if start <= t <= end:
            by_pid[pid].append((t, kb))
    for pid, samples in sorted(by_pid.items()):
        first = [kb for t, kb in samples if t < start + third]
        last = [kb for t, kb in samples if t >= end - third]
        peak = max(kb for _, kb in samples) / 1024
        if not first or not last:
            lines.append(f"  worker pid {pid}: not alive for the whole run (recycled?), peak {peak:.1f} MB")
            continue
        a, b = statistics.mean(first) / 1024, statistics.mean(last) / 1024
        growth = b - a
        verdict = "ok" if growth <= limit_mb else "TOO MUCH"
        lines.append(f"  worker pid {pid}: first third {a:.1f} MB, last third {b:.1f} MB, "
                     f"growth {growth:+.1f} MB (limit {limit_mb} MB) {verdict}; peak {peak:.1f} MB")
        if growth > limit_mb:
            violations.append(f"gunicorn worker {pid} RSS grew {growth:.1f} MB (> {limit_mb} MB)")
    if not by_pid:
        violations.append("no gunicorn worker RSS samples (is /proc readable?)")
    return lines, violations


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    children = Children(log_dir)
    print(f"soak: database {settings.database_url.split('@')[-1]}, redis {a.redis_url}, logs in {log_dir}")
    try:
        try:
            prepare_database(a.database_url, reset=not a.no_reset)
            children.start("cbs", ["lms_soap.cli", "simulate", "cbs", "--port", str(cbs_port)], env)
            children.start("scoring", ["lms_soap.cli", "simulate", "scoring", "--port", str(scoring_port)],
                           env)
            gunicorn = children.start("gunicorn", ["lms_soap.cli", "serve", "--bind", f"127.0.0.1:{lms_port}",
                                                   "--workers", str(a.workers), "--threads",
                                                   str(a.gunicorn_threads)], env)
            children.start("worker", ["lms_soap.cli", "worker"], env)
            wait_http(f"http://127.0.0.1:{cbs_port}/service/customer?wsdl", children)
            wait_http(f"http://127.0.0.1:{scoring_port}/_sim/health", children)
            wait_http(f"{lms_url}/readyz", children)
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
        stats, ledger, stop = Stats(), Ledger(), threading.Event()
        # warm-up (not measured): every process has served each kind of call once
        warm = Client(lms_url, creds["bank"], creds["scoring"], Stats())
        for _ in range(a.workers * a.gunicorn_threads * 2):
            warm.soap("RegisterCustomer", tag("customerNumber", customers[0]))
            warm.soap("GetLoanStatus", tag("customerNumber", customers[0]))
            warm.soap("GetTransactions", tag("customerNumber", customers[0]), session=warm.scoring)

        sampler = RssSampler(gunicorn.pid)
        sampler.start()
        started = time.monotonic()
        deadline = started + a.duration
        threads = [threading.Thread(target=traffic, name=f"soak-{i}", daemon=True,
                                    args=(Client(lms_url, creds["bank"], creds["scoring"], stats), ledger,
                                          customers, random.Random(a.seed * 1000 + i), deadline,
                                          a.max_iterations, i, stop))
                   for i in range(a.threads)]
        for t in threads:
            t.start()
        try:
            for t in threads:
                t.join()
        except KeyboardInterrupt:
            stop.set()
            for t in threads:
                t.join()
        ended = time.monotonic()
        time.sleep(1.1)  # one more RSS sample after the last request
        sampler.stopped.set()
        sampler.join()
        children.check_alive()

        # scoring settles
        settle_started = time.monotonic()
        while True:
            rows = loan_rows(a.database_url, customers)
            busy = [r for r in rows if status_of(r) in ("PENDING", "SCORING")]
            if not busy or time.monotonic() - settle_started > a.settle_timeout:
                break
            time.sleep(0.5)
        settle_seconds = time.monotonic() - settle_started

        # checks
        violations = list(stats.problems)
        by_id = {r.id: r for r in rows}
        not_final = [i for i in ledger.loans if i not in by_id or status_of(by_id[i]) not in FINAL]
        if not_final:
            examples = [(i, status_of(by_id[i]) if i in by_id else "missing") for i in not_final[:5]]
            violations.append(f"{len(not_final)} accepted loans not in a final state (or missing), "
                              f"e.g. {examples}")
        per_request = Counter(r.request_id for r in rows if r.request_id)
        duplicated = [rid for rid, n in per_request.items() if n > 1]
        if duplicated:
            violations.append(f"requestIds naming several loans: {duplicated[:5]}")
        ongoing = Counter(r.customer_number for r in rows if status_of(r) in ONGOING)
        crowded = [c for c, n in ongoing.items() if n > 1]
        if crowded:
            violations.append(f"customers with more than one ongoing loan: {crowded[:5]}")
        wrong_balance = [r.id for r in rows if r.repaid is not None
                         and Decimal(r.amount) - Decimal(r.repaid) != Decimal(r.outstanding or 0)]
        if wrong_balance:
            violations.append(f"loans whose outstanding is not amount - repayments: {wrong_balance[:5]}")
        internal = {k: v for k, v in stats.outcomes.items()
                    if k == "Server.InternalError" or k.startswith(("not-soap", "transport", "HTTP"))}
        if internal:
            violations.append(f"internal errors or non-SOAP answers: {internal}")
        unacknowledged = len([r for r in rows if r.id not in ledger.loans])
        memory_lines, memory_violations = memory_report(sampler, started, ended, a.max_rss_growth_mb)
        violations += memory_violations

        # summary
        seconds = ended - started
        total = sum(stats.calls.values())
        print(f"\n=== soak summary: {seconds:.1f} s, {a.threads} threads, gunicorn "
              f"{a.workers}x{a.gunicorn_threads}, {a.customers} customers ===")
        print(f"requests: {total} ({total / seconds:.1f}/s)")
        for operation, count in sorted(stats.calls.items()):
            lat = stats.latency[operation]
            print(f"  {operation:<18} {count:>7}   p50 {percentile(lat, .5) * 1000:7.1f} ms   "
                  f"p95 {percentile(lat, .95) * 1000:7.1f} ms   max {max(lat) * 1000:7.1f} ms")
        print("outcomes:")
        for outcome, count in stats.outcomes.most_common():
            marker = "" if outcome == "OK" or outcome in EXPECTED_FAULTS else "   <- unexpected"
            print(f"  {outcome:<36} {count:>7}{marker}")
        if stats.errors:
            print("errors (unexpected outcomes) by operation:")
            for key, count in stats.errors.most_common():
                print(f"  {key:<52} {count:>6}")
        else:
            print("errors: none")
        statuses = Counter(status_of(r) for r in rows)
        reasons = Counter(f"{status_of(r)}/{r.status_reason}" for r in rows if status_of(r) != "APPROVED")
        print(f"loans: {len(rows)} in the database, {len(ledger.loans)} accepted by this run "
              f"({unacknowledged} stored without an answer seen), settled {settle_seconds:.1f} s "
              f"after the traffic")
        print("  by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        print("  by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
        print(f"  requestIds used: {len(ledger.request_ids)}; loans with repayments: "
              f"{sum(1 for r in rows if r.repaid is not None)}, of which closed: "
              f"{sum(1 for r in rows if r.repaid is not None and status_of(r) == 'CLOSED')}")
        print("memory (VmRSS of the gunicorn workers, averages of 1 s samples):")
        for line in memory_lines:
            print(line)
        if violations:
            print("\nCHECKS FAILED:")
            for v in violations:
                print(f"  - {v}")
            return 1
        print("\nchecks: all accepted loans final; no duplicate requestId; at most one ongoing loan per "
              "customer; balances = amount - repayments; no internal error; worker memory flat. OK")
        return 0
    finally:
        children.stop_all()


if __name__ == "__main__":
    sys.exit(main())
