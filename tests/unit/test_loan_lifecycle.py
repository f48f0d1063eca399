"""The loan's status machine and its repayments (lending.model.Loan), as the contract states them."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from lms_soap.lending import errors
from lms_soap.lending.model import Loan, LoanStatus as S
from lms_soap.lending.servicing import repay

from .fakes import FakeClock
from .world import CUSTOMER, World

#: The contract's transitions, written out independently of lending.model.TRANSITIONS.
ALLOWED = {
    (S.PENDING, S.SCORING), (S.PENDING, S.FAILED), (S.PENDING, S.CANCELLED),
    (S.SCORING, S.APPROVED), (S.SCORING, S.REJECTED), (S.SCORING, S.FAILED), (S.SCORING, S.CANCELLED),
    # release 1.1: the loan after approval
    (S.APPROVED, S.DISBURSED), (S.APPROVED, S.EXPIRED), (S.APPROVED, S.CANCELLED),
    (S.DISBURSED, S.OVERDUE), (S.DISBURSED, S.CLOSED),
    (S.OVERDUE, S.DEFAULTED), (S.OVERDUE, S.WRITTEN_OFF), (S.OVERDUE, S.CLOSED),
    (S.DEFAULTED, S.WRITTEN_OFF), (S.DEFAULTED, S.CLOSED),
}
FORBIDDEN = sorted({(a, b) for a in S for b in S} - ALLOWED)
#: An allowed path from PENDING to each status.
PATH = {S.PENDING: [], S.SCORING: [S.SCORING], S.APPROVED: [S.SCORING, S.APPROVED],
        S.REJECTED: [S.SCORING, S.REJECTED], S.FAILED: [S.FAILED], S.CANCELLED: [S.CANCELLED],
        S.DISBURSED: [S.SCORING, S.APPROVED, S.DISBURSED],
        S.CLOSED: [S.SCORING, S.APPROVED, S.DISBURSED, S.CLOSED],
        S.OVERDUE: [S.SCORING, S.APPROVED, S.DISBURSED, S.OVERDUE],
        S.DEFAULTED: [S.SCORING, S.APPROVED, S.DISBURSED, S.OVERDUE, S.DEFAULTED],
        S.WRITTEN_OFF: [S.SCORING, S.APPROVED, S.DISBURSED, S.OVERDUE, S.WRITTEN_OFF],
        S.EXPIRED: [S.SCORING, S.APPROVED, S.EXPIRED]}


def loan_in(status: S, clock: FakeClock | None = None) -> Loan:
    clock = clock or FakeClock()
    loan = Loan.submit(CUSTOMER, Decimal("1000.00"), "KES", None, clock.now())
    for step in PATH[status]:
        clock.advance(1)
        loan.transition(step, f"TO_{step.value}", clock.now())
    assert loan.status is status
    return loan


def test_the_table_covers_every_pair_of_statuses():
    assert len(ALLOWED) + len(FORBIDDEN) == len(S) ** 2


@pytest.mark.parametrize("origin, target", sorted(ALLOWED))
def test_every_allowed_transition_happens_and_is_recorded(origin, target):
    clock = FakeClock()
    loan = loan_in(origin, clock)
    at = clock.advance(5)
    loan.transition(target, "BECAUSE", at)
    assert (loan.status, loan.status_reason, loan.updated_at) == (target, "BECAUSE", at)
    last = loan.events[-1]
    assert (last.loan_id, last.from_status, last.to_status, last.reason, last.at) == (
        loan.id, origin, target, "BECAUSE", at)


@pytest.mark.parametrize("origin, target", FORBIDDEN)
def test_every_other_transition_is_refused_and_changes_nothing(origin, target):
    loan = loan_in(origin)
    before = (loan.status, loan.status_reason, loan.updated_at, len(loan.events), loan.decided_at)
    with pytest.raises(errors.InvalidLoanState) as refused:
        loan.transition(target, "NOPE", loan.updated_at + timedelta(seconds=1))
    assert refused.value.loan_id == loan.id
    assert refused.value.faultcode == "Client.InvalidLoanState"
    assert (loan.status, loan.status_reason, loan.updated_at, len(loan.events), loan.decided_at) == before


def test_a_new_loan_is_pending_due_now_and_its_history_starts_with_the_submission():
    clock = FakeClock()
    loan = Loan.submit(CUSTOMER, Decimal("250.50"), "KES", "req-1", clock.now())
    assert loan.status is S.PENDING and loan.next_attempt_at == clock.now()
    assert [(e.from_status, e.to_status, e.reason, e.at) for e in loan.events] == [
        (None, S.PENDING, "SUBMITTED", clock.now())]
    assert loan.decided_at is None and loan.outstanding is None


def test_the_whole_history_is_kept_in_order_with_times_and_reasons():
    clock = FakeClock()
    start = clock.now()
    loan = loan_in(S.CLOSED, clock)
    assert [(e.from_status, e.to_status, e.reason) for e in loan.events] == [
        (None, S.PENDING, "SUBMITTED"), (S.PENDING, S.SCORING, "TO_SCORING"),
        (S.SCORING, S.APPROVED, "TO_APPROVED"), (S.APPROVED, S.DISBURSED, "TO_DISBURSED"),
        (S.DISBURSED, S.CLOSED, "TO_CLOSED")]
    assert [e.at for e in loan.events] == [start + timedelta(seconds=n) for n in range(5)]


@pytest.mark.parametrize("final", [S.APPROVED, S.REJECTED, S.FAILED])
def test_a_decision_is_dated(final):
    clock = FakeClock()
    loan = loan_in(S.SCORING, clock)
    assert loan.decided_at is None
    loan.transition(final, "DONE", clock.advance(30))
    assert loan.decided_at == clock.now()


@pytest.mark.parametrize("origin", [S.PENDING, S.SCORING])
def test_a_cancellation_is_not_a_decision_and_stops_scoring(origin):
    loan = loan_in(origin)
    loan.next_attempt_at = loan.updated_at
    loan.transition(S.CANCELLED, "CUSTOMER_CHANGED_MIND", loan.updated_at)
    assert loan.decided_at is None and loan.next_attempt_at is None


def test_closing_keeps_the_approval_date():
    clock = FakeClock()
    loan = loan_in(S.DISBURSED, clock)
    approved_at = loan.decided_at
    loan.transition(S.CLOSED, "REPAID", clock.advance(days=30))
    assert loan.decided_at == approved_at


# --- repayments -------------------------------------------------------------------------
@pytest.fixture
def world() -> World:
    return World()


def test_a_partial_repayment_lowers_the_outstanding_amount(world):
    loan = world.disbursed_loan("1000.00")
    assert loan.outstanding == Decimal("1000.00")
    repayment = repay(loan, Decimal("400.50"), "TX-1", world.clock.advance(60))
    assert loan.outstanding == Decimal("599.50") and loan.status is S.DISBURSED
    assert (repayment.reference, repayment.amount, repayment.at) == (
        "TX-1", Decimal("400.50"), world.clock.now())
    assert loan.repayments == [repayment] and loan.updated_at == world.clock.now()


def test_repaying_exactly_the_outstanding_amount_closes_the_loan(world):
    loan = world.disbursed_loan("1000.00")
    repay(loan, Decimal("999.99"), "TX-1", world.clock.advance(60))
    repay(loan, Decimal("0.01"), "TX-2", world.clock.advance(60))
    assert loan.outstanding == Decimal("0") and loan.status is S.CLOSED
    assert (loan.events[-1].from_status, loan.events[-1].reason) == (S.DISBURSED, "REPAID")
    assert not loan.is_ongoing


def test_more_than_outstanding_is_refused_and_changes_nothing(world):
    loan = world.disbursed_loan("1000.00")
    repay(loan, Decimal("600.00"), "TX-1", world.clock.now())
    with pytest.raises(errors.AmountExceedsOutstanding) as refused:
        repay(loan, Decimal("400.01"), "TX-2", world.clock.now())
    assert refused.value.loan_id == loan.id
    assert loan.outstanding == Decimal("400.00") and [r.reference for r in loan.repayments] == ["TX-1"]


@pytest.mark.parametrize("status", [S.PENDING, S.SCORING, S.APPROVED, S.REJECTED, S.FAILED,
                                    S.CANCELLED, S.EXPIRED])
def test_only_a_disbursed_loan_takes_repayments(status):
    loan = loan_in(status)
    with pytest.raises(errors.InvalidLoanState):
        repay(loan, Decimal("1.00"), "TX-1", loan.updated_at)
    assert loan.repayments == [] and loan.status is status


def test_a_closed_loan_takes_no_new_repayment(world):
    loan = world.disbursed_loan("100.00")
    repay(loan, Decimal("100.00"), "TX-1", world.clock.now())
    with pytest.raises(errors.InvalidLoanState):
        repay(loan, Decimal("1.00"), "TX-2", world.clock.now())


def test_the_same_reference_again_is_idempotent(world):
    loan = world.disbursed_loan("1000.00")
    first = repay(loan, Decimal("300.00"), "TX-1", world.clock.now())
    again = repay(loan, Decimal("300.00"), "TX-1", world.clock.advance(60))
    assert again == first and again.at == first.at
    assert loan.outstanding == Decimal("700.00") and len(loan.repayments) == 1


def test_the_same_reference_is_idempotent_even_after_closing(world):
    loan = world.disbursed_loan("1000.00")
    first = repay(loan, Decimal("1000.00"), "TX-1", world.clock.now())
    assert loan.status is S.CLOSED
    history = list(loan.events)
    assert repay(loan, Decimal("1000.00"), "TX-1", world.clock.advance(60)) == first
    assert loan.status is S.CLOSED and loan.outstanding == 0 and loan.events == history


def test_the_same_reference_with_another_amount_is_a_conflict(world):
    loan = world.disbursed_loan("1000.00")
    repay(loan, Decimal("300.00"), "TX-1", world.clock.now())
    with pytest.raises(errors.IdempotencyConflict) as refused:
        repay(loan, Decimal("300.01"), "TX-1", world.clock.now())
    assert refused.value.loan_id == loan.id
    assert loan.outstanding == Decimal("700.00") and len(loan.repayments) == 1
