"""PostgreSQL sessions carry DB_STATEMENT_TIMEOUT (issue 10, defect 5): a statement that runs too
long, or waits too long on a lock, is cancelled by the server and answered Server.ServiceUnavailable,
instead of holding a web thread and a pooled connection for as long as it takes."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from lms_soap.lending import errors
from lms_soap.models.db import build_engine
from lms_soap.models.unit_of_work import SqlUnitOfWorkFactory
from tests.conftest import make_settings, serve_lms
from tests.support.servers import free_port
from tests.support.soap import faultcode

TIMEOUT_MS = 300
#: A bound on a statement that would otherwise run 20 s, not a measure of speed.
BOUND = 5.0


@pytest.fixture
def pg(db):
    if create_engine(db).dialect.name != "postgresql":
        pytest.skip("the test database is SQLite (LMS_TEST_DB=sqlite or no PostgreSQL on :5432): "
                    "statement_timeout is a PostgreSQL setting")
    return db


def test_sessions_carry_the_configured_statement_timeout(pg):
    for setting, shown in ((TIMEOUT_MS, f"{TIMEOUT_MS}ms"), (2500, "2500ms")):
        engine = build_engine(make_settings(pg, db_statement_timeout=setting))
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SHOW statement_timeout")).scalar() == shown
        finally:
            engine.dispose()


def test_zero_sends_no_statement_timeout(pg):
    """0: the LMS sends nothing, so the server's (or the role's, behind PgBouncer) setting applies."""
    engine = build_engine(make_settings(pg, db_statement_timeout=0))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()


def test_a_long_statement_is_cancelled_and_becomes_service_unavailable(pg):
    engine = build_engine(make_settings(pg, db_statement_timeout=TIMEOUT_MS))
    uow = SqlUnitOfWorkFactory(engine)
    try:
        started = time.monotonic()
        with pytest.raises(errors.ServiceUnavailable):
            with uow() as work:
                work.session.execute(text("SELECT pg_sleep(20)"))
        assert time.monotonic() - started < BOUND
        with uow() as work:  # the pool is fine afterwards
            assert work.session.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def test_a_call_stuck_on_a_lock_is_a_service_unavailable_fault(pg, cbs_url, scoring_sim):
    port = free_port()
    settings = make_settings(pg, db_statement_timeout=TIMEOUT_MS, public_url=f"http://127.0.0.1:{port}",
                             cbs_customer_url=f"{cbs_url}/service/customer",
                             cbs_transactions_url=f"{cbs_url}/service/transaction-data",
                             scoring_base_url=scoring_sim.url)
    blocker = create_engine(pg)
    try:
        with serve_lms(settings, port) as lms:
            lms.credentials("bank")  # the API client exists before the lock is taken
            with blocker.begin() as conn:  # another session holds the table for 20 s
                conn.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
                response, elapsed = lms.timed_call(
                    "GetCustomer", "<tns:customerNumber>234774784</tns:customerNumber>", timeout=30)
    finally:
        blocker.dispose()
    assert faultcode(response) == "Server.ServiceUnavailable", response.text
    assert elapsed < BOUND, f"GetCustomer waited {elapsed:.1f} s on the lock"
