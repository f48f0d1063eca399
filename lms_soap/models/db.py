"""Engine construction: one engine per process, built by bootstrap (never at import time)."""
from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from lms_soap.config import Settings

from . import pool_ping
from .reads_without_begin import DEFERRED_BEGIN


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def is_psycopg2(engine: Engine) -> bool:
    """PostgreSQL through psycopg2: where the seams that talk to the driver directly apply."""
    return engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg2"


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
        pool_pre_ping=False,  # see pool_ping.py: the same recovery, without a round-trip per checkout
        pool_recycle=1800,
        hide_parameters=True,  # errors and logs never carry the row's values (KYC data, tokens)
        connect_args=_postgresql_connect_args(settings),
    )
    pool_ping.install(engine)
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
