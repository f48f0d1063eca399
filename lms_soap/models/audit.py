"""The append-only audit log: one row per non-read operation and per failed authentication."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Engine

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


class SqlAuditLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, entry: AuditEntry) -> None:
        """Its own short transaction: the audit row is written whatever the operation's outcome.
        A failure to write it is logged, never turned into a fault for the caller."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(audit_log).values(**asdict(entry)))
        except Exception:  # noqa: BLE001
            log.exception("audit entry not written: %s %s", entry.operation, entry.outcome)
