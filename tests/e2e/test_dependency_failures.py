"""Failing dependencies against real processes: the CBS, the scoring engine, Redis and PostgreSQL
going away (behind TCP proxies we cut), answering slowly, garbage, HTML 500s or SOAP faults.

One gunicorn LMS serves the whole module (starting one costs seconds); every dependency it uses
sits behind a switch the tests control:

    LMS --> TcpProxy --> CbsSwitch (the CBS simulator, healthy or built with a failure knob)
        --> TcpProxy --> EngineFront (the scoring simulator; chosen calls of chosen customers fail)
        --> TcpProxy --> the test Redis
        --> TcpProxy --> the test PostgreSQL (only when the test database is PostgreSQL)

Scoring runs in a real worker process (tests.support.processes.Worker) that reaches the engine
through the same proxy and the database and Redis directly. Each test restores every dependency
when it ends, and checks that every loan it got accepted ends in a final state, exactly once.
"""
from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from redis import Redis
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine, make_url

from lms_soap.models.tables import customers, loans
from lms_soap.sandbox import cbs_simulator, scoring_simulator
from tests.conftest import empty_tables, make_settings
from tests.e2e.conftest import FINAL, Stack
from tests.support.processes import Gunicorn, Worker
from tests.support.servers import serve_wsgi
from tests.support.soap import basic, envelope, fault_detail, faultcode, post, validate_body
from tests.support.tcp_proxy import TcpProxy

#: Seconds every outbound call of the LMS may take (connect and read), CBS and engine alike.
TIMEOUT = 0.5
#: What a "slow" dependency takes to answer: well past TIMEOUT.
SLOW = 1.0
AMOUNT = Decimal("100.00")  # below every synthetic customer's limit (5000 at least)


# --- the dependencies' switches -----------------------------------------------------------------
class CbsSwitch:
    """The CBS simulator, healthy or built with one of its failure knobs; `mode` picks which."""

    def __init__(self):
        self.apps = {
            None: cbs_simulator.create_app(),
            "slow": cbs_simulator.create_app(latency=SLOW),
            "garbage": cbs_simulator.create_app(fail="garbage"),
            "http500": cbs_simulator.create_app(fail="http500"),
            "fault": cbs_simulator.create_app(fail="fault"),
        }
        self.mode: str | None = None

    def __call__(self, environ, start_response):
        return self.apps[self.mode](environ, start_response)


GARBAGE = b"<html>\n<body>502 Bad Gateway</body>\n</html>\n"


class EngineFront:
    """The scoring simulator, with the calls of chosen customers failing.

    rules: customer number -> (call, how); call is "initiate" or "query"; how is
    "slow" (the simulator's latency knob: answers after SLOW seconds), "http500" (its
    failure_rate=1.0 knob), "garbage" (HTTP 200 with an HTML page) or "notready" (404: the
    score is not ready yet). queryScore calls are tied to a customer by the score token that
    initiate handed out.
    """

    def __init__(self):
        self.sim = scoring_simulator.create_app(not_ready_polls=1)
        self.slow = scoring_simulator.create_app(latency=SLOW)
        self.broken = scoring_simulator.create_app(failure_rate=1.0)
        self.rules: dict[str, tuple[str, str]] = {}
        self._owner: dict[str, str] = {}  # score token -> customer number
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        call = customer = None
        if path.startswith(scoring_simulator.INITIATE_PREFIX):
            call, customer = "initiate", path[len(scoring_simulator.INITIATE_PREFIX):]
        elif path.startswith(scoring_simulator.QUERY_PREFIX):
            with self._lock:
                call, customer = "query", self._owner.get(path[len(scoring_simulator.QUERY_PREFIX):])
        rule = self.rules.get(customer) if call else None
        if rule is not None and rule[0] == call:
            how = rule[1]
            if how == "garbage":
                start_response("200 OK", [("Content-Type", "text/html"),
                                          ("Content-Length", str(len(GARBAGE)))])
                return [GARBAGE]
            if how == "notready":
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"status":404,"error":"score not ready"}']
            return {"slow": self.slow, "http500": self.broken}[how](environ, start_response)
        if call != "initiate":
            return self.sim(environ, start_response)
        answer = {}

        def start(status, headers, exc_info=None):
            answer["status"] = status
            return start_response(status, headers, exc_info)

        body = b"".join(self.sim(environ, start))
        if answer.get("status", "").startswith("200"):
            with self._lock:
                self._owner[json.loads(body)] = customer
        return [body]


