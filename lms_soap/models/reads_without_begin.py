"""Reads outside transactions, writes inside one (PostgreSQL with psycopg2; written against
SQLAlchemy 2.x and psycopg2 2.9, checked by tests/unit/test_library_seams.py: it leans on the
session events after_begin/before_flush/do_orm_execute, on the private `_for_update_arg` of a
select, and on psycopg2's `autocommit`).

psycopg2 opens every transaction with a BEGIN of its own (a round-trip) and the unit of work ends
even a read-only one with a ROLLBACK (another): a GetLoanStatus was BEGIN, SELECT, ROLLBACK. Here
a unit of work's session runs its statements in autocommit mode until it is about to write: the
first flush, DML statement or SELECT ... FOR UPDATE switches the connection back to a transaction
(psycopg2 then sends BEGIN before that statement), which the commit or rollback ends as before.
So a read-only unit of work is one round-trip per SELECT, and a writing one is unchanged.

Nothing a use case can observe changes: the LMS runs at PostgreSQL's default READ COMMITTED,
where every statement of a transaction takes its own snapshot anyway, so a SELECT reads the same
rows in autocommit as inside BEGIN ... ; plain SELECTs take no lock that a transaction would hold;
row locks (FOR UPDATE) and every write run inside the transaction, as before.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .db import is_psycopg2
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

_RAW = "lms.raw_connection"


applies_to = is_psycopg2


def install(factory: sessionmaker, engine: Engine) -> None:
    """Read in autocommit, write in a transaction, for the sessions `factory` makes."""
    event.listen(factory, "after_begin", _reads_in_autocommit)
    event.listen(factory, "before_flush", _write_in_transaction)
    event.listen(factory, "do_orm_execute", _lock_or_write_in_transaction)
    if not event.contains(engine, "checkin", _transactional_in_the_pool):
        event.listen(engine, "checkin", _transactional_in_the_pool)


def _reads_in_autocommit(session: Session, _transaction, connection) -> None:
    # The session just took a connection from the pool (no statement sent yet, no transaction).
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.closed and not raw.autocommit:
        raw.autocommit = True
    session.info[_RAW] = raw


def begin_transaction(session: Session) -> None:
    """From here to the session's commit or rollback, statements run in one transaction."""
    session.connection()  # take the connection now if no statement has yet
    raw = session.info.get(_RAW)
    if raw is not None and not raw.closed and raw.autocommit:
        raw.autocommit = False  # no transaction is open in autocommit mode: allowed


def _write_in_transaction(session: Session, _flush_context, _instances) -> None:
    begin_transaction(session)


def _lock_or_write_in_transaction(state: ORMExecuteState) -> None:
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is None:
        return
    begin_transaction(state.session)


def _transactional_in_the_pool(dbapi_connection, _record) -> None:
    # Every other user of the engine (the audit log, /readyz, metrics, tests) gets what it expects.
    try:
        if not dbapi_connection.closed and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False
    except Exception:  # noqa: BLE001 - a broken connection: the pool replaces it
        pass
