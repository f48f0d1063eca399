"""The LMS of tests/e2e/test_dependency_failures.py, every dependency behind a switch the tests
control (the fakes of dependency_fakes.py, TCP proxies to cut), and the calls and checks its tests
make on it (register, submit, wait for loans to settle, a catalogue fault, each loan settled once)."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

import requests
from lxml import etree
from redis import Redis
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine, make_url

from lms_soap.models.tables import customers, loans
from lms_soap.sandbox import cbs_simulator
from tests.conftest import empty_tables, make_settings
from tests.e2e.conftest import FINAL, Stack
from tests.e2e.dependency_fakes import CbsSwitch, EngineFront
from tests.support.processes import Gunicorn, Worker
from tests.support.servers import serve_wsgi
from tests.support.soap import basic, envelope, fault_detail, faultcode, post, validate_body
from tests.support.tcp_proxy import TcpProxy

#: Seconds every outbound call of the LMS may take (connect and read), CBS and engine alike.
TIMEOUT = 0.5
AMOUNT = Decimal("100.00")  # below every synthetic customer's limit (5000 at least)


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

    def restore(self) -> None:
        """Every dependency healthy again, whatever a test did to it."""
        self.cbs.mode = None
        self.engine.rules.clear()
        for proxy in (self.cbs_proxy, self.engine_proxy, self.redis_proxy, self.db_proxy):
            if proxy is not None:
                proxy.restore()


@contextlib.contextmanager
def running_rig(database_url: str, redis_url: str) -> Iterator[Rig]:
    """The LMS under gunicorn (two workers) with its dependencies behind switches and proxies;
    the tables and the Redis database are emptied before and the Redis database after."""
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


# --- calls and checks -----------------------------------------------------------------------
def customer(number: str) -> str:
    return f"<tns:customerNumber>{number}</tns:customerNumber>"


def submit_fields(number: str, amount: Decimal = AMOUNT, request_id: str | None = None) -> str:
    rid = f"<tns:requestId>{request_id}</tns:requestId>" if request_id else ""
    return f"{customer(number)}<tns:amount>{amount}</tns:amount>{rid}"


def field(response: requests.Response, name: str) -> str | None:
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


def readyz(rig: Rig) -> requests.Response:
    return requests.get(f"{rig.url}/readyz", timeout=10)
