"""SubmitLoan's admission read and the scoring step's state read are single statements that
narrow the loans in SQL (SqlLoanRepository.admission, .scoring_state): on the real database they
find what the rules find when given every loan, and a loan read back from the database adds only
its new notifications to the outbox."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from lms_soap.lending.admission import Admission
from lms_soap.lending.customers import register_customer
from lms_soap.lending.loans import cancel_loan
from lms_soap.lending.model import Loan, LoanStatus
from lms_soap.lending.scoring_state import ScoringState
from lms_soap.models import tables
from tests.support.servicing import disbursed_loan, servicing_container
from tests.unit.fakes import FakeClock

CUSTOMERS = [f"70002{n:04d}" for n in range(5)]


@pytest.fixture
def container(db):
    with servicing_container(db, FakeClock(), CUSTOMERS) as c:
        yield c


def _submitted(container, customer: str, request_id: str | None, created_by: str = "bank") -> Loan:
    register_customer(customer, container.uow(), container.cbs, container.clock)
    loan = Loan.submit(customer, Decimal("300.00"), "KES", request_id, container.clock.now(),
                       created_by=created_by)
    with container.uow() as uow:
        uow.loans.add(loan)
        uow.commit()
    return loan


def _every_loan(container) -> list[Loan]:
    with container.uow() as uow:
        ids = uow.session.scalars(select(tables.loans.c.id)).all()
        return [uow.loans.get(i) for i in ids]


def _ids(admission: Admission) -> tuple:
    return tuple(None if x is None else x.id for x in
                 (admission.replayed, admission.ongoing, admission.unrecovered_write_off))


def test_admission_in_one_statement_finds_what_the_rules_find_among_every_loan(container):
    pending = _submitted(container, CUSTOMERS[0], "r-1")
    cancelled = _submitted(container, CUSTOMERS[1], "r-2", created_by="other-bank")
    cancel_loan(cancelled.id, None, container.uow(), container.clock)
    written_off = disbursed_loan(container, CUSTOMERS[2], score=600, limit=Decimal("1500.00"))
    recovered = disbursed_loan(container, CUSTOMERS[3], score=600, limit=Decimal("1500.00"))
    t = tables.loans
    with container.engine.begin() as conn:  # the states the arrears path leaves (test_loan_view walks it)
        conn.execute(update(t).where(t.c.id == written_off.id).values(status=LoanStatus.WRITTEN_OFF))
        conn.execute(update(t).where(t.c.id == recovered.id).values(
            status=LoanStatus.WRITTEN_OFF, principal_outstanding=0, fees_outstanding=0,
            penalties_outstanding=0))
    disbursed = disbursed_loan(container, CUSTOMERS[4], score=600, limit=Decimal("1500.00"))
    every = _every_loan(container)

    asks = [("bank", "r-1", CUSTOMERS[0]), ("bank", "r-1", CUSTOMERS[4]), ("other-bank", "r-1", CUSTOMERS[0]),
            ("other-bank", "r-2", CUSTOMERS[1]), ("bank", "r-2", CUSTOMERS[1]), ("bank", None, CUSTOMERS[2]),
            ("bank", "new", CUSTOMERS[3]), ("bank", "new", CUSTOMERS[4]), ("bank", "new", "700029999")]
    for created_by, request_id, customer in asks:
        with container.uow() as uow:
            found = uow.loans.admission(created_by, request_id, customer)
        assert _ids(found) == _ids(Admission.among(every, created_by, request_id, customer)), \
            (created_by, request_id, customer)

    with container.uow() as uow:
        assert _ids(uow.loans.admission("bank", "r-1", CUSTOMERS[0])) == (pending.id, pending.id, None)
        assert _ids(uow.loans.admission("bank", "r-2", CUSTOMERS[1])) == (None, None, None)  # another client's id
        assert _ids(uow.loans.admission("other-bank", "r-2", CUSTOMERS[1])) == (cancelled.id, None, None)
        assert _ids(uow.loans.admission("bank", None, CUSTOMERS[2])) == (None, None, written_off.id)
        assert _ids(uow.loans.admission("bank", "x", CUSTOMERS[3])) == (None, None, None)  # recovered in full
        assert _ids(uow.loans.admission("bank", "x", CUSTOMERS[4])) == (None, disbursed.id, None)


def test_scoring_state_is_the_loans_own_and_notifications_are_added_once(container):
    loan = _submitted(container, CUSTOMERS[0], "r-1")
    with container.uow() as uow:
        assert uow.loans.scoring_state(loan.id) == ScoringState.of(uow.loans.get(loan.id))
        assert uow.loans.scoring_state("LN-NONE") is None
    for to, reason in ((LoanStatus.SCORING, "SCORING_STARTED"), (LoanStatus.APPROVED, "APPROVED"),
                       (LoanStatus.DISBURSED, "DISBURSEMENT_CONFIRMED")):
        with container.uow() as uow:
            stored = uow.loans.get(loan.id)
            assert stored.notifications == []  # the delivered past is never loaded
            stored.transition(to, reason, container.clock.now())
            uow.commit()
        with container.uow() as uow:
            assert uow.loans.scoring_state(loan.id) == ScoringState.of(uow.loans.get(loan.id))
    with container.uow() as uow:
        rows = uow.session.execute(select(tables.outbox.c.status, func.count())
                                   .where(tables.outbox.c.loan_id == loan.id)
                                   .group_by(tables.outbox.c.status)).all()
    assert {LoanStatus(s).value: n for s, n in rows} == {"APPROVED": 1, "DISBURSED": 1}
