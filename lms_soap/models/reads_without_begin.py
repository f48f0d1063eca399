"""Reads outside transactions, writes inside one (PostgreSQL with psycopg2, and SQLite;
written against SQLAlchemy 2.x and psycopg2 2.9, checked by tests/unit/test_library_seams.py: it
leans on the session events after_begin/before_flush/do_orm_execute, on the private
`_for_update_arg` of a select, and on psycopg2's `autocommit`).

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

SQLite: every other user of the engine begins with BEGIN IMMEDIATE (models/db.py: the write lock,
so that two writers serialise instead of failing on a lock upgrade); a unit of work's connection
carries DEFERRED_BEGIN, so it reads in autocommit (WAL: a read neither waits for the writer nor
blocks it) and sends BEGIN IMMEDIATE before its first flush, DML statement or locking read (SQLite
has no FOR UPDATE: the lock is the whole database). No read transaction is ever upgraded, and from
the locking read to the commit the unit of work is alone to write, as before.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

_RAW = "lms.raw_connection"
#: Execution option of a unit of work's SQLite connections: models/db.py sends no BEGIN for them.
DEFERRED_BEGIN = "lms_deferred_begin"
_STARTS_NO_WRITE = ("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")


def applies_to(engine: Engine) -> bool:
    return _sqlite(engine) or (engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg2")


def _sqlite(engine) -> bool:
    return engine.dialect.name == "sqlite"


def install(factory: sessionmaker, engine: Engine) -> None:
    """Read in autocommit, write in a transaction, for the sessions `factory` makes."""
    if _sqlite(engine):
        factory.configure(bind=engine.execution_options(**{DEFERRED_BEGIN: True}))
        if not event.contains(engine, "before_cursor_execute", _sqlite_write_in_transaction):
            event.listen(engine, "before_cursor_execute", _sqlite_write_in_transaction)
    else:
        event.listen(factory, "after_begin", _reads_in_autocommit)
        if not event.contains(engine, "checkin", _transactional_in_the_pool):
            event.listen(engine, "checkin", _transactional_in_the_pool)
    event.listen(factory, "before_flush", _write_in_transaction)
    event.listen(factory, "do_orm_execute", _lock_or_write_in_transaction)


def _reads_in_autocommit(session: Session, _transaction, connection) -> None:
    # The session just took a connection from the pool (no statement sent yet, no transaction).
    raw = connection.connection.dbapi_connection
    if raw is not None and not raw.closed and not raw.autocommit:
        raw.autocommit = True
    session.info[_RAW] = raw


def begin_transaction(session: Session) -> None:
    """From here to the session's commit or rollback, statements run in one transaction."""
    connection = session.connection()  # take the connection now if no statement has yet
    if _sqlite(connection):
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    raw = session.info.get(_RAW)
    if raw is not None and not raw.closed and raw.autocommit:
        raw.autocommit = False  # no transaction is open in autocommit mode: allowed


def _write_in_transaction(session: Session, _flush_context, _instances) -> None:
    begin_transaction(session)


def _lock_or_write_in_transaction(state: ORMExecuteState) -> None:
    if state.is_select and getattr(state.statement, "_for_update_arg", None) is None:
        return
    begin_transaction(state.session)


def _sqlite_write_in_transaction(conn, cursor, statement, _parameters, _context, _executemany) -> None:
    # The net under the session hooks: a write sent on a unit of work's connection by any other
    # path (session.connection().execute) still starts with the lock.
    if (conn.get_execution_options().get(DEFERRED_BEGIN) and not cursor.connection.in_transaction
            and not statement.lstrip()[:8].upper().startswith(_STARTS_NO_WRITE)):
        cursor.execute("BEGIN IMMEDIATE")


def _transactional_in_the_pool(dbapi_connection, _record) -> None:
    # Every other user of the engine (the audit log, /readyz, metrics, tests) gets what it expects.
    try:
        if not dbapi_connection.closed and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False
    except Exception:  # noqa: BLE001 - a broken connection: the pool replaces it
        pass
