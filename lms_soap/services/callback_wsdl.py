"""The WSDL of the bank's callback endpoint (`GET /callback?wsdl`, wsdl/lms-callback.wsdl): one
one-way operation, NotifyLoanEvent, for the bank to implement. Its message is what
clients/bank_callback.py sends (a test validates that envelope against this schema).

It is derived from the service's own published WSDL (lxml only), not built by a second Spyne
Application: Spyne keeps per-process state per application and type (services/context.py), and
such a build named the shared money types after whichever application came first, and gave the
one-way operation an output once an application of the same name had been built. Taking the Loan
type and everything it references from the service's document keeps the two contracts' Loan
identical by construction."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from lxml import etree

SERVICE_NAME = "LmsBankCallback"
OPERATION = "NotifyLoanEvent"
#: soap:address when BANK_CALLBACK_URL is unset: the bank replaces it with its own endpoint.
PLACEHOLDER_URL = "https://bank.example/lms-callback"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
_W = "http://schemas.xmlsoap.org/wsdl/"
_XS = "http://www.w3.org/2001/XMLSchema"
_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
#: The message's children (name, type, optional), in bank_callback.build_envelope's order.
FIELDS = (("eventId", "xs:string", False), ("loanId", "xs:string", False),
          ("customerNumber", "xs:string", False), ("status", "tns:LoanStatus", False),
          ("previousStatus", "tns:LoanStatus", True), ("reason", "xs:string", True),
          ("occurredAt", "xs:dateTime", False), ("loan", "tns:Loan", True))
DOCUMENTATION = (
    "Sent by the LMS (one-way) when a loan reaches APPROVED, REJECTED, FAILED, DISBURSED, OVERDUE, "
    "DEFAULTED, WRITTEN_OFF, CLOSED or EXPIRED: the event, and the loan as it is when the message is sent "
    "(as GetLoanStatus gives it, without its history). Delivered at least once: eventId stays the same "
    "across retries, so drop duplicates by it. Answer any HTTP 2xx to acknowledge it; any other answer, or "
    "none within the LMS's timeout, makes the LMS send it again later. Credentials: HTTP Basic or a "
    "WS-Security UsernameToken, as agreed (BANK_CALLBACK_AUTH).")


def callback_address(bank_callback_url: str | None) -> str:
    """The soap:address to publish: BANK_CALLBACK_URL without any user:password@ part (the WSDL
    is public), or the placeholder when it is unset."""
    if not bank_callback_url:
        return PLACEHOLDER_URL
    parts = urlsplit(bank_callback_url)
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))


def build_callback_wsdl(service_wsdl: bytes, address: str = PLACEHOLDER_URL) -> bytes:
    """The callback WSDL, its types taken from `service_wsdl` (services/wsdl_document.build_wsdl)."""
    source = etree.fromstring(service_wsdl)
    source_schema = source.find(f"{{{_W}}}types/{{{_XS}}}schema")
    tns = source.get("targetNamespace")
    nsmap = {"wsdl": _W, "wsdlsoap11": _SOAP, "xs": _XS, "tns": tns}
    root = etree.Element(f"{{{_W}}}definitions", nsmap=nsmap, targetNamespace=tns, name=SERVICE_NAME)
    schema = etree.SubElement(etree.SubElement(root, f"{{{_W}}}types"), f"{{{_XS}}}schema",
                              attrib=dict(source_schema.attrib))
    wanted = _referenced_types(source_schema, {"Loan", "LoanStatus"})
    for definition in source_schema:  # the service's order (sorted by kind and name)
        if definition.get("name") in wanted and definition.tag != f"{{{_XS}}}element":
            schema.append(_copy(definition))
    sequence = etree.SubElement(etree.SubElement(etree.SubElement(
        schema, f"{{{_XS}}}element", name=OPERATION), f"{{{_XS}}}complexType"), f"{{{_XS}}}sequence")
    for name, type_name, optional in FIELDS:
        field = etree.SubElement(sequence, f"{{{_XS}}}element", name=name, type=type_name)
        if optional:
            field.set("minOccurs", "0")
    message = etree.SubElement(root, f"{{{_W}}}message", name=OPERATION)
    etree.SubElement(message, f"{{{_W}}}part", name=OPERATION, element=f"tns:{OPERATION}")
    port_type = etree.SubElement(root, f"{{{_W}}}portType", name=SERVICE_NAME)
    operation = etree.SubElement(port_type, f"{{{_W}}}operation", name=OPERATION)
    etree.SubElement(operation, f"{{{_W}}}documentation").text = DOCUMENTATION
    etree.SubElement(operation, f"{{{_W}}}input", name=OPERATION, message=f"tns:{OPERATION}")
    binding = etree.SubElement(root, f"{{{_W}}}binding", name=SERVICE_NAME, type=f"tns:{SERVICE_NAME}")
    etree.SubElement(binding, f"{{{_SOAP}}}binding", style="document", transport=HTTP_TRANSPORT)
    bound = etree.SubElement(binding, f"{{{_W}}}operation", name=OPERATION)
    etree.SubElement(bound, f"{{{_SOAP}}}operation", soapAction=OPERATION, style="document")
    etree.SubElement(etree.SubElement(bound, f"{{{_W}}}input", name=OPERATION), f"{{{_SOAP}}}body", use="literal")
    port = etree.SubElement(etree.SubElement(root, f"{{{_W}}}service", name=SERVICE_NAME), f"{{{_W}}}port",
                            name=SERVICE_NAME, binding=f"tns:{SERVICE_NAME}")
    etree.SubElement(port, f"{{{_SOAP}}}address", location=address)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _referenced_types(schema: etree._Element, roots: set[str]) -> set[str]:
    """`roots` and every named type of the target namespace they reference, transitively."""
    tns = schema.get("targetNamespace")
    named = {d.get("name"): d for d in schema if d.get("name") and d.tag != f"{{{_XS}}}element"}
    found, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in found or name not in named:
            continue
        found.add(name)
        for element in named[name].iter():
            for attr in ("type", "base"):
                prefix, _, local = (element.get(attr) or "").rpartition(":")
                if local and element.nsmap.get(prefix or None) == tns:
                    todo.append(local)
    return found


def _copy(element: etree._Element) -> etree._Element:
    # The service's prefixes (xs, tns) are declared on our root too: re-parsed copies keep them.
    return etree.fromstring(etree.tostring(element))
