"""Engine construction: one engine per process, built by bootstrap (never at import time)."""
from __future__ import annotations

import select
import time

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url

from lms_soap.config import Settings

from .transactions import DEFERRED_BEGIN


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        # SQLite: one file, writers serialised by its lock; wait for it instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False},
                               hide_parameters=True,  # a failed statement must not log KYC data
                               pool_pre_ping=False)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # BEGIN IMMEDIATE takes the write lock up front, so two writers serialise instead of
            # dead-locking on a lock upgrade (pysqlite's implicit BEGIN is deferred). A unit of
            # work's connection reads without it and takes it at its first write (transactions.py).
            if conn.get_execution_options().get(DEFERRED_BEGIN):
                return
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # Let SQLAlchemy, not pysqlite, emit BEGIN (see the "begin" hook above).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None

        return engine
    engine = create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_max_overflow,
        pool_pre_ping=False,  # see _ping_when_in_doubt: the same recovery, without a round-trip per checkout
        pool_recycle=1800,
        hide_parameters=True,  # errors and logs never carry the row's values (KYC data, tokens)
        connect_args=_postgresql_connect_args(settings),
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_when_in_doubt)
    return engine


def _postgresql_connect_args(settings: Settings) -> dict[str, object]:
    args: dict[str, object] = {"connect_timeout": settings.db_connect_timeout, "application_name": "lms-soap"}
    if settings.db_statement_timeout:
        # A libpq startup option, so every session has it from its first statement, with no SET
        # round-trip per connection. The server cancels a statement (or a lock wait) that runs
        # longer: SQLSTATE 57014, answered Server.ServiceUnavailable (unit_of_work). 0 sends
        # nothing, for PgBouncer without `ignore_startup_parameters = options`: set it per role.
        args["options"] = f"-c statement_timeout={settings.db_statement_timeout}"
    return args


#: A pooled connection idle longer than this is pinged before use whatever its socket says.
PING_AFTER_IDLE_SECONDS = 10.0


def _note_checkin(_dbapi_conn, record) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_when_in_doubt(dbapi_conn, record, _proxy) -> None:
    """A pre-ping (SELECT 1) only when the connection may be dead: its socket has something to
    read (a server that restarted or dropped it sent a FIN, an RST or a FATAL message; a healthy
    idle connection is silent), or it sat in the pool for a while. A dead one is replaced before
    the request uses it, with the whole pool, exactly as pool_pre_ping=True does, so a restarted
    PostgreSQL still costs no failed request; a busy pool no longer pays a round-trip per checkout."""
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None:
        return  # a connection just made (SQLAlchemy does not ping those either)
    if time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS and not _readable(dbapi_conn):
        return
    try:
        before = dbapi_conn.autocommit
        dbapi_conn.autocommit = True  # as SQLAlchemy's own ping: no transaction left open
        try:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            if not dbapi_conn.closed:
                dbapi_conn.autocommit = before
    except Exception as exc:  # noqa: BLE001 - any failure means: use another connection
        # As a failed pre-ping: every pooled connection made before now is replaced too.
        raise sa_exc.InvalidatePoolError(f"stale connection: {type(exc).__name__}") from exc


def _readable(dbapi_conn) -> bool:
    try:
        poller = select.poll()
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return True  # cannot tell: ping
