"""A loan as an answer shows it: a read-only snapshot with its status history.

GetLoanStatus reads one by id in a single statement (models/repositories.py, SqlLoanRepository
.view): no ORM objects, identity map or relationship loading for a read that changes nothing.
That loading was over half of GetLoanStatus's CPU (bench/README.md). What changes a loan reads the
Loan itself (lending/loan.py).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from .loan import Loan, LoanStatus, total_outstanding


@dataclass(frozen=True, slots=True)
class LoanEventView:
    from_status: LoanStatus | None
    to_status: LoanStatus
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class LoanView:
    """The Loan's attributes that answers show (services/types.py pack_loan), same names."""

    id: str
    customer_number: str
    amount: Decimal
    currency: str
    status: LoanStatus
    status_reason: str | None
    score: int | None
    limit_amount: Decimal | None
    exclusion: str | None
    exclusion_reason: str | None
    scoring_attempts: int
    request_id: str | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    product_code: str
    disbursed_at: datetime | None
    due_date: datetime | None
    principal_outstanding: Decimal | None
    fees_outstanding: Decimal | None
    penalties_outstanding: Decimal | None
    recovered: Decimal
    events: tuple[LoanEventView, ...] = ()

    @property
    def outstanding(self) -> Decimal | None:
        return total_outstanding(self.principal_outstanding, self.fees_outstanding,
                                 self.penalties_outstanding)

    @classmethod
    def of(cls, loan: Loan) -> "LoanView":
        """The snapshot of a loan in memory (the fakes of the tests; anything holding a Loan)."""
        events = tuple(LoanEventView(e.from_status, e.to_status, e.reason, e.at) for e in loan.events)
        return cls(**{name: getattr(loan, name) for name in LOAN_VIEW_FIELDS}, events=events)


#: The loan columns a view reads (every field but the history).
LOAN_VIEW_FIELDS = tuple(f.name for f in fields(LoanView) if f.name != "events")