# --- the module's LMS -----------------------------------------------------------------------
def _via(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))


@dataclass
class Rig:
    stack: Stack
    direct_settings: object  # the gunicorn settings with the direct database and Redis: for workers
    db: Engine  # direct, for assertions
    cbs: CbsSwitch
    engine: EngineFront
    cbs_proxy: TcpProxy
    engine_proxy: TcpProxy
    redis_proxy: TcpProxy
    db_proxy: TcpProxy | None
    wsdl: bytes

    @property
    def url(self) -> str:
        return self.stack.url

    def call(self, role: str, operation: str, fields: str = "") -> requests.Response:
        return post(self.url, envelope(operation, fields), basic(*self.stack.creds[role]))

    def ok(self, role: str, operation: str, fields: str = "", cbs_retries: int = 0) -> requests.Response:
        """A call that must succeed. cbs_retries: on the healthy path, a CBS answer slower than
        the 0.5 s timeout (a loaded machine) is retried that many times instead of failing."""
        for _ in range(cbs_retries + 1):
            response = self.call(role, operation, fields)
            if response.status_code == 200 or faultcode(response) != "Server.CoreBankingUnavailable":
                break
            time.sleep(0.2)
        assert response.status_code == 200, (operation, response.status_code, response.text[:500])
        validate_body(self.wsdl, response.content)
        return response

    def worker(self) -> Worker:
        """A worker process on the direct database and Redis (RQ state flushed first, so no
        scheduler lock of an earlier worker delays it); it reaches the engine through the proxy."""
        Redis.from_url(self.direct_settings.redis_url).flushdb()
        return Worker(self.direct_settings, reconcile_interval=0.5)

    def loan_rows(self, numbers) -> list:
        with self.db.connect() as conn:
            return list(conn.execute(select(loans).where(loans.c.customer_number.in_(list(numbers)))))

    def loan_row(self, loan_id: str):
        with self.db.connect() as conn:
            return conn.execute(select(loans).where(loans.c.id == loan_id)).one()

    def customer_row(self, number: str):
        with self.db.connect() as conn:
            return conn.execute(select(customers).where(customers.c.customer_number == number)).one_or_none()


@pytest.fixture(scope="module")
def rig(database_url, redis_url):
    empty_tables(database_url)
    Redis.from_url(redis_url).flushdb()
    cbs, engine = CbsSwitch(), EngineFront()
    redis_parts = urlsplit(redis_url)
    db_url = make_url(database_url)
    with contextlib.ExitStack() as exit_stack:
        cbs_url = exit_stack.enter_context(serve_wsgi(cbs))
        engine_url = exit_stack.enter_context(serve_wsgi(engine))
        cbs_proxy = exit_stack.enter_context(TcpProxy("127.0.0.1", urlsplit(cbs_url).port))
        engine_proxy = exit_stack.enter_context(TcpProxy("127.0.0.1", urlsplit(engine_url).port))
        redis_proxy = exit_stack.enter_context(TcpProxy(redis_parts.hostname or "127.0.0.1",
                                                             redis_parts.port or 6379))
        db_proxy = None
        lms_database_url = database_url
        if db_url.get_backend_name() == "postgresql":
            db_proxy = exit_stack.enter_context(TcpProxy(db_url.host or "127.0.0.1", db_url.port or 5432))
            lms_database_url = db_url.set(host="127.0.0.1", port=db_proxy.port).render_as_string(
                hide_password=False)
        cbs_via = _via(cbs_url, cbs_proxy)
        settings = make_settings(
            lms_database_url, _via(redis_url, redis_proxy),
            cbs_customer_url=f"{cbs_via}{cbs_simulator.CUSTOMER_PATH}",
            cbs_transactions_url=f"{cbs_via}{cbs_simulator.TRANSACTIONS_PATH}",
            scoring_base_url=_via(engine_url, engine_proxy),
            cbs_connect_timeout=TIMEOUT, cbs_read_timeout=TIMEOUT,
            scoring_connect_timeout=TIMEOUT, scoring_read_timeout=TIMEOUT,
            redis_timeout=TIMEOUT, db_connect_timeout=2)
        gunicorn = exit_stack.enter_context(Gunicorn(settings, workers=2))
        stack = Stack(settings, gunicorn)  # API clients, and createClient at the engine
        stack.container.close()
        direct = gunicorn.settings.replace(database_url=database_url, redis_url=redis_url)
        db = create_engine(database_url)
        exit_stack.callback(db.dispose)
        wsdl = requests.get(f"{gunicorn.url}/soap?wsdl", timeout=10).content
        yield Rig(stack, direct, db, cbs, engine, cbs_proxy, engine_proxy, redis_proxy, db_proxy, wsdl)
    Redis.from_url(redis_url).flushdb()


