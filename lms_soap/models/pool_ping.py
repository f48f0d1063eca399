"""A pre-ping of pooled PostgreSQL connections only when one may be dead (written against
SQLAlchemy 2.x and psycopg2 2.9, checked by tests/unit/test_library_seams.py).

SQLAlchemy's pool_pre_ping=True sends a SELECT 1 on every checkout: a round-trip per unit of
work. This replaces it with a checkout hook that pings only when the connection's socket has
something to read or it sat idle; it relies on psycopg2's `autocommit`, `closed`, `fileno()`
and on SQLAlchemy's InvalidatePoolError (the same pool-wide recovery as a failed pre-ping).
"""
from __future__ import annotations

import select
import time

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine


def install(engine: Engine) -> None:
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_when_in_doubt)


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
