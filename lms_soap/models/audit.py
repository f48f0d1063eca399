"""The append-only audit log: one row per non-read operation and per refused call.

A write operation's row is committed in the same transaction as its change: the app hands the
row of the call being served to the unit of work through `pending_audit` (a context variable, so
lending/ never sees it), and the unit of work that commits adds it to its transaction. Every
other row (a fault, a refusal, a write that committed nothing) is written by SqlAuditLog in a
transaction of its own.
"""
from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from . import autocommit_insert
from .tables import audit_log

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    principal: str | None
    operation: str
    customer_number: str | None
    loan_id: str | None
    outcome: str  # "OK" or the faultcode
    request_id: str | None
    duration_ms: int
    authenticated: bool


class PendingAudit:
    """The audit row of the request being served, until a unit of work commits it with a change.

    `build` gives the row as of now (outcome "OK"), or None when the call is not to be audited
    in its transaction (a read); it is asked at commit time, when the call's notes are complete.
    """

    def __init__(self, build: Callable[[], AuditEntry | None]):
        self._build = build
        self.committed = False  # set by the unit of work once the row is in a committed transaction

    def entry(self) -> AuditEntry | None:
        return None if self.committed else self._build()


#: The pending row of the request this thread serves (set by the app around each request).
pending_audit: ContextVar[PendingAudit | None] = ContextVar("lms_pending_audit", default=None)

INSERT = insert(audit_log)


class SqlAuditLog:
    def __init__(self, engine: Engine):
        self.engine = engine
        # PostgreSQL (psycopg2): the row is written on every call that may change something, so
        # it goes in one autocommit INSERT (autocommit_insert.py: one round-trip, not three).
        # SQLite keeps its explicit transaction (db.py takes the write lock in BEGIN IMMEDIATE).
        self._direct = None
        if autocommit_insert.applies_to(engine):
            self._direct = autocommit_insert.AutocommitInsert(engine, audit_log,
                                                              (f.name for f in fields(AuditEntry)))

    def record(self, entry: AuditEntry) -> None:
        """Its own short transaction, for a call that committed nothing (a fault, a refusal, an
        idempotent replay). A failure to write it is logged at ERROR, never turned into a fault
        for the caller: the call's answer is already decided and nothing of it was committed."""
        try:
            if self._direct is not None:
                row = asdict(entry)
                row["at"] = entry.at.astimezone(timezone.utc)  # what the UTCDateTime column type does
                self._direct(row)
            else:
                with self.engine.begin() as conn:
                    conn.execute(INSERT, asdict(entry))
        except Exception:  # noqa: BLE001
            log.exception("audit entry not written: %s %s", entry.operation, entry.outcome)
