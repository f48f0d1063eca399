"""The loan: its status machine (which status may follow which), its events, charges,
repayments and the bank's notifications it gives rise to."""
from __future__ import annotations

import enum
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from . import errors
from .money import ZERO

class LoanStatus(str, enum.Enum):
    PENDING = "PENDING"  # accepted, scoring not started
    SCORING = "SCORING"  # token held, polling
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"  # scoring could not finish
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"  # disbursed and fully repaid
    DISBURSED = "DISBURSED"  # the money is out; a due date runs
    OVERDUE = "OVERDUE"  # past due date + grace (the late penalty was charged)
    DEFAULTED = "DEFAULTED"  # defaultAfter past due
    WRITTEN_OFF = "WRITTEN_OFF"  # off the book; repayments are recoveries
    EXPIRED = "EXPIRED"  # approved, not disbursed within approvalValidity


#: A loan is "ongoing" (blocks a new one for the customer) in these states.
#: models/tables.py builds the partial unique index from this same set.
ONGOING = frozenset({LoanStatus.PENDING, LoanStatus.SCORING, LoanStatus.APPROVED, LoanStatus.DISBURSED,
                     LoanStatus.OVERDUE, LoanStatus.DEFAULTED})
#: States the scoring pipeline still has to move forward.
IN_SCORING = frozenset({LoanStatus.PENDING, LoanStatus.SCORING})
#: Disbursed and not yet closed or written off: the loan owes, takes repayments and ages.
ON_BOOK = frozenset({LoanStatus.DISBURSED, LoanStatus.OVERDUE, LoanStatus.DEFAULTED})
#: Reaching one of these tells the bank (a NotifyLoanEvent from the outbox).
NOTIFIED = frozenset({LoanStatus.APPROVED, LoanStatus.REJECTED, LoanStatus.FAILED, LoanStatus.DISBURSED,
                      LoanStatus.OVERDUE, LoanStatus.DEFAULTED, LoanStatus.WRITTEN_OFF,
                      LoanStatus.CLOSED, LoanStatus.EXPIRED})

#: The status machine: every transition allowed, and nothing else.
TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.PENDING: frozenset({LoanStatus.SCORING, LoanStatus.FAILED, LoanStatus.CANCELLED}),
    LoanStatus.SCORING: frozenset(
        {LoanStatus.APPROVED, LoanStatus.REJECTED, LoanStatus.FAILED, LoanStatus.CANCELLED}
    ),
    LoanStatus.APPROVED: frozenset({LoanStatus.DISBURSED, LoanStatus.EXPIRED, LoanStatus.CANCELLED}),
    LoanStatus.DISBURSED: frozenset({LoanStatus.OVERDUE, LoanStatus.CLOSED}),
    LoanStatus.OVERDUE: frozenset({LoanStatus.DEFAULTED, LoanStatus.WRITTEN_OFF, LoanStatus.CLOSED}),
    LoanStatus.DEFAULTED: frozenset({LoanStatus.WRITTEN_OFF, LoanStatus.CLOSED}),
    LoanStatus.REJECTED: frozenset(),
    LoanStatus.FAILED: frozenset(),
    LoanStatus.CANCELLED: frozenset(),
    LoanStatus.CLOSED: frozenset(),
    LoanStatus.WRITTEN_OFF: frozenset(),
    LoanStatus.EXPIRED: frozenset(),
}


def new_loan_id() -> str:
    """Opaque and unguessable: 120 random bits, URL- and XML-safe."""
    return "LN" + secrets.token_hex(15).upper()


@dataclass
class LoanEvent:
    """One transition of a loan, kept forever."""

    loan_id: str
    from_status: LoanStatus | None
    to_status: LoanStatus
    reason: str | None
    at: datetime
    id: int | None = None


class ChargeType(str, enum.Enum):
    FEE = "FEE"  # the product's fee, charged at disbursement
    PENALTY = "PENALTY"  # the late penalty, charged once when the loan becomes OVERDUE


@dataclass
class Charge:
    loan_id: str
    type: ChargeType
    amount: Decimal
    applied_at: datetime
    id: int | None = None


@dataclass
class Repayment:
    """A repayment and how it was allocated (the parts add up to `amount`)."""

    loan_id: str
    reference: str
    amount: Decimal
    at: datetime
    penalty_part: Decimal = ZERO
    fee_part: Decimal = ZERO
    principal_part: Decimal = ZERO
    #: Received on a WRITTEN_OFF loan: recovered, not repaid.
    recovery: bool = False
    id: int | None = None