@pytest.fixture(autouse=True)
def healthy(rig):
    """Every dependency healthy before and after each test, whatever the test did."""
    yield
    rig.cbs.mode = None
    rig.engine.rules.clear()
    for proxy in (rig.cbs_proxy, rig.engine_proxy, rig.redis_proxy, rig.db_proxy):
        if proxy is not None:
            proxy.restore()


# --- helpers ----------------------------------------------------------------------------------
def customer(number: str) -> str:
    return f"<tns:customerNumber>{number}</tns:customerNumber>"


def submit_fields(number: str, amount: Decimal = AMOUNT, request_id: str | None = None) -> str:
    rid = f"<tns:requestId>{request_id}</tns:requestId>" if request_id else ""
    return f"{customer(number)}<tns:amount>{amount}</tns:amount>{rid}"


def field(response: requests.Response, name: str) -> str | None:
    from lxml import etree

    found = etree.fromstring(response.content).find(f".//{{urn:lms-soap:v1}}{name}")
    return None if found is None else found.text


def assert_fault(rig: Rig, response: requests.Response, expected: str) -> None:
    """A catalogue SOAP fault: HTTP 500, text/xml, the faultcode, the same code in the detail,
    valid per the WSDL, no HTML, no traceback or SQL."""
    assert response.status_code == 500, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers["Content-Type"]
    assert faultcode(response) == expected, response.text[:500]
    assert fault_detail(response)["code"] == expected.split(".", 1)[1]
    validate_body(rig.wsdl, response.content)
    text = response.text.lower()
    assert "traceback" not in text and "<html" not in text and "select " not in text


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def status_of(row) -> str:
    return getattr(row.status, "value", row.status)


def wait_final(rig: Rig, loan_ids, timeout: float = 30.0) -> dict:
    """Loan rows by id, once every one is in a final state."""
    def settled():
        rows = {loan_id: rig.loan_row(loan_id) for loan_id in loan_ids}
        return rows if all(status_of(r) in FINAL for r in rows.values()) else None

    try:
        return wait_until(settled, timeout, "loans to settle", interval=0.1)
    except AssertionError:
        rows = {i: (status_of(r), r.status_reason, r.initiate_attempts, r.scoring_attempts)
                for i, r in ((i, rig.loan_row(i)) for i in loan_ids)}
        raise AssertionError(f"loans not settled within {timeout}s: {rows}") from None


def assert_each_accepted_loan_settled_once(rig: Rig, accepted: dict[str, list[str]]) -> None:
    """accepted: customer number -> the loan ids SubmitLoan returned. The database holds exactly
    those loans for those customers (none lost, none duplicated), each in a final state."""
    expected = sorted(i for ids in accepted.values() for i in ids)
    rows = rig.loan_rows(accepted)
    assert sorted(r.id for r in rows) == expected, "a loan was lost or duplicated"
    assert len(set(expected)) == len(expected)
    for row in rows:
        assert status_of(row) in FINAL, (row.id, status_of(row))
    request_ids = [r.request_id for r in rows if r.request_id]
    assert len(request_ids) == len(set(request_ids))


