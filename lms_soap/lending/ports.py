"""The interfaces the use cases depend on. models/, clients/ and jobs/ implement them;
tests/unit/fakes.py holds hand-written fakes of each.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Protocol, Sequence

from .admission import Admission
from .loan_view import LoanView
from .model import ApiClient, Customer, KycRecord, Loan, LoanStatus, Notification, ScoringRegistration
from .portfolio import BookEntry
from .scoring_state import ScoringState
from .products import Product


# --- outbound systems -------------------------------------------------------------------------
class CoreBanking(Protocol):
    """The bank's Core Banking System (KYC and transaction records).

    Both methods raise errors.CoreBankingUnavailable when the CBS is down, slow past its timeout,
    faulting or answering something unreadable.
    """

    def fetch_customer(self, customer_number: str) -> KycRecord | None:
        """The KYC record, or None when the CBS does not know the customer."""

    def fetch_transactions(self, customer_number: str) -> list[dict[str, Any]]:
        """Transaction records: dicts keyed by the 72 CBS field names, in the WSDL's order.

        Values keep the CBS types (str, int, float for xs:double, timezone-aware datetime);
        absent optional fields are None. A customer with no records gives [].
        """


@dataclass(frozen=True)
class EngineClient:
    """What createClient returned."""

    client_id: str
    token: str


@dataclass(frozen=True)
class ScoreResult:
    score: int | None
    #: The engine's limit exactly as it sent it (any number of decimals): the decision compares
    #: against this value, never a rounded one.
    limit_amount: Decimal | None
    exclusion: str | None
    exclusion_reason: str | None


class ScoringEngine(Protocol):
    """The third-party scoring engine. Every method raises errors.ScoringEngineUnavailable on
    a connection error, a timeout, a 5xx or an unreadable answer."""

    def create_client(self, url: str, name: str, username: str, password: str) -> EngineClient: ...

    def initiate(self, customer_number: str, client_token: str) -> str:
        """Start a scoring; returns the score token."""

    def query_score(self, score_token: str, client_token: str) -> ScoreResult | None:
        """The result, or None while it is not ready yet (404, 204, empty body, no score)."""


class JobQueue(Protocol):
    def schedule_scoring(self, loan_id: str, at: datetime | None = None) -> None:
        """Queue the next scoring step of a loan, now or at `at`. Raises errors.QueueUnavailable."""


class BankNotifier(Protocol):
    """The bank's callback endpoint (NotifyLoanEvent). notify() returns when the bank took the
    event (any 2xx) and raises errors.BankCallbackFailed on anything else (down, slow past the
    deadline, a non-2xx answer), so the outbox row is retried."""

    def notify(self, notification: Notification, loan: Loan) -> None: ...


class SecretBox(Protocol):
    """Keyed hashing of API secrets and reversible encryption of tokens we must send on."""

    def hash_secret(self, secret: str) -> str: ...

    def verify_secret(self, secret: str, stored_hash: str) -> bool: ...

    def dummy_hash(self) -> str:
        """A stored hash no secret matches, as costly to verify as a real one (for unknown clients)."""
        ...

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


# --- persistence --------------------------------------------------------------------------
class CustomerRepository(Protocol):
    def add(self, customer: Customer) -> None: ...

    def get(self, customer_number: str, *, for_update: bool = False) -> Customer | None: ...


class LoanRepository(Protocol):
    def add(self, loan: Loan) -> None: ...

    def get(self, loan_id: str, *, for_update: bool = False) -> Loan | None: ...

    def view(self, loan_id: str) -> LoanView | None:
        """The loan as answers show it, with its history: a snapshot, for reading only."""

    def scoring_state(self, loan_id: str) -> ScoringState | None:
        """What the scoring step needs to decide whether it is due and to claim it."""

    def ongoing_for(self, customer_number: str) -> Loan | None: ...

    def latest_for(self, customer_number: str) -> Loan | None: ...

    def list_for(self, customer_number: str, status: LoanStatus | None, offset: int,
                 limit: int) -> tuple[Sequence[Loan], int]: ...

    def due_for_scoring(self, before: datetime, limit: int) -> Sequence[Loan]:
        """PENDING/SCORING loans whose next attempt is at or before `before`, oldest first."""

    def first_attempted_before(self, before: datetime, limit: int) -> Sequence[Loan]:
        """PENDING/SCORING loans whose first attempt at the engine was before `before` (past the
        scoring deadline), oldest first. A loan never attempted is not among them."""

    def claim_step(self, loan_id: str, version: int, status: LoanStatus, lease_end: datetime,
                   now: datetime) -> bool:
        """Claim the loan's next scoring step, in one conditional update: only if the loan is still
        at `version` and in `status`, bump its version, set next_attempt_at to `lease_end` (no
        other step is due before it) and first_attempt_at to `now` unless already set. True when
        this call won; False when a concurrent writer changed the loan first. Takes effect with
        the unit of work's commit."""

    def count_by_status(self) -> dict[str, int]:
        """How many loans each status has (statuses without loans are absent)."""

    def count_decided_by_reason(self) -> dict[tuple[str, str], int]:
        """How many decided loans (decided_at set) each (status, reason) has; no reason is ""."""

    def total_scoring_attempts(self) -> int:
        """The queryScore polls made, summed over every loan."""

    def due_for_arrears(self, now: datetime, limit: int) -> Sequence[Loan]:
        """Ongoing loans whose next time-driven step (next_arrears_at) is at or before `now`."""

    def admission(self, created_by: str, request_id: str | None, customer_number: str) -> Admission:
        """SubmitLoan's checks in one read: the loan `created_by` submitted with `request_id`
        (unique per client), the customer's ongoing loan, and a WRITTEN_OFF loan of the customer
        with something still outstanding (lending/admission.py)."""

    def book_entries(self) -> Sequence[BookEntry]:
        """Every loan as the portfolio report sees it (status, balances, due date)."""


