"""The published WSDL: Spyne's document, made byte-stable and clean for client generators.

What Spyne 2.14 writes and what the published contract says instead (CONTRACT.md, "SOAP 1.2 beside
SOAP 1.1"):
- schema types and messages in hash order: sorted by kind and name, pretty-printed, so that
  wsdl/lms.wsdl compares byte for byte with the served one and its diffs are readable;
- namespace declarations for everything Spyne knows (SOAP 1.2, partner-link, WS-Addressing 2003,
  XOP, HTTP binding...): only the ones the document uses are kept, or a toolkit may generate a
  client for a protocol we do not serve;
- `nillable="true"` on every element (Spyne's default): removed, so that wsimport and svcutil give
  plain types instead of JAXBElement/Nullable wrappers. Nil never means anything in this contract:
  the serializer omits an absent optional element, and a required one is always written. The
  server keeps accepting xsi:nil on optional request elements (Spyne's own validation schema is
  still nillable), so clients generated from the release 1.0 WSDL, which may send nil, keep working;
- a global element for every complex type, of a named type of its own name: JAXB writes a
  JAXBElement factory for each. Only the message parts stay global elements, of anonymous types
  (plain @XmlRootElement classes); the other complex types stay named (Loan, Customer...);
- no documentation of faults: each operation's wsdl:fault says what it carries (the codes are
  listed in the LmsFault type's annotation, faults.py); operations are documented by the
  docstrings of their @rpc functions;
- a SOAP 1.1 binding only: a SOAP 1.2 binding of the same port type is derived from it
  (`LoanManagementServiceSoap12`, its port on the same address), after the SOAP 1.1 ones so that
  stacks taking the first port (zeep, suds) keep SOAP 1.1. The 1.1 names stay as released.
"""
from __future__ import annotations

from copy import deepcopy
from lxml import etree
from spyne import Application
from spyne.interface.wsdl import Wsdl11


_XS = "{http://www.w3.org/2001/XMLSchema}"
_WSDL = "{http://schemas.xmlsoap.org/wsdl/}"
_SOAP11_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
_SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"
#: The suffix of the SOAP 1.2 binding's and port's names (the SOAP 1.1 ones keep the released names).
SOAP12_SUFFIX = "Soap12"
_KIND_ORDER = {f"{_XS}simpleType": 0, f"{_XS}complexType": 1, f"{_XS}element": 2}
#: Attributes whose values are QNames: the prefixes in them are in use (cleanup_namespaces only
#: sees prefixes of element and attribute names).
_QNAME_ATTRIBUTES = ("type", "base", "ref", "element", "message", "binding", "itemType")
#: Each operation's wsdl:fault (the codes are listed once, in the LmsFault type's documentation).
_FAULT_DOCUMENTATION = ("A catalogue fault: faultcode Client.<code> (the caller can fix the request) or "
                        "Server.<code> (retry later); its detail holds one tns:LmsFault with that code.")


def build_wsdl(app: Application, soap_url: str) -> bytes:
    """The WSDL, built once, with the configured public URL as soap:address."""
    app.transport = "http://schemas.xmlsoap.org/soap/http"  # else Spyne writes noconn://null.spyne
    wsdl = Wsdl11(app.interface)
    wsdl.build_interface_document(soap_url)
    return canonical(wsdl.get_interface_document())


def canonical(document: bytes) -> bytes:
    root = etree.fromstring(document)
    _sort(root)
    _root_elements_only_for_messages(root)
    for element in root.iter(f"{_XS}element"):
        element.attrib.pop("nillable", None)
    _document(root)
    _add_soap12_binding(root)
    _only_used_namespaces(root)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _sort(root: etree._Element) -> None:
    for schema in root.iter(f"{_XS}schema"):
        schema[:] = sorted(schema, key=lambda e: (_KIND_ORDER.get(e.tag, -1), e.get("name") or ""))
    messages = sorted(root.findall(f"{_WSDL}message"), key=lambda e: e.get("name"))
    for message in messages:
        root.remove(message)
    anchor = root.find(f"{_WSDL}types")
    position = list(root).index(anchor) + 1 if anchor is not None else 0
    for offset, message in enumerate(messages):
        root.insert(position + offset, message)


