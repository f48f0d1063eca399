"""The one fault path: every error of a request becomes the catalogue's SOAP fault here, and only here.

fault_response(error, request) -> (status, headers, body) is called by the gateway's refusals
(web/gateway.py), Spyne's error hook (services/application.py: schema validation, the handlers'
domain errors, a response that could not be written), the app's last-resort handler (app.py) and
gunicorn's own refusals (web/server_errors.py). Any exception goes in: a domain error
(lending/errors.py), a Spyne Fault, anything unexpected (logged here, answered InternalError).

A fault carries faultcode `Client.<Reason>`/`Server.<Reason>`, a readable faultstring and a
<detail> holding one `tns:LmsFault` element (code, loanId?, customerNumber?) of the type the
WSDL declares, so that zeep, suds and SoapUI can read it. HTTP status: 500, but 401 with a Basic
challenge when no credentials came at all (CredentialsMissing).

SOAP 1.2: the request context's soap_version picks the envelope writer (ENVELOPES): SOAP 1.2's
(services/soap12.py) writes env:Code env:Sender/env:Receiver with the catalogue code as
env:Subcode and the same LmsFault in env:Detail. Same mapping, same status rule, one path.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from lxml import etree
from spyne import Fault, Unicode

from lms_soap.lending import errors

from .auth import CredentialsMissing
from .request_context import SOAP11, SOAP12, RequestContext
from .types import TNS

log = logging.getLogger(__name__)

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


#: The published description of every fault's detail (the LmsFault type's annotation in the WSDL,
#: and the documentation of each operation's wsdl:fault), with the catalogue's codes.
FAULT_DOCUMENTATION = (
    "Every SOAP fault of this service carries one LmsFault in its detail: code is the catalogue "
    "reason, the faultcode without its Client./Server. prefix, one of "
    + ", ".join(f"{error.code} ({error.side})" for error in errors.FAULT_CATALOGUE)
    + "; loanId and customerNumber name the loan and customer concerned, where one applies."
    " New codes may be added within urn:lms-soap:v1: treat an unknown Client code as a refusal"
    " and an unknown Server code as retryable later."
)


class LmsFault(Fault):
    """Declared on every operation (`_throws`): its fields describe the <detail> content.

    Never raised itself: Spyne would write these fields inside soap:Fault. fault_response writes
    the <detail> (detail_element) of every fault.
    """

    __namespace__ = TNS
    __type_name__ = "LmsFault"

    class Annotations(Fault.Annotations):
        doc = FAULT_DOCUMENTATION
    _type_info = [
        ("code", Unicode(min_occurs=1, nillable=False)),
        ("loanId", Unicode),
        ("customerNumber", Unicode),
    ]


class CaughtFault(Fault):
    """An error a handler raised, on its way through Spyne to handle_error: what call_wrapper
    raises, since Spyne keeps a Fault as it is but replaces any other exception with its own."""

    __namespace__ = TNS

    def __init__(self, raised: BaseException):
        self.raised = raised
        self.error = catalogue_error(raised)
        super().__init__(faultcode=self.error.faultcode, faultstring=self.error.message)


def detail_element(code: str, loan_id: str | None = None, customer_number: str | None = None) -> etree._Element:
    root = etree.Element(f"{{{TNS}}}LmsFault", nsmap={"tns": TNS})
    etree.SubElement(root, f"{{{TNS}}}code").text = code
    if loan_id:
        etree.SubElement(root, f"{{{TNS}}}loanId").text = loan_id
    if customer_number:
        etree.SubElement(root, f"{{{TNS}}}customerNumber").text = customer_number
    return root


def catalogue_error(error: BaseException) -> errors.LendingError:
    """The one mapping of any exception to the catalogue error the caller is answered with."""
    if isinstance(error, CaughtFault):
        return error.error
    if isinstance(error, errors.Conflict):  # a race we could not settle by retrying
        return errors.ServiceUnavailable("the request collided with a concurrent one; retry")
    if type(error) is errors.LendingError or isinstance(error, errors.InternalError):
        # Details only in the server log.
        return errors.InternalError("internal error", loan_id=error.loan_id, customer_number=error.customer_number)
    if isinstance(error, errors.LendingError):
        return error
    code = (error.faultcode or "") if isinstance(error, Fault) else ""
    if "SchemaValidationError" in code or code.startswith("Client"):
        # Spyne's client refusals (schema validation, unknown method, unreadable values).
        return errors.SchemaValidationError(_readable(error.faultstring))
    log.error("unexpected error: %r", error, exc_info=isinstance(error, Exception) and error)
    return errors.InternalError("internal error")


#: libxml2's location and error-code prefix ("<string>:1:0:ERROR:SCHEMASV:SCHEMAV_CVC_...: ").
_LIBXML2_PREFIX = re.compile(r"^<string>:\d+:\d+:[A-Z]+:[A-Z0-9_]+:[A-Z0-9_]+: ")


def _readable(text: str | bytes | None) -> str:
    # Spyne's lxml validator gives the libxml2 message as bytes: a bytes faultstring makes the
    # fault unserializable (an InternalError instead of the SchemaValidationError).
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _LIBXML2_PREFIX.sub("", (text or "").strip())
    return (text or "the request breaks the schema")[:500]


def soap11_envelope(error: errors.LendingError) -> bytes:
    """A complete SOAP 1.1 fault envelope: soap:Fault with faultcode, faultstring and detail."""
    env = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap11env": SOAP11_ENV})
    body = etree.SubElement(env, f"{{{SOAP11_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap11env:{error.faultcode}"
    etree.SubElement(fault, "faultstring").text = error.message
    detail = etree.SubElement(fault, "detail")
    detail.append(detail_element(error.code, error.loan_id, error.customer_number))
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


# soap12.py builds on this module's detail_element and SOAP11_ENV (defined above): imported here,
# once they exist, so that the one table below names both writers.
from .soap12 import CONTENT_TYPE as SOAP12_CONTENT_TYPE  # noqa: E402
from .soap12 import soap12_fault_envelope  # noqa: E402

#: SOAP version -> (envelope writer, Content-Type).
ENVELOPES: dict[str, tuple[Callable[[errors.LendingError], bytes], str]] = {
    SOAP11: (soap11_envelope, "text/xml; charset=utf-8"),
    SOAP12: (soap12_fault_envelope, SOAP12_CONTENT_TYPE),
}
#: The challenge sent with HTTP 401 (a request with neither Authorization nor wsse:Security).
CHALLENGE = 'Basic realm="lms-soap"'


def fault_response(error: BaseException, request: RequestContext | None = None,
                   ) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the catalogue fault answering `error`, in the request's SOAP
    version (1.1 without a request: gunicorn's refusals); its faultcode (and the loan a domain
    error names) noted in the request context for the logs, the counters and the audit log."""
    answer = catalogue_error(error)
    version = request.soap_version if request is not None else SOAP11
    write, content_type = ENVELOPES[version]
    body = write(answer)
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if request is not None:
        request.faultcode = answer.faultcode
        raised = error.raised if isinstance(error, CaughtFault) else error
        if request.loan is None and isinstance(raised, errors.LendingError):
            request.loan = raised.loan_id
    if isinstance(answer, CredentialsMissing):  # the contract's one exception to HTTP 500
        return "401 Unauthorized", [*headers, ("WWW-Authenticate", CHALLENGE)], body
    return "500 Internal Server Error", headers, body
