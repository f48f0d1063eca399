"""The front door of /soap: everything checked before Spyne sees a request.

Order: method and content type, size (before reading the whole body, chunked too; a refused body
is drained or its connection closed: web/request_body.py), a hardened parse (no DTD, no
entities, no network, depth and element limits), a SOAP 1.1 envelope (text/xml) or a SOAP 1.2 one
(application/soap+xml) with exactly one body element naming a known operation, headers we must understand, credentials (a UsernameToken's
Nonce admitted once: web/replay_cache.py), role (the operation table: services/operations.py).
Each refusal goes to the one fault path (services/faults.py fault_response); what passes reaches
Spyne parsed, in the request context (services/request_context.py).
"""
from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Callable, Iterable

from lxml import etree

from lms_soap import correlation
from lms_soap.lending import errors
from lms_soap.services.auth import (
    WSSE,
    Authenticator,
    CredentialsMissing,
    authorize,
    basic_credentials,
    security_header,
    wsse_credentials,
)
from lms_soap.services.faults import SOAP11_ENV, fault_response
from lms_soap.services.operations import SOAP_OPERATIONS, UNKNOWN, Operation
from lms_soap.services.request_context import SOAP11, SOAP12, RequestContext
from lms_soap.services.soap12 import (
    CONTENT_TYPE as SOAP12_CONTENT_TYPE,
    SOAP12_ENV,
    parse_soap12_content_type,
    soap11_to_soap12_response,
    soap12_request_to_soap11,
)
from lms_soap.services.types import TNS
from lms_soap.web.replay_cache import ReplayCache, ReplayGuard
from lms_soap.web.request_body import read_body, refuse_before_reading

#: The envelope namespace each SOAP version's Content-Type promises.
_ENVELOPE_NS = {SOAP11: SOAP11_ENV, SOAP12: SOAP12_ENV}
_UNDERSTOOD_HEADERS = {f"{{{WSSE}}}Security", *(f"{{{ns}}}MessageID" for ns in correlation.WSA_NAMESPACES)}


def _parser() -> etree.XMLParser:
    # A fresh parser per request: lxml parsers are not thread-safe (gunicorn gthread workers).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False)


