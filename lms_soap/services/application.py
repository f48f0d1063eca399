"""Assembles the one published service from the per-area operations, and maps every error to the
fault catalogue in one place (call_wrapper for the handlers, handle_error for Spyne's own refusals).

Spyne notes (2.14.0): every ServiceBase class becomes its own wsdl:service, so the per-area @rpc
functions are gathered into a single ServiceBase here; a DTD makes Spyne's lxml validator raise
outside its fault handling, so the document is parsed (hardened) by web/gateway.py first and
handed to Spyne already parsed (HardenedSoap11.create_in_document).
"""
from __future__ import annotations

import functools
import logging
import re
from typing import Any

from spyne import Application, Fault, ServiceBase
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from lms_soap.lending import errors

from . import customers, loans, scoring
from .faults import WireFault, internal_fault, to_fault
from .serializer import FastSoap11
from .types import TNS

log = logging.getLogger(__name__)

SERVICE_NAME = "LoanManagementService"
ENV_DOCUMENT = "lms.document"  # the request envelope, parsed and checked by the gateway
from .context import ENV_OUTCOME  # noqa: E402  what the call ended with


def build_service() -> type[ServiceBase]:
    methods: dict[str, Any] = {}
    for area in (customers, loans, scoring):
        methods.update(area.OPERATIONS)
    return type(SERVICE_NAME, (ServiceBase,), methods)


class HardenedSoap11(Soap11):
    """Soap11 that takes the envelope the gateway parsed with DTDs, entities and network off."""

    def create_in_document(self, ctx, charset=None):
        document = ctx.transport.req_env.get(ENV_DOCUMENT)
        if document is None:  # never reached through create_app; kept for direct use
            return super().create_in_document(ctx, charset)
        ctx.in_document = (document, {})


def _catalogue_fault(error: BaseException) -> WireFault:
    if isinstance(error, WireFault):
        return error
    if isinstance(error, errors.LendingError):
        return to_fault(error)
    if isinstance(error, Fault):
        code = error.faultcode or ""
        if "SchemaValidationError" in code or code.startswith("Client.Validation"):
            return to_fault(errors.SchemaValidationError(_readable(error.faultstring)))
        if code.startswith("Client"):
            # Spyne's other client refusals (unknown method, unreadable values) break the schema too.
            return to_fault(errors.SchemaValidationError(_readable(error.faultstring)))
    log.error("unexpected error: %r", error, exc_info=isinstance(error, Exception) and error)
    return internal_fault()


#: libxml2's location and error-code prefix ("<string>:1:0:ERROR:SCHEMASV:SCHEMAV_CVC_...: ").
_LIBXML2_PREFIX = re.compile(r"^<string>:\d+:\d+:[A-Z]+:[A-Z0-9_]+:[A-Z0-9_]+: ")


def _readable(text: str | bytes | None) -> str:
    # Spyne's lxml validator gives the libxml2 message as bytes: a bytes faultstring makes the
    # fault unserializable (an InternalError instead of the SchemaValidationError).
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _LIBXML2_PREFIX.sub("", (text or "").strip())
    return (text or "the request breaks the schema")[:500]


class LmsApplication(Application):
    def call_wrapper(self, ctx):
        outcome = ctx.transport.req_env.setdefault(ENV_OUTCOME, {})
        try:
            return super().call_wrapper(ctx)
        except Exception as exc:  # noqa: BLE001 - every error leaves as a catalogue fault
            fault = _catalogue_fault(exc)
            outcome["faultcode"] = fault.faultcode
            if isinstance(exc, errors.LendingError):
                outcome.setdefault("loan", exc.loan_id)
            raise fault from None


class LmsWsgiApplication(WsgiApplication):
    """Spyne's WSGI server with our WSDL bytes and our fault mapping for refusals made by Spyne
    itself (schema validation happens before call_wrapper)."""

    def __init__(self, app: Application, wsdl: bytes):
        super().__init__(app)
        self._wsdl = wsdl

    def handle_error(self, p_ctx, others, error, start_response):
        fault = _catalogue_fault(error)
        p_ctx.out_error = fault
        if p_ctx.in_error is not None:
            p_ctx.in_error = fault
        # A failure while writing the response leaves Spyne's half-built document and its 200
        # status behind: drop them, or the caller gets an empty 200 envelope instead of the fault.
        p_ctx.out_document = None
        p_ctx.out_string = None
        p_ctx.transport.resp_code = None
        p_ctx.transport.req_env.setdefault(ENV_OUTCOME, {})["faultcode"] = fault.faultcode
        return super().handle_error(p_ctx, others, fault, start_response)


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
