"""The rules of a loan after its approval, on the Loan object itself (no I/O): disbursement,
repayment allocation, the arrears steps, expiry and write-off. The use cases (lending/lifecycle.py,
lending/loans.py, lending/scoring.py) load the loan and its product, call these and commit.

Every method that changes the status goes through Loan.transition, so each step is in the history
and in the outbox. `next_arrears_at` is kept here: when the arrears job next has something to do
with the loan (None when never).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from . import errors
from .arrears import OVERDUE, WRITTEN_OFF, due_steps
from .balances import Balances, allocate
from .model import ON_BOOK, ZERO, Charge, ChargeType, Loan, LoanStatus, Repayment
from .products import Product

AUTO_REFERENCE_PREFIX = "AUTO-"


def balances_of(loan: Loan) -> Balances:
    return Balances(principal=loan.principal_outstanding or ZERO, fees=loan.fees_outstanding or ZERO,
                    penalties=loan.penalties_outstanding or ZERO)


def _set_balances(loan: Loan, balances: Balances) -> None:
    loan.principal_outstanding = balances.principal
    loan.fees_outstanding = balances.fees
    loan.penalties_outstanding = balances.penalties


def _charge(loan: Loan, kind: ChargeType, amount: Decimal, at: datetime) -> None:
    if amount <= 0:
        return  # a 0 % fee or penalty is no charge at all (STANDARD charges none)
    loan.charges.append(Charge(loan.id, kind, amount, at))
    if kind is ChargeType.FEE:
        loan.fees_outstanding = (loan.fees_outstanding or ZERO) + amount
    else:
        loan.penalties_outstanding = (loan.penalties_outstanding or ZERO) + amount


def schedule_arrears(loan: Loan, product: Product) -> None:
    """Set next_arrears_at to the loan's next time-driven step under `product`."""
    if loan.status is LoanStatus.APPROVED:
        assert loan.decided_at is not None
        loan.next_arrears_at = loan.decided_at + product.approval_validity
        return
    after = {LoanStatus.DISBURSED: product.grace, LoanStatus.OVERDUE: product.default_after,
             LoanStatus.DEFAULTED: product.write_off_after}.get(loan.status)
    loan.next_arrears_at = None if after is None or loan.due_date is None else loan.due_date + after


def approved(loan: Loan, product: Product, now: datetime) -> None:
    """Scoring approved the loan (already transitioned): disburse at once when the product says
    autoDisburse, else start the approval's validity."""
    if product.auto_disburse:
        disburse(loan, product, AUTO_REFERENCE_PREFIX + loan.id, now, now, reason="AUTO_DISBURSED")
    else:
        schedule_arrears(loan, product)


def disburse(loan: Loan, product: Product, reference: str, disbursed_at: datetime, now: datetime,
             reason: str = "DISBURSEMENT_CONFIRMED") -> None:
    loan.transition(LoanStatus.DISBURSED, reason, now)
    loan.disbursement_reference = reference
    loan.disbursed_at = disbursed_at
    loan.due_date = product.due_date(disbursed_at)
    _set_balances(loan, Balances(principal=loan.amount))
    _charge(loan, ChargeType.FEE, product.fee_for(loan.amount), disbursed_at)
    schedule_arrears(loan, product)


def expire_if_due(loan: Loan, product: Product, now: datetime) -> bool:
    if loan.status is not LoanStatus.APPROVED or loan.decided_at is None:
        return False
    due_at = loan.decided_at + product.approval_validity
    if now < due_at:
        return False
    loan.transition(LoanStatus.EXPIRED, "APPROVAL_VALIDITY_PASSED", due_at)
    loan.updated_at = now
    return True


def apply_arrears(loan: Loan, product: Product, now: datetime) -> list[str]:
    """Take every arrears step due by `now`, each at the time it fell due. Returns the statuses
    reached (empty when none was due)."""
    reached = []
    for step in due_steps(loan.status.value, loan.due_date, product, now):
        if step.to_status == OVERDUE:
            # Once: only the DISBURSED -> OVERDUE step charges it, and the loan's version makes
            # a concurrent second run of this step fail at its commit.
            _charge(loan, ChargeType.PENALTY, product.penalty_for(loan.principal_outstanding or ZERO),
                    step.due_at)
        if step.to_status == WRITTEN_OFF:
            loan.written_off_at = step.due_at
        loan.transition(LoanStatus(step.to_status), step.reason, step.due_at)
        reached.append(step.to_status)
    if reached:
        loan.updated_at = now
        schedule_arrears(loan, product)
    return reached


def write_off(loan: Loan, reason: str, now: datetime) -> None:
    if loan.status not in (LoanStatus.OVERDUE, LoanStatus.DEFAULTED):
        raise errors.InvalidLoanState(
            f"loan {loan.id} is {loan.status.value}; only OVERDUE or DEFAULTED loans can be written off",
            loan_id=loan.id)
    loan.transition(LoanStatus.WRITTEN_OFF, reason, now)
    loan.written_off_at = now


def repay(loan: Loan, amount: Decimal, reference: str, now: datetime) -> Repayment:
    """Apply a repayment (a recovery on a WRITTEN_OFF loan), allocated penalties, fees, principal.
    A repeat of the same reference is a no-op returning the first one."""
    for existing in loan.repayments:
        if existing.reference == reference:
            if existing.amount != amount:
                raise errors.IdempotencyConflict(
                    f"reference {reference!r} was already used with amount {existing.amount}",
                    loan_id=loan.id)
            return existing
    recovery = loan.status is LoanStatus.WRITTEN_OFF
    if loan.status not in ON_BOOK and not recovery:
        raise errors.InvalidLoanState(
            f"loan {loan.id} is {loan.status.value}; only DISBURSED, OVERDUE, DEFAULTED or "
            "WRITTEN_OFF loans take repayments", loan_id=loan.id)
    owed = balances_of(loan)
    if amount > owed.total:
        raise errors.AmountExceedsOutstanding(
            f"amount {amount} exceeds the outstanding {owed.total}", loan_id=loan.id)
    part = allocate(amount, owed)
    repayment = Repayment(loan.id, reference, amount, now, penalty_part=part.penalty,
                          fee_part=part.fee, principal_part=part.principal, recovery=recovery)
    loan.repayments.append(repayment)
    _set_balances(loan, owed.after(part))
    loan.updated_at = now
    if recovery:
        loan.recovered = loan.recovered + amount
    elif balances_of(loan).total == 0:
        loan.transition(LoanStatus.CLOSED, "REPAID", now)
    return repayment

