"""Engine construction: one engine per process, built by bootstrap (never at import time)."""
from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from lms_soap.config import Settings


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        # SQLite: one file, writers serialised by its lock; wait for it instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False},
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
            # dead-locking on a lock upgrade (pysqlite's implicit BEGIN is deferred).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # Let SQLAlchemy, not pysqlite, emit BEGIN (see the "begin" hook above).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None

        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_max_overflow,
        pool_pre_ping=True,  # a restarted PostgreSQL costs one failed request at most
        pool_recycle=1800,
        connect_args={"connect_timeout": settings.db_connect_timeout,
                      "application_name": "lms-soap"},
    )