def submit(rig: Rig, number: str, accepted: dict[str, list[str]], request_id: str | None = None) -> str:
    response = rig.ok("bank", "SubmitLoan", submit_fields(number, request_id=request_id))
    assert field(response, "status") == "PENDING"
    loan_id = field(response, "loanId")
    accepted.setdefault(number, []).append(loan_id)
    return loan_id


def register(rig: Rig, *numbers: str) -> None:
    for number in numbers:
        rig.ok("bank", "RegisterCustomer", customer(number), cbs_retries=2)


def rest_transactions(rig: Rig, number: str, cbs_retries: int = 0) -> requests.Response:
    for _ in range(cbs_retries + 1):
        response = requests.get(f"{rig.url}/api/v1/transactions/{number}", auth=rig.stack.creds["scoring"],
                                timeout=10)
        if response.status_code != 503:
            break
        time.sleep(0.2)
    return response


# --- the Core Banking System ------------------------------------------------------------------
CBS_FAILURES = ("down", "slow", "garbage", "http500", "fault")


def test_core_banking_failures_store_nothing_and_loans_keep_working(rig):
    known = "700000101"
    register(rig, known)
    refreshed = rig.customer_row(known).kyc_refreshed_at
    accepted: dict[str, list[str]] = {}
    newcomers = {mode: f"7000002{i:02d}" for i, mode in enumerate(CBS_FAILURES)}
    for mode, newcomer in newcomers.items():
        outage = rig.cbs_proxy.down(refuse=True) if mode == "down" else contextlib.nullcontext()
        rig.cbs.mode = None if mode == "down" else mode
        with outage:
            started = time.monotonic()
            assert_fault(rig, rig.call("bank", "RegisterCustomer", customer(newcomer)),
                         "Server.CoreBankingUnavailable")
            assert time.monotonic() - started < 5 * TIMEOUT + 2, f"{mode}: the CBS timeout was not applied"
            # a registered customer's refresh fails the same way and keeps the stored snapshot
            assert_fault(rig, rig.call("bank", "RegisterCustomer", customer(known)),
                         "Server.CoreBankingUnavailable")
            assert_fault(rig, rig.call("scoring", "GetTransactions", customer(known)),
                         "Server.CoreBankingUnavailable")
            rest = rest_transactions(rig, known)
            assert rest.status_code == 503, (mode, rest.status_code, rest.text[:300])
            assert rest.headers["Content-Type"] == "application/json"
            assert rest.json()["faultcode"] == "Server.CoreBankingUnavailable"
            if mode == "down":
                # SubmitLoan works from the stored KYC snapshot: the CBS is not needed
                loan_id = submit(rig, known, accepted, request_id="cbs-down-1")
                assert field(rig.ok("bank", "GetCustomer", customer(known)), "loanId") == loan_id
                assert field(rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),
                             "status") == "PENDING"
        rig.cbs.mode = None
        assert rig.customer_row(newcomer) is None, f"{mode}: a customer was stored from a failed KYC call"
        assert rig.customer_row(known).kyc_refreshed_at == refreshed, f"{mode}: the KYC snapshot changed"

    # the CBS is back: the same calls succeed, without restarting anything
    # (on a loaded machine a healthy CBS may still answer past 0.5 s once: such a call is retried)
    response = rig.ok("bank", "RegisterCustomer", customer(newcomers["down"]), cbs_retries=2)
    assert field(response, "alreadyRegistered") == "false"
    response = rig.ok("bank", "RegisterCustomer", customer(known), cbs_retries=2)
    assert field(response, "alreadyRegistered") == "true"
    assert rig.customer_row(known).kyc_refreshed_at > refreshed
    rig.ok("scoring", "GetTransactions", customer(known), cbs_retries=2)
    rest = rest_transactions(rig, known, cbs_retries=2)
    assert rest.status_code == 200 and isinstance(rest.json(), list) and rest.json()
    # no worker ran: settle the loan ourselves
    rig.ok("bank", "CancelLoan", f"<tns:loanId>{accepted[known][0]}</tns:loanId>")
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- the scoring engine ---------------------------------------------------------------------------
def test_scoring_engine_down_fails_loans_cleanly_and_recovery_scores_them(rig):
    lost_early, held, recovers, later = "700000301", "700000302", "700000303", "700000304"
    register(rig, lost_early, held, recovers, later)
    accepted: dict[str, list[str]] = {}
    with rig.worker():
        # `held` gets its score token, then the engine keeps saying "not ready"
        rig.engine.rules[held] = ("query", "notready")
        held_loan = submit(rig, held, accepted)
        wait_until(lambda: rig.loan_row(held_loan).scoring_attempts >= 1, 15, "the first poll")

        with rig.engine_proxy.down():  # the engine goes away mid-scoring
            never_initiated = submit(rig, lost_early, accepted)
            rows = wait_final(rig, [never_initiated, held_loan])
            assert (status_of(rows[never_initiated]), rows[never_initiated].status_reason) == (
                "FAILED", "SCORING_UNAVAILABLE")
            assert rows[never_initiated].initiate_attempts == rig.stack.settings.scoring_max_initiate_attempts
            assert (status_of(rows[held_loan]), rows[held_loan].status_reason) == (
                "FAILED", "SCORING_TIMEOUT")
            assert rows[held_loan].scoring_attempts == rig.stack.settings.scoring_max_attempts

            # a loan whose first initiate fails, and the engine comes back before its last one
            midway = submit(rig, recovers, accepted)
            wait_until(lambda: rig.loan_row(midway).initiate_attempts >= 1, 15, "a failed initiate")
            assert status_of(rig.loan_row(midway)) == "PENDING"
        rig.engine.rules.clear()
        row = wait_final(rig, [midway])[midway]
        assert (status_of(row), row.status_reason) == ("APPROVED", "WITHIN_LIMIT")
        history = rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{midway}</tns:loanId>")
        assert "SCORING_STARTED" in history.text

        # the engine is back: new loans, including those of customers whose loan failed, are approved
        again = [submit(rig, number, accepted) for number in (lost_early, held, later)]
        rows = wait_final(rig, again)
        assert all(status_of(r) == "APPROVED" for r in rows.values()), {
            i: (status_of(r), r.status_reason) for i, r in rows.items()}
    assert_each_accepted_loan_settled_once(rig, accepted)