class ProductRepository(Protocol):
    def add(self, product: Product) -> None: ...

    def get(self, code: str) -> Product | None: ...

    def list(self) -> Sequence[Product]: ...


class OutboxRepository(Protocol):
    """The bank notifications waiting to be delivered (rows are added through Loan.notifications)."""

    def claim_due(self, now: datetime, lease_end: datetime, limit: int) -> Sequence[Notification]:
        """Undelivered rows due by `now`, each claimed by moving its next_attempt_at to
        `lease_end` in a conditional update (a row another worker claimed meanwhile is skipped).
        Takes effect with the commit."""

    def mark_delivered(self, event_id: str, at: datetime, note: str | None = None) -> None: ...

    def mark_failed(self, event_id: str, error: str, retry_at: datetime) -> int:
        """Count one more failed attempt and set the next; returns the attempts so far."""

    def pending_count(self) -> int: ...


class ApiClientRepository(Protocol):
    def add(self, client: ApiClient) -> None: ...

    def get(self, username: str) -> ApiClient | None: ...

    def list(self) -> Iterable[ApiClient]: ...


class RegistrationRepository(Protocol):
    def add(self, registration: ScoringRegistration) -> None: ...

    def get(self) -> ScoringRegistration | None: ...


class UnitOfWork(Protocol):
    """A transaction: a context manager that rolls back unless commit() ran.

    commit() raises errors.Conflict when a unique constraint refuses a row (the one-ongoing-loan
    index, request_id, a repayment reference, a primary key) or a concurrent writer changed the
    same row (optimistic versioning): the use cases re-read and raise the fault that applies
    (LoanInProgress, a replay, ...). errors.ServiceUnavailable when the database cannot be reached.
    """

    customers: CustomerRepository
    loans: LoanRepository
    api_clients: ApiClientRepository
    registrations: RegistrationRepository
    products: ProductRepository
    outbox: OutboxRepository

    def __enter__(self) -> "UnitOfWork": ...

    def __exit__(self, *exc_info) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
