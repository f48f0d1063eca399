"""What the scoring step reads of a loan before it claims the step: five columns.

The step's first transaction only decides whether the step is due and claims it; reading the
whole loan there (its events, repayments and charges, ORM objects and all) was most of that
transaction's cost (bench/README.md). The decision's transaction reads the Loan itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .loan import Loan, LoanStatus


@dataclass(frozen=True, slots=True)
class ScoringState:
    status: LoanStatus
    next_attempt_at: datetime | None
    version: int
    scoring_token: str | None
    customer_number: str

    @classmethod
    def of(cls, loan: Loan) -> "ScoringState":
        return cls(loan.status, loan.next_attempt_at, loan.version, loan.scoring_token,
                   loan.customer_number)