ENGINE_FAILURES = {  # customer -> (the call that fails, how), and the loan's expected end
    "700000401": (("initiate", "slow"), "SCORING_UNAVAILABLE"),
    "700000402": (("initiate", "garbage"), "SCORING_UNAVAILABLE"),
    "700000403": (("initiate", "http500"), "SCORING_UNAVAILABLE"),
    "700000404": (("query", "slow"), "SCORING_TIMEOUT"),
    "700000405": (("query", "garbage"), "SCORING_TIMEOUT"),
    "700000406": (("query", "http500"), "SCORING_TIMEOUT"),
}


def test_scoring_engine_slow_garbage_or_500_fails_loans_then_scores_new_ones(rig):
    control = "700000408"  # no failure: scored while the others' calls fail
    register(rig, control, *ENGINE_FAILURES)
    accepted: dict[str, list[str]] = {}
    for number, (rule, _) in ENGINE_FAILURES.items():
        rig.engine.rules[number] = rule
    with rig.worker():
        first = {number: submit(rig, number, accepted, request_id=f"eng-{number}-1")
                 for number in (*ENGINE_FAILURES, control)}
        rows = wait_final(rig, first.values(), timeout=45)
        for number, (rule, reason) in ENGINE_FAILURES.items():
            row = rows[first[number]]
            assert (status_of(row), row.status_reason) == ("FAILED", reason), (number, rule)
            if reason == "SCORING_UNAVAILABLE":
                assert row.initiate_attempts == rig.stack.settings.scoring_max_initiate_attempts
                assert row.scoring_attempts == 0
            else:
                assert row.scoring_attempts == rig.stack.settings.scoring_max_attempts
        assert status_of(rows[first[control]]) == "APPROVED"
        # a repeated requestId answers the same (failed) loan: nothing is submitted twice
        repeat = rig.ok("bank", "SubmitLoan", submit_fields("700000401", request_id="eng-700000401-1"))
        assert field(repeat, "loanId") == first["700000401"] and field(repeat, "status") == "FAILED"

        rig.engine.rules.clear()  # the engine behaves again
        second = [submit(rig, number, accepted, request_id=f"eng-{number}-2") for number in ENGINE_FAILURES]
        rows = wait_final(rig, second)
        assert all(status_of(r) == "APPROVED" for r in rows.values()), {
            i: (status_of(r), r.status_reason) for i, r in rows.items()}
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- Redis ------------------------------------------------------------------------------------
def readyz(rig: Rig) -> requests.Response:
    return requests.get(f"{rig.url}/readyz", timeout=10)