def _root_elements_only_for_messages(root: etree._Element) -> None:
    """Spyne declares a global element for every complex type, each of a named type of its own
    name. JAXB gives every such element a JAXBElement factory: the global elements that no message
    part names are removed, and a complex type used by one global element only becomes that
    element's anonymous type (JAXB then maps it to a plain @XmlRootElement class)."""
    schema = root.find(f"{_WSDL}types/{_XS}schema")
    tns = schema.get("targetNamespace")
    parts = {_resolve(part, part.get("element")) for part in root.iter(f"{_WSDL}part")}
    uses: dict[str, int] = {}
    for element in schema.iter(f"{_XS}element", f"{_XS}extension", f"{_XS}restriction"):
        for attr in ("type", "base"):
            if element.get(attr):
                ns, local = _resolve(element, element.get(attr))
                if ns == tns:
                    uses[local] = uses.get(local, 0) + 1
    for element in schema.findall(f"{_XS}element"):
        if (tns, element.get("name")) not in parts:
            schema.remove(element)
            uses[_resolve(element, element.get("type"))[1]] -= 1
    for element in schema.findall(f"{_XS}element"):
        ns, local = _resolve(element, element.get("type"))
        named = schema.find(f"{_XS}complexType[@name='{local}']")
        if ns == tns and named is not None and uses.get(local) == 1:
            del element.attrib["type"]
            del named.attrib["name"]
            schema.remove(named)
            element.append(named)


def _resolve(element: etree._Element, qname: str) -> tuple[str | None, str]:
    prefix, _, local = qname.rpartition(":")
    return element.nsmap.get(prefix or None), local


def _document(root: etree._Element) -> None:
    # Docstrings arrive with their source indentation: one line of text each.
    for doc in root.iter(f"{_WSDL}documentation", f"{_XS}documentation"):
        doc.text = " ".join((doc.text or "").split())
    for fault in root.iterfind(f"{_WSDL}portType/{_WSDL}operation/{_WSDL}fault"):
        if fault.find(f"{_WSDL}documentation") is None:
            doc = etree.Element(f"{_WSDL}documentation")
            doc.text = _FAULT_DOCUMENTATION
            fault.insert(0, doc)


def _add_soap12_binding(root: etree._Element) -> None:
    """The SOAP 1.1 binding and port, copied with the WSDL SOAP 1.2 extension elements (W3C's
    "WSDL 1.1 Binding Extension for SOAP 1.2"): same operations, soapActions, literal bodies and
    faults. soapActionRequired="false": a SOAP 1.2 request is dispatched on its body element, the
    action parameter of its Content-Type is optional."""
    soap11 = root.find(f"{_WSDL}binding")
    port11 = root.find(f"{_WSDL}service/{_WSDL}port")
    binding = _as_soap12(soap11)
    binding.set("name", soap11.get("name") + SOAP12_SUFFIX)
    for operation in binding.iterfind(f"{_WSDL}operation/{{{_SOAP12_BINDING}}}operation"):
        operation.set("soapActionRequired", "false")
    soap11.addnext(binding)
    port = _as_soap12(port11)
    port.set("name", port11.get("name") + SOAP12_SUFFIX)
    prefix, _, local = port11.get("binding").rpartition(":")
    port.set("binding", f"{prefix}:{binding.get('name')}" if prefix else binding.get("name"))
    port11.addnext(port)


def _as_soap12(element: etree._Element) -> etree._Element:
    copy = deepcopy(element)
    for child in copy.iter(f"{{{_SOAP11_BINDING}}}*"):
        child.tag = f"{{{_SOAP12_BINDING}}}{etree.QName(child).localname}"
    copy.tail = element.tail
    return copy


def _only_used_namespaces(root: etree._Element) -> None:
    keep = set()
    for element in root.iter():
        for attr in _QNAME_ATTRIBUTES:
            value = element.get(attr)
            if value and ":" in value:
                keep.add(value.split(":", 1)[0])
    etree.cleanup_namespaces(root, keep_ns_prefixes=sorted(keep))
