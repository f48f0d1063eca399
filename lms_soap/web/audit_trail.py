"""Which calls the audit log records, and in which transaction: the operation table's audit rule
(services/operations.py Audit), applied here and only here.

- Audit.EVERY_CALL (every operation that writes): always. When it succeeds, its row ("OK") was
  committed with its change by the unit of work (models/audit.PendingAudit); a write that
  committed nothing (an idempotent replay) gets its row here. When it fails, whatever the fault,
  its row (the faultcode) is written here in a transaction of its own.
- Audit.REFUSALS (a read, SOAP or REST): only when it is refused for who is calling
  (AuthenticationFailed, NotAuthorized): the refusals a bank's review asks about.
"""
from __future__ import annotations

import time
from contextvars import Token
from datetime import datetime, timezone

from sqlalchemy.engine import Engine

from lms_soap.models.audit import AuditEntry, PendingAudit, SqlAuditLog, pending_audit
from lms_soap.services.operations import Audit
from lms_soap.services.request_context import RequestContext

#: Faults that say the caller may not do this: recorded on every operation, reads included.
REFUSALS = frozenset({"Client.AuthenticationFailed", "Client.NotAuthorized"})


class AuditTrail:
    def __init__(self, engine: Engine):
        self.log = SqlAuditLog(engine)

    def begin(self, request: RequestContext) -> Token:
        """Before the request is dispatched: the row its unit of work commits if it changes something."""

        def build() -> AuditEntry | None:
            operation = request.operation
            if operation is None or not operation.writes or request.principal is None:
                return None
            return entry_of(request, "OK", time.perf_counter() - request.started)

        request.pending_audit = PendingAudit(build)
        return pending_audit.set(request.pending_audit)

    @staticmethod
    def end(token: Token) -> None:
        pending_audit.reset(token)

    def record(self, request: RequestContext, faultcode: str, elapsed: float) -> None:
        """After the response is decided: the row of a call that committed none, if it needs one."""
        operation = request.operation
        if operation is None:
            return  # WSDL, health and metrics requests
        if operation.audit is not Audit.EVERY_CALL and faultcode not in REFUSALS:
            return
        pending = request.pending_audit
        if not faultcode and pending is not None and pending.committed:
            return  # committed with the change
        self.log.record(entry_of(request, faultcode or "OK", elapsed))


def entry_of(request: RequestContext, outcome: str, elapsed: float) -> AuditEntry:
    principal = request.principal
    return AuditEntry(
        at=datetime.now(timezone.utc), principal=principal.username if principal else None,
        operation=request.operation.name, customer_number=request.customer, loan_id=request.loan,
        outcome=outcome, request_id=request.request_id, duration_ms=int(elapsed * 1000),
        authenticated=outcome != "Client.AuthenticationFailed")
