"""The unit of work: owns one transaction; rolls back unless commit() ran.

It also translates the database's refusals into domain terms (lending.errors), so that the use
cases can react to a lost race without knowing SQL.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, replace
from typing import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from lms_soap.lending import errors
from lms_soap.lending.model import Loan

from . import audit, reads_without_begin
from .lifecycle_repositories import SqlOutboxRepository, SqlProductRepository
from .repositories import (
    SqlApiClientRepository,
    SqlCustomerRepository,
    SqlLoanRepository,
    SqlRegistrationRepository,
)
from .tables import ONGOING_INDEX, REQUEST_ID_CONSTRAINT

log = logging.getLogger(__name__)


def _constraint_of(exc: sa_exc.IntegrityError) -> str:
    """The name (PostgreSQL) or the columns (SQLite) of the constraint that refused the row."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return name
    text = str(orig)
    # SQLite names the columns, not the index: "UNIQUE constraint failed: loans.customer_number"
    if "loans.customer_number" in text:
        return ONGOING_INDEX
    if "loans.created_by" in text:
        return REQUEST_ID_CONSTRAINT
    if "repayments.loan_id" in text:
        return "uq_repayments_loan_reference"
    if "customers.customer_number" in text:
        return "pk_customers"
    if "api_clients.username" in text:
        return "uq_api_clients_username"
    if "scoring_registrations.id" in text:
        return "pk_scoring_registrations"
    return "unknown"


#: PostgreSQL's SQLSTATE for a statement cancelled (by statement_timeout, here).
QUERY_CANCELED = "57014"


def translate_db_error(exc: Exception) -> errors.LendingError | None:
    """A domain error for a database exception we know how to name, else None."""
    if isinstance(exc, StaleDataError):
        return errors.Conflict("the row was changed by a concurrent writer", constraint="version")
    if isinstance(exc, sa_exc.IntegrityError):
        constraint = _constraint_of(exc)
        return errors.Conflict(f"refused by {constraint}", constraint=constraint)
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    ):
        if "database is locked" in str(exc):
            return errors.ServiceUnavailable("the database is busy; retry")
        if getattr(getattr(exc, "orig", None), "pgcode", None) == QUERY_CANCELED:
            return errors.ServiceUnavailable("a database statement ran past DB_STATEMENT_TIMEOUT; retry")
        return errors.ServiceUnavailable("the database is unavailable")
    return None


class SqlUnitOfWork:
    def __init__(self, session_factory: Callable[[], Session]):
        self.session_factory = session_factory
        self.session: Session | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self.session = self.session_factory()
        self.customers = SqlCustomerRepository(self.session)
        self.loans = SqlLoanRepository(self.session)
        self.api_clients = SqlApiClientRepository(self.session)
        self.registrations = SqlRegistrationRepository(self.session)
        self.products = SqlProductRepository(self.session)
        self.outbox = SqlOutboxRepository(self.session)
        self._committed = False
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Without commit(), close() rolls the transaction back as the connection returns to the
        # pool; unlike rollback() it leaves what was read readable (detached, not expired).
        assert self.session is not None
        self.session.close()
        if exc is not None:
            translated = translate_db_error(exc)
            if translated is not None:
                raise translated from exc

    def commit(self) -> None:
        assert self.session is not None
        try:
            carried = self._add_audit_row(audit.pending_audit.get())
            self.session.commit()
        except Exception as exc:
            self.session.rollback()
            translated = translate_db_error(exc)
            if translated is not None:
                raise translated from exc
            raise
        self._committed = True
        if carried is not None:
            carried.committed = True

    def _add_audit_row(self, pending: audit.PendingAudit | None) -> audit.PendingAudit | None:
        """The audit row of the call being served, in this transaction: the change commits with
        it or not at all. The first commit of a call carries it (later ones are the same call)."""
        entry = pending.entry() if pending is not None else None
        if entry is None:
            return None
        if entry.loan_id is None:  # SubmitLoan: the loan this transaction creates
            new_loans = [obj.id for obj in self.session.new if isinstance(obj, Loan)]
            if len(new_loans) == 1:
                entry = replace(entry, loan_id=new_loans[0])
        try:
            self.session.execute(audit.INSERT, asdict(entry))
        except sa_exc.DBAPIError as exc:
            if translate_db_error(exc) is not None and not isinstance(exc, sa_exc.IntegrityError):
                raise  # the database is down or busy: that fault, as for any other statement
            log.error("audit row not written: %s rolled back", entry.operation, exc_info=True)
            raise errors.InternalError("the audit row could not be written") from exc
        return pending

    def flush(self) -> None:
        assert self.session is not None
        self.session.flush()

    def rollback(self) -> None:
        assert self.session is not None
        try:
            self.session.rollback()
        except sa_exc.DBAPIError:
            pass  # the connection is already gone; nothing was written


class SqlUnitOfWorkFactory:
    """Builds a fresh SqlUnitOfWork per use: `with uow_factory() as uow:`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        # expire_on_commit=False: the use cases return objects read in the transaction after it commits.
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        if reads_without_begin.applies_to(engine):
            reads_without_begin.install(self.sessionmaker, engine)  # reads skip BEGIN/ROLLBACK

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessionmaker)
