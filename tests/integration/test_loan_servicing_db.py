"""The loan after approval against the real database: concurrent arrears runs change each loan
once; outbox rows commit (or roll back) with their transition; delivery to a real HTTP receiver
survives it being down, slow past the deadline, answering 500, and a sender dying mid-send."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lms_soap.clients.bank_callback import SoapBankNotifier
from lms_soap.lending import servicing
from lms_soap.lending.lifecycle import run_arrears
from lms_soap.lending.model import ChargeType, LoanStatus
from lms_soap.lending.notifications import DeliveryPolicy, deliver_notifications
from lms_soap.lending.products import SANDBOX_FAST
from lms_soap.models import tables
from lms_soap.sandbox.bank_receiver import BankReceiver
from tests.support.servers import free_port, serve_wsgi
from tests.support.servicing import disbursed_loan, servicing_container
from tests.unit.fakes import FakeClock

CUSTOMERS = [f"70000{n:04d}" for n in range(12)]
POLICY = DeliveryPolicy(backoff_base=1.0, backoff_max=8.0, lease=30.0)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def container(db, clock):
    with servicing_container(db, clock, CUSTOMERS) as c:
        yield c


def outbox_rows(container, loan_id=None):
    t = tables.outbox
    stmt = select(t).order_by(t.c.id)
    if loan_id:
        stmt = stmt.where(t.c.loan_id == loan_id)
    with container.engine.connect() as conn:
        return conn.execute(stmt).all()


# --- the arrears job -------------------------------------------------------------------------
def test_two_arrears_runs_at_once_change_each_loan_once(container, clock):
    loans = [disbursed_loan(container, n) for n in CUSTOMERS]
    clock.set(loans[0].due_date + SANDBOX_FAST.grace + timedelta(seconds=1))
    start = threading.Barrier(2)
    reports = []

    def run():
        start.wait()
        reports.append(run_arrears(container.uow(), clock))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    moved = [loan_id for r in reports for loan_id in r.changed]
    assert sorted(moved) == sorted(loan.id for loan in loans)  # each loan moved by one run only
    for loan in loans:
        with container.uow() as uow:
            stored = uow.loans.get(loan.id)
        assert stored.status is LoanStatus.OVERDUE
        assert [c.type for c in stored.charges] == [ChargeType.FEE, ChargeType.PENALTY]
        assert [e.to_status for e in stored.events].count(LoanStatus.OVERDUE) == 1
        assert [r.status for r in outbox_rows(container, loan.id)].count("OVERDUE") == 1
    assert run_arrears(container.uow(), clock).changed == {}  # and a third run: nothing


# --- the outbox ------------------------------------------------------------------------------
def test_a_transition_that_rolls_back_leaves_no_outbox_row(container, clock):
    loan = disbursed_loan(container, CUSTOMERS[0])
    before = len(outbox_rows(container))
    with container.uow() as uow:
        stored = uow.loans.get(loan.id)
        servicing.repay(stored, Decimal("1075.00"), "TX-ALL", clock.now())
        assert stored.status is LoanStatus.CLOSED
        # no commit: the transaction rolls back
    assert len(outbox_rows(container)) == before
    with container.uow() as uow:
        assert uow.loans.get(loan.id).status is LoanStatus.DISBURSED


def test_each_notified_transition_commits_its_row(container):
    loan = disbursed_loan(container, CUSTOMERS[0])
    rows = outbox_rows(container, loan.id)
    assert [(r.previous_status, r.status) for r in rows] == [("SCORING", "APPROVED"), ("APPROVED", "DISBURSED")]
    assert len({r.event_id for r in rows}) == 2 and all(r.delivered_at is None for r in rows)


# --- delivery to a real receiver -------------------------------------------------------------
class Flaky(BankReceiver):
    """The bank's endpoint: answering normally, with 500, or slowly."""

    def __init__(self):
        super().__init__()
        self.mode = "ok"
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        if self.mode == "500":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        if self.mode == "slow":
            time.sleep(1.5)
        return super().__call__(environ, start_response)


def notifier(url):
    return SoapBankNotifier(url, username="lms", password="s3cret", auth="basic", timeout=0.5)


def deliver(container, bank):
    return deliver_notifications(container.uow(), bank, container.clock, POLICY)


def test_delivery_survives_a_receiver_down_slow_or_failing_with_the_same_event_ids(container, clock):
    loan = disbursed_loan(container, CUSTOMERS[0])
    event_ids = [r.event_id for r in outbox_rows(container, loan.id)]
    down = notifier(f"http://127.0.0.1:{free_port()}/callback")  # nothing listens there
    assert deliver(container, down).failed == 2
    assert {r.attempts for r in outbox_rows(container)} == {1}
    assert deliver(container, down).failed == 0  # backing off: not due yet
    app = Flaky()
    with serve_wsgi(app) as url:
        bank = notifier(url)
        for mode in ("500", "slow"):
            app.mode = mode
            clock.advance(POLICY.backoff_max)
            assert deliver(container, bank).failed == 2
        rows = outbox_rows(container)
        assert {r.attempts for r in rows} == {3} and all(r.delivered_at is None for r in rows)
        assert "did not answer in time" in rows[0].last_error and "s3cret" not in rows[0].last_error
        app.mode = "ok"
        clock.advance(POLICY.backoff_max)
        assert deliver(container, bank).delivered == 2
        clock.advance(POLICY.backoff_max)
        assert deliver(container, bank) == deliver(container, bank)  # nothing left: no more calls
    assert all(r.delivered_at is not None for r in outbox_rows(container))
    # The slow answer may have reached the bank after our deadline: a duplicate, same eventId.
    assert {e["eventId"] for e in app.events} == set(event_ids)
    assert [e["status"] for e in app.events if e["eventId"] == event_ids[1]] == ["DISBURSED"]
    assert app.events[-1]["loan"]["loanId"] == loan.id


def test_a_sender_that_died_mid_send_has_its_rows_sent_again_after_the_lease(container, clock):
    loan = disbursed_loan(container, CUSTOMERS[0])
    with container.uow() as uow:  # a worker claims the rows, then dies before sending
        claimed = uow.outbox.claim_due(clock.now(), clock.now() + timedelta(seconds=POLICY.lease), 10)
        uow.commit()
    assert len(claimed) == 2
    app = BankReceiver()
    with serve_wsgi(app) as url:
        assert deliver(container, notifier(url)).delivered == 0  # held by the dead worker's lease
        clock.advance(POLICY.lease)
        assert deliver(container, notifier(url)).delivered == 2  # a restarted worker sends them
    assert sorted(e["eventId"] for e in app.events) == sorted(r.event_id for r in claimed)
    assert app.events[0]["loanId"] == loan.id


def test_two_senders_at_once_claim_each_row_once(container, clock):
    for n in CUSTOMERS[:5]:
        disbursed_loan(container, n)
    claims = []
    start = threading.Barrier(2)

    def claim():
        start.wait()
        with container.uow() as uow:
            claims.append([r.event_id for r in uow.outbox.claim_due(
                clock.now(), clock.now() + timedelta(seconds=30), 100)])
            uow.commit()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    together = claims[0] + claims[1]
    assert len(together) == len(set(together)) == 10


def test_without_a_callback_url_nothing_is_sent_and_rows_are_marked(container):
    disbursed_loan(container, CUSTOMERS[0])
    assert deliver(container, None).not_sent == 2
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tables.outbox)
                           .where(tables.outbox.c.delivered_at.is_(None))) == 0
