"""Repositories: they add and they get. Nothing else talks SQL for the use cases."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms_soap.lending.model import (
    IN_SCORING,
    ONGOING,
    ApiClient,
    Customer,
    Loan,
    LoanStatus,
    ScoringRegistration,
)


class SqlCustomerRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, customer: Customer) -> None:
        self.session.add(customer)

    def get(self, customer_number: str, *, for_update: bool = False) -> Customer | None:
        stmt = select(Customer).where(Customer.customer_number == customer_number)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()


class SqlLoanRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, loan: Loan) -> None:
        self.session.add(loan)

    def get(self, loan_id: str, *, for_update: bool = False) -> Loan | None:
        stmt = select(Loan).where(Loan.id == loan_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).one_or_none()

    def ongoing_for(self, customer_number: str) -> Loan | None:
        stmt = select(Loan).where(Loan.customer_number == customer_number,
                                  Loan.status.in_(list(ONGOING)))
        return self.session.scalars(stmt).first()

    def latest_for(self, customer_number: str) -> Loan | None:
        stmt = (select(Loan).where(Loan.customer_number == customer_number)
                .order_by(Loan.created_at.desc(), Loan.id.desc()).limit(1))
        return self.session.scalars(stmt).first()

    def by_request_id(self, request_id: str) -> Loan | None:
        return self.session.scalars(select(Loan).where(Loan.request_id == request_id)).first()

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

    def overdue_before(self, created_before: datetime, limit: int) -> Sequence[Loan]:
        stmt = (select(Loan).where(Loan.status.in_(list(IN_SCORING)), Loan.created_at < created_before)
                .order_by(Loan.created_at).limit(limit))
        return self.session.scalars(stmt).all()

    def count_by_status(self) -> dict[str, int]:
        rows = self.session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all()
        return {LoanStatus(status).value: count for status, count in rows}


class SqlApiClientRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, client: ApiClient) -> None:
        self.session.add(client)

    def get(self, username: str) -> ApiClient | None:
        return self.session.scalars(select(ApiClient).where(ApiClient.username == username)).first()

    def list(self) -> Iterable[ApiClient]:
        return self.session.scalars(select(ApiClient).order_by(ApiClient.username)).all()


class SqlRegistrationRepository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, registration: ScoringRegistration) -> None:
        self.session.add(registration)

    def get(self) -> ScoringRegistration | None:
        return self.session.get(ScoringRegistration, 1)
