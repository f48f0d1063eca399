"""The front door of /soap: everything checked before Spyne sees a request.

Order: method and content type, size (before reading the whole body, chunked too), a hardened
parse (no DTD, no entities, no network, depth and element limits), a SOAP 1.1 envelope with
exactly one body element naming a known operation, headers we must understand, credentials,
role. Each refusal is a catalogue fault; what passes reaches Spyne already parsed.
"""
from __future__ import annotations

import io
import logging
from datetime import datetime, timezone
from typing import Callable, Iterable

from lxml import etree

from lms_soap.lending import errors
from lms_soap.services.application import ENV_DOCUMENT
from lms_soap.services.auth import (
    OPERATION_ROLES,
    WSSE,
    Authenticator,
    authorize,
    basic_credentials,
    wsse_credentials,
)
from lms_soap.services.context import ENV_OUTCOME, ENV_PRINCIPAL
from lms_soap.services.faults import SOAP11_ENV, fault_envelope
from lms_soap.services.types import TNS

log = logging.getLogger(__name__)

SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
ENV_OPERATION = "lms.operation"
READ_CHUNK = 64 * 1024
_MUST_UNDERSTAND = f"{{{SOAP11_ENV}}}mustUnderstand"
_UNDERSTOOD_HEADERS = {f"{{{WSSE}}}Security"}


def _parser() -> etree.XMLParser:
    # A fresh parser per request: lxml parsers are not thread-safe (gunicorn gthread workers).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False)


def soap_fault_response(start_response, error: errors.LendingError, environ: dict) -> list[bytes]:
    environ.setdefault(ENV_OUTCOME, {})["faultcode"] = error.faultcode
    body = fault_envelope(error)
    start_response("500 Internal Server Error", [("Content-Type", "text/xml; charset=utf-8"),
                                                 ("Content-Length", str(len(body)))])
    return [body]


class SoapGateway:
    def __init__(self, spyne_app: Callable, authenticator: Authenticator, *, max_body_bytes: int,
                 max_depth: int, max_elements: int, timestamp_max_age: int):
        self.spyne_app = spyne_app
        self.authenticator = authenticator
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.timestamp_max_age = timestamp_max_age

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        environ.setdefault(ENV_OPERATION, "unknown")  # until the body names one
        try:
            body = self._read_body(environ)
            envelope, header, operation = self._parse(body)
            environ[ENV_OPERATION] = operation
            principal = self._authenticate(environ, header)
            environ[ENV_PRINCIPAL] = principal
            authorize(principal, operation)
        except errors.LendingError as exc:
            return soap_fault_response(start_response, exc, environ)
        environ[ENV_DOCUMENT] = envelope
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.spyne_app(environ, start_response)

    # --- steps ---------------------------------------------------------------------------------
    def _read_body(self, environ: dict) -> bytes:
        if environ.get("REQUEST_METHOD") != "POST":
            raise errors.MalformedRequest("SOAP requests are HTTP POSTs; GET /soap?wsdl gives the WSDL")
        content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        if content_type == "application/soap+xml":
            raise errors.MalformedRequest("SOAP 1.2 is not served: send a SOAP 1.1 envelope as text/xml")
        if content_type not in ("text/xml", "application/xml"):
            raise errors.MalformedRequest("Content-Type must be text/xml (SOAP 1.1)")
        declared = None
        if environ.get("CONTENT_LENGTH"):
            try:
                declared = int(environ["CONTENT_LENGTH"])
            except ValueError:
                raise errors.MalformedRequest("Content-Length is not a number") from None
            if declared > self.max_body_bytes:
                raise errors.MalformedRequest(f"the request is larger than {self.max_body_bytes} bytes")
        # Read at most the declared length (a server may block past it), and never more than the
        # limit + 1 byte: a chunked body without Content-Length is refused once it passes the limit.
        budget = declared if declared is not None else self.max_body_bytes + 1
        stream = environ["wsgi.input"]
        chunks, size = [], 0
        while size < budget:
            try:
                chunk = stream.read(min(READ_CHUNK, budget - size))
            except Exception as exc:  # noqa: BLE001 - broken chunked framing, a body cut short...
                # ...raise the server's own errors (gunicorn's InvalidChunkSize, NoMoreData): the
                # caller sent a body we cannot read, which is no InternalError of ours.
                log.info("request body unreadable: %r", exc)
                raise errors.MalformedRequest("the request body could not be read") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > self.max_body_bytes:
            raise errors.MalformedRequest(f"the request is larger than {self.max_body_bytes} bytes")
        body = b"".join(chunks)
        if not body.strip():
            raise errors.MalformedRequest("the request body is empty")
        return body

    def _parse(self, body: bytes) -> tuple[etree._Element, etree._Element | None, str]:
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
        if root.tag == f"{{{SOAP12_ENV}}}Envelope":
            raise errors.MalformedRequest("SOAP 1.2 envelopes are not served: use SOAP 1.1")
        if root.tag != f"{{{SOAP11_ENV}}}Envelope":
            raise errors.MalformedRequest("not a SOAP 1.1 envelope")
        header, body_el = None, None
        for child in root:
            if not isinstance(child.tag, str):
                continue
            if child.tag == f"{{{SOAP11_ENV}}}Header" and header is None and body_el is None:
                header = child
            elif child.tag == f"{{{SOAP11_ENV}}}Body" and body_el is None:
                body_el = child
            else:
                raise errors.MalformedRequest(f"unexpected element {child.tag} in the envelope")
        if body_el is None:
            raise errors.MalformedRequest("the envelope has no Body")
        payload = [c for c in body_el if isinstance(c.tag, str)]
        if len(payload) != 1:
            raise errors.MalformedRequest("the Body must hold exactly one operation element")
        if header is not None:
            for entry in header:
                if (isinstance(entry.tag, str) and entry.get(_MUST_UNDERSTAND) in ("1", "true")
                        and entry.tag not in _UNDERSTOOD_HEADERS):
                    raise errors.MalformedRequest(f"header {entry.tag} must be understood; it is not")
        qname = etree.QName(payload[0])
        if qname.namespace != TNS or qname.localname not in OPERATION_ROLES:
            raise errors.SchemaValidationError(f"unknown operation {qname.text}")
        return root, header, qname.localname

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
        credentials = wsse_credentials(header, now, self.timestamp_max_age) or basic_credentials(
            environ.get("HTTP_AUTHORIZATION"))
        if credentials is None:
            raise errors.AuthenticationFailed("credentials required: HTTP Basic or a WS-Security UsernameToken")
        return self.authenticator.verify(credentials)