class SoapGateway:
    def __init__(self, spyne_app: Callable, authenticator: Authenticator, replay_cache: ReplayCache, *,
                 max_body_bytes: int, max_drain_bytes: int, max_depth: int, max_elements: int,
                 wsse_max_age: int, wsse_clock_skew: int):
        self.spyne_app = spyne_app
        self.authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.max_drain_bytes = max_drain_bytes
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.wsse_max_age = wsse_max_age
        self.wsse_clock_skew = wsse_clock_skew
        # A token Created up to the skew ahead stays acceptable until max_age after it: its nonce
        # is remembered for the whole of that window.
        self.replay_guard = ReplayGuard(replay_cache, wsse_max_age + wsse_clock_skew)

    @classmethod
    def from_settings(cls, spyne_app: Callable, authenticator: Authenticator, replay_cache: ReplayCache,
                      settings) -> "SoapGateway":
        return cls(spyne_app, authenticator, replay_cache, max_body_bytes=settings.max_body_bytes,
                   max_drain_bytes=settings.max_drain_bytes, max_depth=settings.max_xml_depth,
                   max_elements=settings.max_xml_elements, wsse_max_age=settings.wsse_max_age,
                   wsse_clock_skew=settings.wsse_clock_skew)

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        request = RequestContext.of(environ)
        request.operation = UNKNOWN  # until the body names one
        try:
            body = self._read_body(environ, request)
            envelope, header, request.operation = self._parse(body, request.soap_version)
            request.correlate(correlation.message_id(header))
            request.principal = self._authenticate(environ, header)
            authorize(request.principal, request.operation)
        except errors.LendingError as exc:
            status, headers, fault = fault_response(exc, request)
            start_response(status, headers)
            return [fault]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if request.soap_version == SOAP11:
            request.document = envelope
            return self.spyne_app(environ, start_response)
        # SOAP 1.2: Spyne's Soap12 crashes on invalid input with the lxml validator, so the one
        # Soap11 service answers, in and out of a SOAP 1.1 envelope (services/soap12.py).
        request.document = soap12_request_to_soap11(envelope)
        return _as_soap12(self.spyne_app, environ, start_response)

    # --- steps ---------------------------------------------------------------------------------
    def _read_body(self, environ: dict, request: RequestContext) -> bytes:
        refusal = None
        raw_type = environ.get("CONTENT_TYPE") or ""
        content_type = raw_type.split(";")[0].strip().lower()
        if content_type == "application/soap+xml":
            request.soap_version = SOAP12  # its refusals too are answered in SOAP 1.2
        if environ.get("REQUEST_METHOD") != "POST":
            refusal = errors.MalformedRequest("SOAP requests are HTTP POSTs; GET /soap?wsdl gives the WSDL")
        elif request.soap_version == SOAP12:
            if not parse_soap12_content_type(raw_type)[0]:
                refusal = errors.MalformedRequest("application/soap+xml must be UTF-8, with well-formed parameters")
        elif content_type not in ("text/xml", "application/xml"):
            refusal = errors.MalformedRequest(
                "Content-Type must be text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)")
        if refusal is not None:
            refuse_before_reading(environ, refusal, self.max_drain_bytes)
        body = read_body(environ, self.max_body_bytes, self.max_drain_bytes)
        if not body.strip():
            raise errors.MalformedRequest("the request body is empty")
        return body

    def _parse(self, body: bytes, version: str) -> tuple[etree._Element, etree._Element | None, Operation]:
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
            raise errors.MalformedRequest("DTDs and entity declarations are not accepted")
        try:
            root = etree.fromstring(body, _parser())
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise errors.MalformedRequest(f"not well-formed XML: {str(exc)[:200]}") from None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise errors.MalformedRequest("DTDs and entity declarations are not accepted")
        self._check_limits(root)
        env = _ENVELOPE_NS[version]
        if root.tag != f"{{{env}}}Envelope":
            if version == SOAP11 and root.tag == f"{{{SOAP12_ENV}}}Envelope":
                raise errors.MalformedRequest("a SOAP 1.2 envelope is sent as application/soap+xml")
            if version == SOAP12 and root.tag == f"{{{SOAP11_ENV}}}Envelope":
                raise errors.MalformedRequest("a SOAP 1.1 envelope is sent as text/xml")
            raise errors.MalformedRequest(f"not a SOAP {version} envelope")
        header, body_el = None, None
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if child.tag == f"{{{env}}}Header" and header is None and body_el is None:
                header = child
            elif child.tag == f"{{{env}}}Body" and body_el is None:
                body_el = child
            else:
                raise errors.MalformedRequest(f"unexpected element {child.tag} in the envelope")
        if body_el is None:
            raise errors.MalformedRequest("the envelope has no Body")
        payload = [c for c in body_el if isinstance(c.tag, str)]
        if len(payload) != 1:
            raise errors.MalformedRequest("the Body must hold exactly one operation element")
        if header is not None:
            must_understand = f"{{{env}}}mustUnderstand"
            for entry in header:
                if (isinstance(entry.tag, str) and entry.get(must_understand) in ("1", "true")
                        and entry.tag not in _UNDERSTOOD_HEADERS):
                    raise errors.MalformedRequest(f"header {entry.tag} must be understood; it is not")
        qname = etree.QName(payload[0])
        operation = SOAP_OPERATIONS.get(qname.localname) if qname.namespace == TNS else None
        if operation is None:
            raise errors.SchemaValidationError(f"unknown operation {qname.text}")
        return root, header, operation

    def _check_limits(self, root: etree._Element) -> None:
        count, depth = 0, 0
        for event, _ in etree.iterwalk(root, events=("start", "end")):
            if event == "start":
                count += 1
                depth += 1
                if depth > self.max_depth:
                    raise errors.MalformedRequest(f"elements nest deeper than {self.max_depth}")
                if count > self.max_elements:
                    raise errors.MalformedRequest(f"more than {self.max_elements} elements")
            else:
                depth -= 1

    def _authenticate(self, environ: dict, header: etree._Element | None):
        now = datetime.now(timezone.utc)
        authorization = environ.get("HTTP_AUTHORIZATION")
        credentials = wsse_credentials(header, now, self.wsse_max_age, self.wsse_clock_skew) or \
            basic_credentials(authorization)
        if credentials is None:
            message = "credentials required: HTTP Basic or a WS-Security UsernameToken"
            if not authorization and security_header(header) is None:
                raise CredentialsMissing(message)
            raise errors.AuthenticationFailed(message)
        principal = self.authenticator.verify(credentials)
        if credentials.nonce is not None:
            # Recorded only now that the password checked out: a wrong password cannot burn the
            # nonce of a legitimate message; SET NX makes the check and the record one step.
            self.replay_guard.admit(credentials.nonce)
        return principal


def _as_soap12(spyne_app: Callable, environ: dict, start_response) -> list[bytes]:
    """Spyne's SOAP 1.1 answer to a SOAP 1.2 request, rewritten as SOAP 1.2. Faults written by the
    one fault path are SOAP 1.2 already (the request's soap_version) and pass as they are."""
    answered: dict = {}

    def capture(status, headers, exc_info=None):
        answered.update(status=status, headers=headers, exc_info=exc_info)

    body = b"".join(spyne_app(environ, capture))
    headers = answered["headers"]
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    if not content_type.lower().startswith("application/soap+xml"):
        body = soap11_to_soap12_response(body)
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
        headers += [("Content-Type", SOAP12_CONTENT_TYPE), ("Content-Length", str(len(body)))]
    start_response(answered["status"], headers, answered["exc_info"])
    return [body]
