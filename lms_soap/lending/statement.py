"""GetLoanStatement: a loan with its dates, charges, allocated repayments and balances."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from . import errors
from .arrears import days_past_due
from .model import ON_BOOK, Charge, Loan, LoanStatus, Repayment
from .ports import Clock, UnitOfWork
from .servicing import balances_of
from .use_case import require_loan

#: Stated in every statement, as the contract asks.
ALLOCATION_ORDER = "PENALTIES, FEES, PRINCIPAL"


@dataclass(frozen=True)
class Statement:
    loan: Loan
    disbursed_at: datetime | None
    due_date: datetime | None
    days_past_due: int
    charges: list[Charge]
    repayments: list[Repayment]  # each with penalty_part, fee_part, principal_part, recovery
    principal_outstanding: Decimal
    fees_outstanding: Decimal
    penalties_outstanding: Decimal
    total_outstanding: Decimal
    recovered: Decimal
    allocation_order: str = ALLOCATION_ORDER


def get_statement(loan_id: str, uow: UnitOfWork, clock: Clock) -> Statement:
    with uow:
        loan = require_loan(uow, loan_id)
    owed = balances_of(loan)
    aged = loan.status in ON_BOOK or loan.status is LoanStatus.WRITTEN_OFF
    late = days_past_due(loan.due_date, clock.now()) if aged else 0
    return Statement(loan=loan, disbursed_at=loan.disbursed_at, due_date=loan.due_date, days_past_due=late,
                     charges=list(loan.charges), repayments=list(loan.repayments),
                     principal_outstanding=owed.principal, fees_outstanding=owed.fees,
                     penalties_outstanding=owed.penalties, total_outstanding=owed.total,
                     recovered=loan.recovered)
