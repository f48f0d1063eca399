"""The one typed record of a request being served, made once by the app (app.py) and kept in the
WSGI environ under ENVIRON_KEY, the only key of ours there.

Every stage reads and writes its fields: the gateway (web/gateway.py: operation, principal,
document, soap_version), Spyne's hooks and the handlers (services/application.py,
services/context.py: customer, loan), the one fault path (services/faults.py: faultcode), the
audit trail (web/audit_trail.py: pending_audit), REST and /metrics, the access log and the
request counters (app.py).

It lives in services/ rather than web/ because the handlers read it and services/ never imports
web/ (data flows web -> services -> lending).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # types only: no import cycle, nothing loaded at run time
    from lxml import etree

    from lms_soap.models.audit import PendingAudit
    from lms_soap.services.auth import Principal
    from lms_soap.services.operations import Operation

#: The environ key of the request's RequestContext.
ENVIRON_KEY = "lms.request"
#: The SOAP version of the request's envelope: the version its fault is written in.
SOAP11 = "1.1"
SOAP12 = "1.2"


@dataclass(eq=False, slots=True)
class RequestContext:
    container: Any  # bootstrap.Container: the composition root of the app serving the request
    request_id: str
    started: float  # time.perf_counter() when the app took the request
    #: Makes the server close the connection after this response (a refused body left unread:
    #: web/request_body.py); None when the server closes or drains on its own (web/server_errors.py).
    close_connection: Callable[[], None] | None = None
    soap_version: str = SOAP11
    #: The caller sent a usable X-Request-ID (else a WS-Addressing MessageID may name the request).
    request_id_given: bool = False
    #: The operation table's entry (services/operations.py); None: not counted nor audited (WSDL,
    #: health checks, a scrape of /metrics that was let in).
    operation: "Operation | None" = None
    principal: "Principal | None" = None  # set once the credentials are verified
    document: "etree._Element | None" = None  # the envelope, parsed and checked by the gateway
    # --- the outcome: what the call ended with, for the access log, the counters and the audit row
    faultcode: str = ""  # the catalogue faultcode ("" while no fault was answered)
    customer: str | None = None  # the customer number the call touched
    loan: str | None = None  # the loan id the call touched
    pending_audit: "PendingAudit | None" = None  # the audit row the unit of work commits with a change

    def attach(self, environ: dict) -> "RequestContext":
        environ[ENVIRON_KEY] = self
        return self

    @staticmethod
    def of(environ: dict) -> "RequestContext":
        return environ[ENVIRON_KEY]

    @staticmethod
    def of_spyne(ctx) -> "RequestContext":
        """The request context of a Spyne method context (handlers, Spyne's hooks)."""
        return ctx.transport.req_env[ENVIRON_KEY]

    @property
    def operation_name(self) -> str | None:
        return None if self.operation is None else self.operation.name

    def note(self, *, customer: str | None = None, loan: str | None = None) -> None:
        """Record which customer and loan the call touched (empty values leave the notes as they are)."""
        if customer:
            self.customer = customer
        if loan:
            self.loan = loan

    def correlate(self, message_id: str | None) -> None:
        """Name the request after its envelope's wsa:MessageID, unless the caller's X-Request-ID
        already named it: from here on the logs, the audit row and the answer carry that id."""
        from lms_soap.logs import request_id_var

        if message_id and not self.request_id_given:
            self.request_id = message_id
            request_id_var.set(message_id)  # reset with the app's own token after the response

    def close_after_response(self) -> None:
        if self.close_connection is not None:
            self.close_connection()
