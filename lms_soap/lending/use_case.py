"""What the use cases share: re-running a unit of work that lost a race, and the get-or-raise
of a loan by id."""
from __future__ import annotations

from typing import Callable, TypeVar

from . import errors
from .model import Loan
from .ports import UnitOfWork

T = TypeVar("T")

#: How often a use case re-reads and retries after losing a race to a concurrent writer.
CONFLICT_RETRIES = 3


def retrying(operation: Callable[[], T], *, attempts: int = CONFLICT_RETRIES,
             gave_up: str = "too much contention on this loan; retry") -> T:
    """Run `operation`, re-running it when a concurrent writer won (it re-reads everything);
    after `attempts` lost races, ServiceUnavailable(`gave_up`)."""
    for attempt in range(attempts):
        try:
            return operation()
        except errors.Conflict:
            if attempt == attempts - 1:
                raise errors.ServiceUnavailable(gave_up) from None
    raise AssertionError("unreachable")


def require_loan(uow: UnitOfWork, loan_id: str) -> Loan:
    """The loan `loan_id`, read in the open unit of work; LoanNotFound when there is none."""
    loan = uow.loans.get(loan_id)
    if loan is None:
        raise errors.LoanNotFound(f"no loan {loan_id}", loan_id=loan_id)
    return loan