def test_redis_down_during_submit_accepts_the_loan_and_scores_it_once_back(rig):
    number = "700000501"
    register(rig, number)
    accepted: dict[str, list[str]] = {}
    assert readyz(rig).status_code == 200
    with rig.redis_proxy.down():
        ready = readyz(rig)
        assert ready.status_code == 503 and "redis: down" in ready.text, ready.text
        started = time.monotonic()
        loan_id = submit(rig, number, accepted, request_id="redis-down-1")
        assert time.monotonic() - started < 5, "SubmitLoan waited on the dead Redis"
        again = rig.ok("bank", "SubmitLoan", submit_fields(number, request_id="redis-down-1"))
        assert field(again, "loanId") == loan_id
    ready = readyz(rig)
    assert ready.status_code == 200, ready.text
    assert status_of(rig.loan_row(loan_id)) == "PENDING"  # its job was never queued: no one scored it
    with rig.worker():  # the reconciler finds the overdue loan and queues it
        row = wait_final(rig, [loan_id])[loan_id]
    assert status_of(row) == "APPROVED"
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- PostgreSQL -------------------------------------------------------------------------------
def test_postgresql_restart_answers_service_unavailable_then_recovers(rig):
    if rig.db_proxy is None:
        pytest.skip("the test database is SQLite (LMS_TEST_DB=sqlite or no PostgreSQL on :5432): "
                    "there is no database server to take away")
    number, other = "700000601", "700000602"
    register(rig, number, other)
    accepted: dict[str, list[str]] = {}
    loan_id = submit(rig, number, accepted)
    # pooled connections in every gunicorn worker
    for _ in range(4):
        rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")

    with rig.db_proxy.down():  # PostgreSQL "restarts": every connection dropped, none accepted
        # REST first: these credentials were last used long before (not in the 5 s cache)
        rest = requests.get(f"{rig.url}/api/v1/transactions/{number}", auth=rig.stack.creds["scoring"],
                            timeout=10)
        assert rest.status_code == 503 and rest.json()["faultcode"] == "Server.ServiceUnavailable", rest.text
        for role, operation, fields in (
                ("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),  # credentials cached
                ("bank", "ListLoans", customer(number)),
                ("bank", "SubmitLoan", submit_fields(other)),
                ("admin", "GetCustomer", customer(number)),  # credentials read from the database
                ("bank", "CancelLoan", f"<tns:loanId>{loan_id}</tns:loanId>")):
            started = time.monotonic()
            assert_fault(rig, rig.call(role, operation, fields), "Server.ServiceUnavailable")
            assert time.monotonic() - started < 5, f"{operation} waited on the dead database"
        ready = readyz(rig)
        assert ready.status_code == 503 and "database: down" in ready.text, ready.text

    # back, without restarting gunicorn: the very next requests succeed (pool_pre_ping)
    for _ in range(4):
        response = rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")
        assert field(response, "status") == "PENDING"
    assert readyz(rig).status_code == 200
    rig.ok("admin", "GetCustomer", customer(number))

    # a drop no request saw: the pooled connections die while idle, the server is back at once
    rig.db_proxy.cut()
    rig.db_proxy.restore()
    for _ in range(4):
        rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")
    rig.ok("bank", "CancelLoan", f"<tns:loanId>{loan_id}</tns:loanId>")
    assert rig.loan_rows([other]) == []  # the SubmitLoan of the outage stored nothing
    assert_each_accepted_loan_settled_once(rig, accepted)
