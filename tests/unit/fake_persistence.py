"""Fakes of the persistence ports: a FakeDatabase of committed rows, repositories over it, and a
FakeUnitOfWork.

Each `with uow:` works on a private copy of the committed rows, so a transaction that ends without
commit() leaves the committed state as it was (the committed snapshot is restored by dropping the
copy). commit() enforces what the database enforces and, like SqlUnitOfWork, answers
errors.Conflict when it refuses a write: one ongoing loan per customer, unique (client, request_id), unique
(loan, reference) repayments, primary keys, unique API-client usernames, and optimistic
versioning of loans (a loan changed here whose committed version moved on meanwhile).
`uow.interleave(fn)` runs fn on a second unit of work over the same database right before the next
commit: a concurrent writer that got there first.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from lms_soap.lending import errors
from lms_soap.lending.model import (
    IN_SCORING,
    ONGOING,
    ApiClient,
    Customer,
    Loan,
    LoanStatus,
    Notification,
    ScoringRegistration,
)
from lms_soap.lending.admission import Admission
from lms_soap.lending.loan_view import LoanView
from lms_soap.lending.portfolio import BookEntry
from lms_soap.lending.scoring_state import ScoringState
from lms_soap.lending.products import STANDARD, Product


# --- persistence ----------------------------------------------------------------------------
@dataclass
class FakeDatabase:
    """Committed rows, keyed like their primary keys."""

    customers: dict[str, Customer] = field(default_factory=dict)
    loans: dict[str, Loan] = field(default_factory=dict)
    api_clients: dict[str, ApiClient] = field(default_factory=dict)
    registration: ScoringRegistration | None = None
    #: As the migrations leave it: STANDARD is there.
    products: dict[str, Product] = field(default_factory=lambda: {STANDARD.code: STANDARD})
    #: The outbox, by event id (rows arrive through Loan.notifications at commit).
    outbox: dict[str, Notification] = field(default_factory=dict)


class FakeCustomerRepository:
    def __init__(self, rows: dict[str, Customer]):
        self.rows = rows

    def add(self, customer: Customer) -> None:
        self.rows[customer.customer_number] = customer

    def get(self, customer_number: str, *, for_update: bool = False) -> Customer | None:
        return self.rows.get(customer_number)


def _newest_first(loan: Loan) -> tuple[datetime, str]:
    return loan.created_at, loan.id


class FakeLoanRepository:
    def __init__(self, rows: dict[str, Loan]):
        self.rows = rows

    def add(self, loan: Loan) -> None:
        self.rows[loan.id] = loan

    def get(self, loan_id: str, *, for_update: bool = False) -> Loan | None:
        return self.rows.get(loan_id)

    def view(self, loan_id: str) -> LoanView | None:
        loan = self.rows.get(loan_id)
        return LoanView.of(loan) if loan is not None else None

    def scoring_state(self, loan_id: str) -> ScoringState | None:
        loan = self.rows.get(loan_id)
        return ScoringState.of(loan) if loan is not None else None

    def ongoing_for(self, customer_number: str) -> Loan | None:
        return next((x for x in self.rows.values()
                     if x.customer_number == customer_number and x.status in ONGOING), None)

    def latest_for(self, customer_number: str) -> Loan | None:
        mine = [x for x in self.rows.values() if x.customer_number == customer_number]
        return max(mine, key=_newest_first, default=None)

    def list_for(self, customer_number, status, offset, limit):
        rows = sorted((x for x in self.rows.values() if x.customer_number == customer_number
                       and (status is None or x.status is status)), key=_newest_first, reverse=True)
        return rows[offset:offset + limit], len(rows)

    def due_for_scoring(self, before: datetime, limit: int) -> list[Loan]:
        due = [x for x in self.rows.values() if x.status in IN_SCORING
               and x.next_attempt_at is not None and x.next_attempt_at <= before]
        return sorted(due, key=lambda x: x.next_attempt_at)[:limit]

    def first_attempted_before(self, before: datetime, limit: int) -> list[Loan]:
        old = [x for x in self.rows.values() if x.status in IN_SCORING
               and x.first_attempt_at is not None and x.first_attempt_at < before]
        return sorted(old, key=lambda x: x.first_attempt_at)[:limit]

    def claim_step(self, loan_id: str, version: int, status, lease_end: datetime, now: datetime) -> bool:
        # On the transaction's copy; the commit bumps the version (as for every changed loan)
        # and refuses it with Conflict when a concurrent writer committed first, as the database
        # does to the second of two conditional UPDATEs.
        loan = self.rows.get(loan_id)
        if loan is None or loan.version != version or loan.status is not status:
            return False
        loan.next_attempt_at = lease_end
        if loan.first_attempt_at is None:
            loan.first_attempt_at = now
        return True

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for loan in self.rows.values():
            counts[loan.status.value] = counts.get(loan.status.value, 0) + 1
        return counts

    def count_decided_by_reason(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for loan in self.rows.values():
            if loan.decided_at is not None:
                key = (loan.status.value, loan.status_reason or "")
                counts[key] = counts.get(key, 0) + 1
        return counts

    def total_scoring_attempts(self) -> int:
        return sum(loan.scoring_attempts for loan in self.rows.values())

    def due_for_arrears(self, now: datetime, limit: int) -> list[Loan]:
        due = [x for x in self.rows.values() if x.status in ONGOING
               and x.next_arrears_at is not None and x.next_arrears_at <= now]
        return sorted(due, key=lambda x: x.next_arrears_at)[:limit]

    def admission(self, created_by: str, request_id: str | None, customer_number: str) -> Admission:
        return Admission.among(self.rows.values(), created_by, request_id, customer_number)

    def book_entries(self) -> list[BookEntry]:
        zero = Decimal("0.00")
        return [BookEntry(x.status.value, x.principal_outstanding or zero, x.outstanding or zero,
                          x.due_date) for x in self.rows.values()]


class FakeProductRepository:
    def __init__(self, rows: dict[str, Product]):
        self.rows = rows

    def add(self, product: Product) -> None:
        self.rows[product.code] = product

    def get(self, code: str) -> Product | None:
        return self.rows.get(code)

    def list(self) -> list[Product]:
        return [self.rows[code] for code in sorted(self.rows)]


class FakeOutboxRepository:
    def __init__(self, rows: dict[str, Notification]):
        self.rows = rows

    def claim_due(self, now: datetime, lease_end: datetime, limit: int) -> list[Notification]:
        due = sorted((x for x in self.rows.values() if x.delivered_at is None
                      and x.next_attempt_at is not None and x.next_attempt_at <= now),
                     key=lambda x: (x.next_attempt_at, x.occurred_at))[:limit]
        claimed = [copy.deepcopy(x) for x in due]
        for row in due:
            row.next_attempt_at = lease_end
        return claimed

    def mark_delivered(self, event_id: str, at: datetime, note: str | None = None) -> None:
        row = self.rows[event_id]
        row.delivered_at, row.next_attempt_at, row.last_error = at, None, note
        row.attempts += 0 if note else 1

    def mark_failed(self, event_id: str, error: str, retry_at: datetime) -> int:
        row = self.rows[event_id]
        if row.delivered_at is None:
            row.attempts += 1
            row.next_attempt_at, row.last_error = retry_at, error
        return row.attempts

    def pending_count(self) -> int:
        return sum(1 for x in self.rows.values() if x.delivered_at is None)


class FakeApiClientRepository:
    def __init__(self, rows: dict[str, ApiClient]):
        self.rows = rows

    def add(self, client: ApiClient) -> None:
        self.rows[client.username] = client

    def get(self, username: str) -> ApiClient | None:
        return self.rows.get(username)

    def list(self) -> list[ApiClient]:
        return sorted(self.rows.values(), key=lambda c: c.username)


class FakeRegistrationRepository:
    def __init__(self, tables: FakeDatabase):
        self.tables = tables

    def add(self, registration: ScoringRegistration) -> None:
        self.tables.registration = registration

    def get(self) -> ScoringRegistration | None:
        return self.tables.registration


class _Closed:
    """Stands in for the repositories outside `with uow:`: using them then is a bug."""

    def __getattr__(self, name: str):
        raise AssertionError(f"repository used outside a transaction (.{name})")


class FakeUnitOfWork:
    def __init__(self, database: FakeDatabase | None = None):
        self.database = database if database is not None else FakeDatabase()
        self.committed = False  # commit() ran in the current (or last) transaction
        self.commits = 0  # successful commits over this object's life
        self.entered = 0  # transactions begun
        self._interleaved: list[Callable[[FakeUnitOfWork], Any]] = []
        self._base: FakeDatabase | None = None
        self._close()

    def sibling(self) -> "FakeUnitOfWork":
        """Another unit of work on the same database (another request or worker)."""
        return FakeUnitOfWork(self.database)

    def interleave(self, concurrent_writer: Callable[["FakeUnitOfWork"], Any]) -> None:
        """Run concurrent_writer(sibling) right before the next commit, as if it committed first."""
        self._interleaved.append(concurrent_writer)

    def __enter__(self) -> "FakeUnitOfWork":
        assert self._base is None, "nested transaction on one unit of work"
        self.entered += 1
        self.committed = False
        self._begin()
        return self

    def __exit__(self, *exc_info) -> None:
        self._close()  # without commit() the working copy is dropped: nothing it changed survives

    def rollback(self) -> None:
        self._begin()

    def commit(self) -> None:
        assert self._base is not None, "commit() outside a transaction"
        while self._interleaved:
            self._interleaved.pop(0)(self.sibling())
        try:
            self._check()
        except errors.Conflict:
            self.rollback()
            raise
        self._write()
        self.committed = True
        self.commits += 1

    # -- internals --
    def _begin(self) -> None:
        self._base = copy.deepcopy(self.database)
        self._work = copy.deepcopy(self.database)
        self.customers = FakeCustomerRepository(self._work.customers)
        self.loans = FakeLoanRepository(self._work.loans)
        self.api_clients = FakeApiClientRepository(self._work.api_clients)
        self.registrations = FakeRegistrationRepository(self._work)
        self.products = FakeProductRepository(self._work.products)
        self.outbox = FakeOutboxRepository(self._work.outbox)

    def _close(self) -> None:
        self._base = None
        self.customers = self.loans = self.api_clients = self.registrations = _Closed()
        self.products = self.outbox = _Closed()

    def _changed(self, name: str) -> dict[str, Any]:
        base, work = getattr(self._base, name), getattr(self._work, name)
        return {key: row for key, row in work.items() if base.get(key) != row}

    def _check(self) -> None:
        db, base = self.database, self._base
        loans = self._changed("loans")
        for loan_id, loan in loans.items():
            if loan_id in base.loans and db.loans[loan_id].version != base.loans[loan_id].version:
                raise errors.Conflict("the row was changed by a concurrent writer", constraint="version")
            if loan_id not in base.loans and loan_id in db.loans:
                raise errors.Conflict("refused by pk_loans", constraint="pk_loans")
            references = [r.reference for r in loan.repayments]
            if len(set(references)) != len(references):
                raise errors.Conflict("refused", constraint="uq_repayments_loan_reference")
        merged = list({**db.loans, **loans}.values())
        # As SQL's UNIQUE (created_by, request_id): rows with a NULL in either never collide.
        request_ids = [(x.created_by, x.request_id) for x in merged
                       if x.request_id is not None and x.created_by is not None]
        if len(set(request_ids)) != len(request_ids):
            raise errors.Conflict("refused by uq_loans_created_by_request_id",
                                  constraint="uq_loans_created_by_request_id")
        ongoing = [x.customer_number for x in merged if x.status in ONGOING]
        if len(set(ongoing)) != len(ongoing):
            raise errors.Conflict("refused by uq_loans_one_ongoing_per_customer",
                                  constraint="uq_loans_one_ongoing_per_customer")
        for name, constraint in (("customers", "pk_customers"), ("api_clients", "uq_api_clients_username"),
                                 ("products", "pk_products")):
            for key in self._changed(name):
                if key not in getattr(base, name) and key in getattr(db, name):
                    raise errors.Conflict(f"refused by {constraint}", constraint=constraint)
        if base.registration is None and self._work.registration is not None and db.registration:
            raise errors.Conflict("refused by pk_scoring_registrations",
                                  constraint="pk_scoring_registrations")

    def _write(self) -> None:
        for loan_id, loan in self._changed("loans").items():
            if loan_id in self._base.loans:
                loan.version += 1  # what the ORM's version_id_col does on UPDATE
            stored = copy.deepcopy(loan)
            # The outbox rows the transitions appended go to the outbox; like the mapping's
            # noload, a loan read later never carries them.
            for row in stored.notifications:
                self._work.outbox.setdefault(row.event_id, row)
            stored.notifications = []
            loan.notifications = []
            self.database.loans[loan_id] = stored
        for name in ("customers", "api_clients", "products", "outbox"):
            for key, row in self._changed(name).items():
                getattr(self.database, name)[key] = copy.deepcopy(row)
        if self._work.registration != self._base.registration:
            self.database.registration = copy.deepcopy(self._work.registration)
        self._base = copy.deepcopy(self._work)
