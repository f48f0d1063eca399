"""GetLoanStatus reads a loan in one statement, as a snapshot (SqlLoanRepository.view): on the real
database its answer is the one the loan itself gives, field for field, in every state a loan
takes (pending, disbursed, overdue with a penalty, partly repaid, written off, closed)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from lxml import etree

from lms_soap.lending.customers import register_customer
from lms_soap.lending.lifecycle import run_arrears, write_off_loan
from lms_soap.lending.loan_view import LoanView
from lms_soap.lending.loans import get_loan, repay_loan
from lms_soap.lending.model import Loan, LoanStatus
from lms_soap.lending.products import SANDBOX_FAST
from lms_soap.services.application import build_soap_application
from lms_soap.services.types import Loan as WireLoan
from lms_soap.services.types import pack_loan
from tests.support.servicing import disbursed_loan, servicing_container
from tests.unit.fakes import FakeClock

CUSTOMERS = [f"70001{n:04d}" for n in range(6)]


@pytest.fixture
def container(db):
    with servicing_container(db, FakeClock(), CUSTOMERS) as c:
        yield c


def _loans_in_every_state(container) -> list[str]:
    clock = container.clock
    register_customer(CUSTOMERS[0], container.uow(), container.cbs, clock)
    pending = Loan.submit(CUSTOMERS[0], Decimal("250.50"), "KES", "req-1", clock.now(), created_by="bank")
    with container.uow() as uow:
        uow.loans.add(pending)
        uow.commit()
    disbursed = [_disbursed(container, n) for n in CUSTOMERS[1:5]]
    repay_loan(disbursed[1].id, Decimal("100.10"), "ref-1", container.uow(), clock)
    repay_loan(disbursed[2].id, disbursed[2].outstanding, "ref-all", container.uow(), clock)  # closed
    clock.set(disbursed[0].due_date + SANDBOX_FAST.grace + timedelta(seconds=1))
    run_arrears(container.uow(), clock)  # overdue, with the late penalty
    write_off_loan(disbursed[3].id, "uncollectable", container.uow(), clock)
    fresh = _disbursed(container, CUSTOMERS[5])  # disbursed now: not due yet
    return [pending.id] + [loan.id for loan in disbursed] + [fresh.id]


def _disbursed(container, customer: str) -> Loan:
    return disbursed_loan(container, customer, score=612, limit=Decimal("1500.00"))


def _wire(loan) -> bytes:
    element = etree.Element("root")
    build_soap_application().out_protocol.to_parent(None, WireLoan, pack_loan(loan, with_history=True),
                                                   element, "urn:lms-soap:v1")
    return etree.tostring(element)


def test_the_view_answers_as_the_loan_does_in_every_state(container):
    ids = _loans_in_every_state(container)
    statuses = set()
    for loan_id in ids:
        with container.uow() as uow:
            loan = uow.loans.get(loan_id)
            view = uow.loans.view(loan_id)
        statuses.add(loan.status)
        assert view == LoanView.of(loan)
        assert [e.to_status for e in view.events] == [e.to_status for e in loan.events] and view.events
        assert _wire(view) == _wire(loan)
        assert get_loan(container.uow(), loan_id=loan_id) == view
    assert {LoanStatus.PENDING, LoanStatus.DISBURSED, LoanStatus.OVERDUE, LoanStatus.WRITTEN_OFF,
            LoanStatus.CLOSED} <= statuses


def test_no_view_of_a_loan_that_is_not_there(container):
    with container.uow() as uow:
        assert uow.loans.view("LN-NOT-THERE") is None