@dataclass
class Notification:
    """An outbox row: the bank is to be told that a loan reached `status`. Written in the same
    transaction as the transition (Loan.transition appends it), delivered later by the worker at
    least once; `event_id` stays the same across retries so the bank can drop duplicates."""

    event_id: str
    loan_id: str
    customer_number: str
    status: LoanStatus
    previous_status: LoanStatus | None
    reason: str | None
    occurred_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    id: int | None = None


def total_outstanding(principal: Decimal | None, fees: Decimal | None,
                      penalties: Decimal | None) -> Decimal | None:
    """Total outstanding (principal + fees + penalties): the SOAP `outstanding`, as in 1.0; None
    until disbursed."""
    if principal is None:
        return None
    return principal + (fees or ZERO) + (penalties or ZERO)


@dataclass
class Loan:
    id: str
    customer_number: str
    amount: Decimal
    currency: str
    status: LoanStatus
    created_at: datetime
    updated_at: datetime
    request_id: str | None = None
    #: The API client (username) that submitted the loan: requestId is unique per client, and
    #: only its creator (or an admin) is told the id in a fault. None for loans stored before 1.1.
    created_by: str | None = None
    status_reason: str | None = None
    score: int | None = None
    limit_amount: Decimal | None = None
    exclusion: str | None = None
    exclusion_reason: str | None = None
    scoring_token: str | None = None
    scoring_attempts: int = 0
    initiate_attempts: int = 0
    next_attempt_at: datetime | None = None
    #: When a step first claimed the loan to call the engine; SCORING_DEADLINE runs from here.
    first_attempt_at: datetime | None = None
    decided_at: datetime | None = None
    #: The product the loan was granted on (lending/products.py); its terms apply as they fall due.
    product_code: str = "STANDARD"
    disbursed_at: datetime | None = None
    due_date: datetime | None = None
    disbursement_reference: str | None = None
    #: What is owed, per kind (None until disbursed). After a write-off: what is still unrecovered.
    principal_outstanding: Decimal | None = None
    fees_outstanding: Decimal | None = None
    penalties_outstanding: Decimal | None = None
    #: Received on the loan after its write-off.
    recovered: Decimal = ZERO
    written_off_at: datetime | None = None
    #: When the arrears job has the loan's next time-driven step to take (expiry or an arrears
    #: step), kept by lending/servicing.py at each transition: the job's query is one indexed compare.
    next_arrears_at: datetime | None = None
    version: int = 1
    events: list[LoanEvent] = field(default_factory=list)
    repayments: list[Repayment] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    #: Outbox rows added by this transaction (the mapping never loads the delivered past).
    notifications: list[Notification] = field(default_factory=list)

    @classmethod
    def submit(cls, customer_number: str, amount: Decimal, currency: str, request_id: str | None,
               now: datetime, created_by: str | None = None, product_code: str = "STANDARD") -> "Loan":
        loan = cls(id=new_loan_id(), customer_number=customer_number, amount=amount,
                   currency=currency, status=LoanStatus.PENDING, created_at=now, updated_at=now,
                   request_id=request_id, created_by=created_by, next_attempt_at=now,
                   product_code=product_code)
        loan.events.append(LoanEvent(loan.id, None, LoanStatus.PENDING, "SUBMITTED", now))
        return loan

    @property
    def is_ongoing(self) -> bool:
        return self.status in ONGOING

    @property
    def outstanding(self) -> Decimal | None:
        return total_outstanding(self.principal_outstanding, self.fees_outstanding,
                                 self.penalties_outstanding)

    def transition(self, to: LoanStatus, reason: str | None, now: datetime) -> None:
        if to not in TRANSITIONS[self.status]:
            raise errors.InvalidLoanState(
                f"loan {self.id} is {self.status.value}; it cannot become {to.value}", loan_id=self.id
            )
        self.events.append(LoanEvent(self.id, self.status, to, reason, now))
        if to in NOTIFIED:
            # Part of the transition itself, so no use case can forget to tell the bank; it
            # commits (or rolls back) with the status change.
            self.notifications.append(Notification(
                event_id=str(uuid.uuid4()), loan_id=self.id, customer_number=self.customer_number,
                status=to, previous_status=self.status, reason=reason, occurred_at=now,
                next_attempt_at=now))
        self.status = to
        self.status_reason = reason
        self.updated_at = now
        if to not in IN_SCORING:
            self.next_attempt_at = None
        if to in (LoanStatus.APPROVED, LoanStatus.REJECTED, LoanStatus.FAILED):
            self.decided_at = now
        if to not in ONGOING:
            self.next_arrears_at = None
