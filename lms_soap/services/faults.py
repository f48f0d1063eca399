"""The fault catalogue on the wire: every domain error becomes one SOAP 1.1 fault, here and only here.

A fault carries faultcode `Client.<Reason>`/`Server.<Reason>`, a readable faultstring and a
<detail> holding one `tns:LmsFault` element (code, loanId?, customerNumber?) of the type the
WSDL declares, so that zeep, suds and SoapUI can read it.
"""
from __future__ import annotations

import logging

from lxml import etree
from spyne import Fault, Unicode

from lms_soap.lending import errors

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

    Never raised itself: Spyne would write these fields inside soap:Fault. WireFault is raised.
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


class WireFault(Fault):
    """What is raised: no fields of its own, so soap:Fault holds only faultcode, faultstring and
    the <detail> element built by detail_element()."""

    __namespace__ = TNS

    def __init__(self, faultcode: str, faultstring: str, detail=None):
        super().__init__(faultcode=faultcode, faultstring=faultstring, detail=detail)


def detail_element(code: str, loan_id: str | None = None, customer_number: str | None = None) -> etree._Element:
    root = etree.Element(f"{{{TNS}}}LmsFault", nsmap={"tns": TNS})
    etree.SubElement(root, f"{{{TNS}}}code").text = code
    if loan_id:
        etree.SubElement(root, f"{{{TNS}}}loanId").text = loan_id
    if customer_number:
        etree.SubElement(root, f"{{{TNS}}}customerNumber").text = customer_number
    return root


def to_fault(error: errors.LendingError) -> WireFault:
    """The one mapping from domain errors to catalogue faults."""
    message = error.message
    if isinstance(error, errors.Conflict):  # a race we could not settle by retrying
        error = errors.ServiceUnavailable("the request collided with a concurrent one; retry")
        message = error.message
    if type(error) is errors.LendingError or isinstance(error, errors.InternalError):
        message = "internal error"  # details only in the server log
    return WireFault(
        faultcode=error.faultcode,
        faultstring=message,
        detail=detail_element(error.code, error.loan_id, error.customer_number),
    )


def internal_fault() -> WireFault:
    return to_fault(errors.InternalError("internal error"))


def fault_envelope(error: errors.LendingError) -> bytes:
    """A complete SOAP 1.1 fault envelope, for refusals made before Spyne runs (gateway.py).

    Same shape as Spyne's own faults: soap:Fault with faultcode, faultstring and detail.
    """
    env = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soap11env": SOAP11_ENV})
    body = etree.SubElement(env, f"{{{SOAP11_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap11env:{error.faultcode}"
    etree.SubElement(fault, "faultstring").text = error.message
    detail = etree.SubElement(fault, "detail")
    detail.append(detail_element(error.code, error.loan_id, error.customer_number))
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")
