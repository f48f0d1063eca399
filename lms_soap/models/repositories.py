"""Repositories: they add and they get. Nothing else talks SQL for the use cases."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from lms_soap.lending.model import (
    IN_SCORING,
    ONGOING,
    ZERO,
    ApiClient,
    Customer,
    Loan,
    LoanStatus,
    ScoringRegistration,
)

from lms_soap.lending.admission import Admission
from lms_soap.lending.loan_view import LOAN_VIEW_FIELDS, LoanEventView, LoanView
from lms_soap.lending.portfolio import BookEntry
from lms_soap.lending.scoring_state import ScoringState

from . import tables
from .statements import prebuilt


def _whole_loan() -> tuple:
    """Load options reading one loan with its events and repayments in ONE query (LEFT OUTER
    JOINs) instead of the mapping's three (the loan, then a selectin query per collection).
    For reads of a single loan; lists keep the selectin loads (three queries for any number)."""
    return joinedload(Loan.events), joinedload(Loan.repayments), joinedload(Loan.charges)


class SqlCustomerRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, customer: Customer) -> None:
        self.session.add(customer)

    def get(self, customer_number: str, *, for_update: bool = False) -> Customer | None:
        key = "customer_for_update" if for_update else "customer"

        def build():
            stmt = select(Customer).where(Customer.customer_number == bindparam("customer_number"))
            return stmt.with_for_update() if for_update else stmt

        params = {"customer_number": customer_number}
        return self.session.scalars(prebuilt(key, build), params).one_or_none()


class SqlLoanRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, loan: Loan) -> None:
        self.session.add(loan)

    def get(self, loan_id: str, *, for_update: bool = False) -> Loan | None:
        params = {"loan_id": loan_id}
        if for_update:
            # FOR UPDATE cannot lock the nullable side of an outer join: the mapping's selectin loads.
            stmt = prebuilt("loan_for_update", lambda: select(Loan).where(
                Loan.id == bindparam("loan_id")).with_for_update())
            return self.session.scalars(stmt, params).one_or_none()
        stmt = prebuilt("loan", lambda: select(Loan).where(
            Loan.id == bindparam("loan_id")).options(*_whole_loan()))
        return self.session.scalars(stmt, params).unique().one_or_none()

    def view(self, loan_id: str) -> LoanView | None:
        # One statement, the loan's columns beside each of its events (LEFT OUTER JOIN, oldest
        # first): one snapshot, no ORM objects built (services/types.py packs it as it packs a Loan).
        def build():
            loans, events = tables.loans, tables.loan_events
            return (select(*(loans.c[name] for name in LOAN_VIEW_FIELDS),
                           events.c.from_status.label("event_from"), events.c.to_status.label("event_to"),
                           events.c.reason.label("event_reason"), events.c.at.label("event_at"))
                    .select_from(loans.outerjoin(events, events.c.loan_id == loans.c.id))
                    .where(loans.c.id == bindparam("loan_id")).order_by(events.c.id))
        rows = self.session.connection().execute(prebuilt("loan_view", build), {"loan_id": loan_id}).all()
        if not rows:
            return None
        first = rows[0]
        history = tuple(LoanEventView(row.event_from, row.event_to, row.event_reason, row.event_at)
                        for row in rows if row.event_to is not None)
        return LoanView(*first[:len(LOAN_VIEW_FIELDS)], events=history)

    def scoring_state(self, loan_id: str) -> ScoringState | None:
        t = tables.loans
        stmt = prebuilt("scoring_state", lambda: select(
            t.c.status, t.c.next_attempt_at, t.c.version, t.c.scoring_token, t.c.customer_number)
            .where(t.c.id == bindparam("loan_id")))
        row = self.session.connection().execute(stmt, {"loan_id": loan_id}).first()
        return None if row is None else ScoringState(LoanStatus(row.status), *row[1:])

    def ongoing_for(self, customer_number: str) -> Loan | None:
        stmt = prebuilt("ongoing", lambda: select(Loan).where(
            Loan.customer_number == bindparam("customer_number"), Loan.status.in_(list(ONGOING))))
        return self.session.scalars(stmt, {"customer_number": customer_number}).first()

    def latest_for(self, customer_number: str) -> Loan | None:
        stmt = prebuilt("latest", lambda: select(Loan).where(
            Loan.customer_number == bindparam("customer_number"))
            .order_by(Loan.created_at.desc(), Loan.id.desc()).limit(1).options(*_whole_loan()))
        return self.session.scalars(stmt, {"customer_number": customer_number}).unique().first()

    def list_for(self, customer_number: str, status: LoanStatus | None, offset: int,
                 limit: int) -> tuple[Sequence[Loan], int]:
        where = [Loan.customer_number == customer_number]
        if status is not None:
            where.append(Loan.status == status)
        total = self.session.scalar(select(func.count()).select_from(Loan).where(*where)) or 0
        rows = self.session.scalars(
            select(Loan).where(*where).order_by(Loan.created_at.desc(), Loan.id.desc())
            .offset(offset).limit(limit)
        ).all()
        return rows, total

    def due_for_scoring(self, before: datetime, limit: int) -> Sequence[Loan]:
        stmt = (select(Loan).where(Loan.status.in_(list(IN_SCORING)), Loan.next_attempt_at <= before)
                .order_by(Loan.next_attempt_at).limit(limit))
        return self.session.scalars(stmt).all()

    def first_attempted_before(self, before: datetime, limit: int) -> Sequence[Loan]:
        stmt = (select(Loan).where(Loan.status.in_(list(IN_SCORING)), Loan.first_attempt_at < before)
                .order_by(Loan.first_attempt_at).limit(limit))
        return self.session.scalars(stmt).all()

    def claim_step(self, loan_id: str, version: int, status: LoanStatus, lease_end: datetime,
                   now: datetime) -> bool:
        # A Core UPDATE, not the ORM's: its WHERE is the claim, and the row count says who won
        # (PostgreSQL re-checks the WHERE of a second concurrent UPDATE after the first commits).
        # Built once with bound parameters (named apart from the columns the SET clause uses).
        def build():
            t = tables.loans
            return (update(t).where(t.c.id == bindparam("claim_id"), t.c.version == bindparam("claim_version"),
                                    t.c.status == bindparam("claim_status"))
                    .values(version=t.c.version + 1, next_attempt_at=bindparam("lease_end", type_=tables.UTC_TIME),
                            first_attempt_at=func.coalesce(t.c.first_attempt_at,
                                                           bindparam("claim_now", type_=tables.UTC_TIME))))
        params = {"claim_id": loan_id, "claim_version": version, "claim_status": status,
                  "lease_end": lease_end, "claim_now": now}
        return self.session.execute(prebuilt("claim_step", build), params).rowcount == 1

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all()
        return {LoanStatus(status).value: count for status, count in rows}

    def count_decided_by_reason(self) -> dict[tuple[str, str], int]:
        t = tables.loans
        rows = self.session.execute(select(t.c.status, t.c.status_reason, func.count())
                                    .where(t.c.decided_at.is_not(None))
                                    .group_by(t.c.status, t.c.status_reason)).all()
        return {(LoanStatus(status).value, reason or ""): count for status, reason, count in rows}

    def total_scoring_attempts(self) -> int:
        t = tables.loans
        return int(self.session.execute(select(func.coalesce(func.sum(t.c.scoring_attempts), 0))).scalar())

    def due_for_arrears(self, now: datetime, limit: int) -> Sequence[Loan]:
        stmt = (select(Loan).where(Loan.status.in_(list(ONGOING)), Loan.next_arrears_at <= now)
                .order_by(Loan.next_arrears_at).limit(limit))
        return self.session.scalars(stmt).all()

    def admission(self, created_by: str, request_id: str | None, customer_number: str) -> Admission:
        # The three lookups of SubmitLoan as one statement (the request-id constraint's index OR
        # the customer's); Admission.among applies the same tests to the few rows it returns.
        def build():
            t = tables.loans
            owed = (func.coalesce(t.c.principal_outstanding, 0) + func.coalesce(t.c.fees_outstanding, 0)
                    + func.coalesce(t.c.penalties_outstanding, 0))
            return select(Loan).where(or_(
                and_(Loan.created_by == bindparam("created_by"), Loan.request_id == bindparam("request_id")),
                and_(Loan.customer_number == bindparam("customer_number"),
                     or_(Loan.status.in_(list(ONGOING)),
                         and_(Loan.status == LoanStatus.WRITTEN_OFF, owed > 0)))))
        rows = self.session.scalars(prebuilt("admission", build), {
            "created_by": created_by, "request_id": request_id, "customer_number": customer_number}).all()
        return Admission.among(rows, created_by, request_id, customer_number)

    def book_entries(self) -> Sequence[BookEntry]:
        # Plain columns, no loan objects: the report reads every loan.
        t = tables.loans
        rows = self.session.execute(select(t.c.status, t.c.principal_outstanding, t.c.fees_outstanding,
                                           t.c.penalties_outstanding, t.c.due_date)).all()
        entries = []
        for status, principal, fees, penalties, due_date in rows:
            principal = principal if principal is not None else ZERO
            total = principal + (fees if fees is not None else ZERO) + (
                penalties if penalties is not None else ZERO)
            entries.append(BookEntry(LoanStatus(status).value, principal, total, due_date))
        return entries


class SqlApiClientRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, client: ApiClient) -> None:
        self.session.add(client)

    def get(self, username: str) -> ApiClient | None:
        stmt = prebuilt("api_client", lambda: select(ApiClient).where(
            ApiClient.username == bindparam("username")))
        return self.session.scalars(stmt, {"username": username}).first()

    def list(self) -> Iterable[ApiClient]:
        return self.session.scalars(select(ApiClient).order_by(ApiClient.username)).all()


class SqlRegistrationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, registration: ScoringRegistration) -> None:
        self.session.add(registration)

    def get(self) -> ScoringRegistration | None:
        return self.session.get(ScoringRegistration, 1)
