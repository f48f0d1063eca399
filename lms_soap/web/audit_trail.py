"""Which calls the audit log records, and in which transaction (the rule, in one place).

- A write operation (not in READ_OPERATIONS): always. When it succeeds, its row ("OK") was
  committed with its change by the unit of work (models/audit.PendingAudit); a write that
  committed nothing (an idempotent replay) gets its row here. When it fails, whatever the fault,
  its row (the faultcode) is written here in a transaction of its own.
- A read, SOAP or REST: only when it is refused for who is calling (AuthenticationFailed,
  NotAuthorized): the refusals a bank's review asks about.
"""
from __future__ import annotations

import time
from contextvars import Token
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from lms_soap.models.audit import AuditEntry, PendingAudit, SqlAuditLog, pending_audit
from lms_soap.services.auth import READ_OPERATIONS
from lms_soap.services.context import ENV_OUTCOME
from lms_soap.web.gateway import ENV_OPERATION, ENV_PRINCIPAL

ENV_PENDING = "lms.audit.pending"
#: Faults that say the caller may not do this: recorded on every operation, reads included.
REFUSALS = frozenset({"Client.AuthenticationFailed", "Client.NotAuthorized"})


def is_write(operation: str) -> bool:
    return operation not in READ_OPERATIONS and not operation.startswith("REST:")


class AuditTrail:
    def __init__(self, engine: Engine):
        self.log = SqlAuditLog(engine)

    def begin(self, environ: dict, request_id: str, started: float) -> Token:
        """Before the request is dispatched: the row its unit of work commits if it changes something."""

        def build() -> AuditEntry | None:
            operation = environ.get(ENV_OPERATION)
            if operation is None or not is_write(operation) or environ.get(ENV_PRINCIPAL) is None:
                return None
            return entry_of(environ, "OK", time.perf_counter() - started, request_id)

        pending = PendingAudit(build)
        environ[ENV_PENDING] = pending
        return pending_audit.set(pending)

    @staticmethod
    def end(token: Token) -> None:
        pending_audit.reset(token)

    def record(self, environ: dict, faultcode: str, elapsed: float, request_id: str) -> None:
        """After the response is decided: the row of a call that committed none, if it needs one."""
        operation = environ.get(ENV_OPERATION)
        if operation is None:
            return  # WSDL, health and metrics requests
        if not is_write(operation) and faultcode not in REFUSALS:
            return
        pending = environ.get(ENV_PENDING)
        if not faultcode and pending is not None and pending.committed:
            return  # committed with the change
        self.log.record(entry_of(environ, faultcode or "OK", elapsed, request_id))


def entry_of(environ: dict, outcome: str, elapsed: float, request_id: str) -> AuditEntry:
    notes = environ.get(ENV_OUTCOME, {})
    principal = environ.get(ENV_PRINCIPAL)
    return AuditEntry(
        at=datetime.now(timezone.utc), principal=principal.username if principal else None,
        operation=environ[ENV_OPERATION], customer_number=notes.get("customer"), loan_id=notes.get("loan"),
        outcome=outcome, request_id=request_id, duration_ms=int(elapsed * 1000),
        authenticated=outcome != "Client.AuthenticationFailed")
