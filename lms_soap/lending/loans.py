"""Use cases of the loan lifecycle: submit, read, list, cancel, repay."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from . import errors, servicing
from .customers import require_active_customer, require_registered
from .loan_view import LoanView
from .model import CENTS, Caller, Loan, LoanStatus
from .products import DEFAULT_PRODUCT_CODE, require_product
from .ports import Clock, JobQueue, UnitOfWork
from .use_case import require_loan, retrying

log = logging.getLogger(__name__)

MAX_PAGE = 100
#: ListLoans: the page size when the caller gives none.
DEFAULT_PAGE = 20
#: CancelLoan: before the money is out.
CANCELLABLE = frozenset({LoanStatus.PENDING, LoanStatus.SCORING, LoanStatus.APPROVED})


@dataclass(frozen=True)
class LoanPolicy:
    min_amount: Decimal
    max_amount: Decimal
    currency: str


def check_amount(amount: Decimal, minimum: Decimal | None = None, maximum: Decimal | None = None,
                 what: str = "amount") -> None:
    if not amount.is_finite() or amount <= 0:
        raise errors.AmountOutOfRange(f"{what} must be greater than zero")
    if amount != amount.quantize(CENTS):
        raise errors.AmountOutOfRange(f"{what} must have at most 2 decimals")
    if minimum is not None and amount < minimum or maximum is not None and amount > maximum:
        raise errors.AmountOutOfRange(f"{what} must lie between {minimum} and {maximum}")


def submit_loan(customer_number: str, amount: Decimal, request_id: str | None, uow: UnitOfWork,
                queue: JobQueue, clock: Clock, policy: LoanPolicy, *, caller: Caller,
                product_code: str | None = None) -> Loan:
    """`request_id` is the caller's own: unique per API client, so one client's ids never meet
    another's, and no fault names a loan the caller did not create. `product_code` defaults to
    STANDARD; the amount must lie within the service's bounds and the product's."""
    check_amount(amount, policy.min_amount, policy.max_amount)
    code = product_code or DEFAULT_PRODUCT_CODE

    def replay_or_conflict(existing: Loan) -> Loan:
        if (existing.customer_number == customer_number and existing.amount == amount
                and existing.product_code == code):
            return existing
        raise errors.IdempotencyConflict(
            f"requestId {request_id!r} was used for another loan request", loan_id=existing.id)

    def attempt() -> tuple[Loan, bool]:
        with uow:
            # One statement for the three loans this request must know about, checked in order.
            admission = uow.loans.admission(caller.username, request_id, customer_number)
            if admission.replayed is not None:
                return replay_or_conflict(admission.replayed), False
            product = require_product(uow, code)
            product.check_amount(amount)
            require_active_customer(uow, customer_number)
            if admission.ongoing is not None:
                raise _in_progress(admission.ongoing, customer_number, caller)
            if admission.unrecovered_write_off is not None:
                raise errors.CustomerInArrears(
                    f"customer {customer_number} has a written-off loan not recovered in full",
                    customer_number=customer_number)
            loan = Loan.submit(customer_number, amount, product.currency, request_id, clock.now(),
                               created_by=caller.username, product_code=product.code)
            uow.loans.add(loan)
            uow.commit()  # the partial unique index refuses a concurrent second ongoing loan here
            return loan, True

    loan, created = retrying(attempt)
    if created:
        # Only after the commit: a job must never see a loan that is not there. If Redis is down
        # the loan stays PENDING with next_attempt_at=now, and the reconciler queues it later.
        schedule_quietly(queue, loan.id)
    return loan


def _in_progress(ongoing: Loan, customer_number: str, caller: Caller) -> errors.LoanInProgress:
    if caller.may_see(ongoing):
        return errors.LoanInProgress(
            f"customer {customer_number} already has loan {ongoing.id} ({ongoing.status.value})",
            loan_id=ongoing.id, customer_number=customer_number)
    # Another client's loan: say that there is one, never which.
    return errors.LoanInProgress(f"customer {customer_number} already has an ongoing loan",
                                 customer_number=customer_number)


def schedule_quietly(queue: JobQueue, loan_id: str, at=None) -> None:
    try:
        queue.schedule_scoring(loan_id, at)
    except errors.QueueUnavailable as exc:
        log.warning("job queue unavailable; loan %s waits for the reconciler: %s", loan_id, exc)


def get_loan(uow: UnitOfWork, loan_id: str | None = None,
             customer_number: str | None = None) -> Loan | LoanView:
    """A loan by id (a snapshot, read in one statement), or the latest loan of a customer."""
    with uow:
        if loan_id:
            view = uow.loans.view(loan_id)
            if view is None:
                raise errors.LoanNotFound(f"no loan {loan_id}", loan_id=loan_id)
            return view
        if not customer_number:
            raise errors.SchemaValidationError("give loanId or customerNumber")
        loan = uow.loans.latest_for(customer_number)
        if loan is None:
            require_registered(uow, customer_number)
            raise errors.LoanNotFound(f"customer {customer_number} has no loan",
                                      customer_number=customer_number)
        return loan


def list_loans(uow: UnitOfWork, customer_number: str, status: LoanStatus | None = None,
               offset: int | None = None, limit: int | None = None) -> tuple[Sequence[Loan], int]:
    """A page of the customer's loans, newest first, and their total; DEFAULT_PAGE without `limit`."""
    offset = 0 if offset is None else offset
    limit = DEFAULT_PAGE if limit is None else limit
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise errors.SchemaValidationError(f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    with uow:
        require_registered(uow, customer_number)
        return uow.loans.list_for(customer_number, status, offset, limit)


def cancel_loan(loan_id: str, reason: str | None, uow: UnitOfWork, clock: Clock) -> Loan:
    def attempt() -> Loan:
        with uow:
            loan = require_loan(uow, loan_id)
            if loan.status not in CANCELLABLE:
                raise errors.InvalidLoanState(
                    f"loan {loan_id} is {loan.status.value}; only PENDING, SCORING or APPROVED "
                    "(not yet disbursed) loans can be cancelled", loan_id=loan_id)
            loan.transition(LoanStatus.CANCELLED, reason or "CANCELLED_BY_REQUEST", clock.now())
            uow.commit()  # versioned: a scoring decision committed meanwhile makes this retry
            return loan

    return retrying(attempt)


def repay_loan(loan_id: str, amount: Decimal, reference: str, uow: UnitOfWork, clock: Clock) -> Loan:
    check_amount(amount)

    def attempt() -> Loan:
        with uow:
            loan = require_loan(uow, loan_id)
            servicing.repay(loan, amount, reference, clock.now())
            uow.commit()  # unique (loan, reference) + the loan's version settle concurrent repeats
            return loan

    return retrying(attempt)
