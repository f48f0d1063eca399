"""Assembles the one published service from the operation table (services/operations.py), and
hands every error raised inside Spyne to the one fault path (services/faults.py fault_response):
call_wrapper for the handlers' errors, handle_error for Spyne's own refusals and for writing.

Spyne notes (2.14.0): every ServiceBase class becomes its own wsdl:service, so the handlers are
gathered into a single ServiceBase here; a DTD makes Spyne's lxml validator raise outside its
fault handling, so the document is parsed (hardened) by web/gateway.py first and handed to Spyne
already parsed (HardenedSoap11.create_in_document); Spyne replaces any exception but a Fault
with a Server fault of its own, so call_wrapper raises CaughtFault.
"""
from __future__ import annotations

import functools

from spyne import Application, ServiceBase
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from .faults import CaughtFault, fault_response
from .operations import OPERATIONS
from .request_context import ENVIRON_KEY
from .serializer import FastSoap11
from .types import TNS

SERVICE_NAME = "LoanManagementService"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def build_service() -> type[ServiceBase]:
    return type(SERVICE_NAME, (ServiceBase,), {op.name: op.handler for op in OPERATIONS})


class HardenedSoap11(Soap11):
    """Soap11 that takes the envelope the gateway parsed with DTDs, entities and network off."""

    def create_in_document(self, ctx, charset=None):
        request = ctx.transport.req_env.get(ENVIRON_KEY)
        document = request.document if request is not None else None
        if document is None:  # never reached through create_app; kept for direct use
            return super().create_in_document(ctx, charset)
        _empty_wrappers_without_whitespace(document)
        ctx.in_document = (document, {})


def _empty_wrappers_without_whitespace(document) -> None:
    """An operation without parameters (ListProducts) has an empty wrapper type, and XML Schema
    refuses even whitespace in one; clients that indent (SoapUI) send `<ListProducts>\n</...>`.
    A wrapper is never text, so whitespace in a childless one is dropped before validation."""
    root = document.getroot() if hasattr(document, "getroot") else document
    for body in root.iterchildren(f"{{{SOAP11_ENV}}}Body"):
        for wrapper in body.iterchildren():
            if len(wrapper) == 0 and wrapper.text is not None and not wrapper.text.strip():
                wrapper.text = None


class LmsApplication(Application):
    def call_wrapper(self, ctx):
        try:
            return super().call_wrapper(ctx)
        except Exception as exc:  # noqa: BLE001 - every error leaves as a catalogue fault
            raise CaughtFault(exc) from None


class LmsWsgiApplication(WsgiApplication):
    """Spyne's WSGI server with our WSDL bytes, and every error it meets answered by the one
    fault path: schema validation (before call_wrapper), the handlers' errors (CaughtFault), a
    response that could not be written. Spyne's own fault serialization is never used."""

    def __init__(self, app: Application, wsdl: bytes):
        super().__init__(app)
        self._wsdl = wsdl

    def handle_error(self, p_ctx, others, error, start_response):
        status, headers, body = fault_response(error, p_ctx.transport.req_env.get(ENVIRON_KEY))
        start_response(status, headers)
        # What Spyne's own handle_error does besides writing the fault: its events, and closing
        # the method context (there are no auxiliary contexts: no operation is declared _aux).
        self.event_manager.fire_event("wsgi_exception", p_ctx)
        p_ctx.close()
        self.event_manager.fire_event("wsgi_close", p_ctx)
        return [body]


@functools.lru_cache(maxsize=1)
def build_soap_application() -> Application:
    """The Spyne application, once per process (see services/context.py for why)."""
    return LmsApplication(
        [build_service()],
        tns=TNS,
        name=SERVICE_NAME,
        in_protocol=HardenedSoap11(validator="lxml"),
        out_protocol=FastSoap11(),  # Spyne's Soap11, faster on our types (services/serializer.py)
    )
