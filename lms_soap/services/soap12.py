"""SOAP 1.2 on the wire, around the one SOAP 1.1 service (CONTRACT.md, "SOAP 1.2 beside SOAP 1.1").

Spyne's Soap12 protocol crashes with the lxml validator on invalid input, so there is one service,
Spyne's Soap11: a SOAP 1.2 request envelope is rewritten into a SOAP 1.1 one after the gateway's
hardened parse (`soap12_request_to_soap11`), and the SOAP 1.1 answer Spyne writes, success or
fault, into a SOAP 1.2 one (`soap11_to_soap12_response`). Refusals made before Spyne runs get
`soap12_fault_envelope`. A SOAP 1.2 fault (SOAP 1.2 Part 1, 5.4):

    env:Code/env:Value      env:Sender (the catalogue's Client side) or env:Receiver (Server side)
    env:Code/env:Subcode    tns:<the catalogue reason>, the `<code>` of faultcode Client.<code>
    env:Reason/env:Text     the readable message, xml:lang="en"
    env:Detail              the same tns:LmsFault as in SOAP 1.1 (faults.detail_element)

Pure lxml; the media type is application/soap+xml (`parse_soap12_content_type`).
"""
from __future__ import annotations

import re

from lxml import etree

from lms_soap.lending.errors import LendingError

from .faults import SOAP11_ENV, detail_element
from .types import TNS

SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
MEDIA_TYPE = "application/soap+xml"
#: The Content-Type of every SOAP 1.2 answer.
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"

_E11, _E12 = f"{{{SOAP11_ENV}}}", f"{{{SOAP12_ENV}}}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: SOAP 1.1 faultcode (its local part before the first dot) -> SOAP 1.2 Code value, and back.
_CODES = {"Client": "Sender", "Server": "Receiver", "VersionMismatch": "VersionMismatch",
          "MustUnderstand": "MustUnderstand"}
#: The roles this node plays (SOAP 1.2 Part 1, 2.2): the ultimate receiver, and "next" (everyone).
_ROLE_NEXT, _ACTOR_NEXT = f"{SOAP12_ENV}/role/next", "http://schemas.xmlsoap.org/soap/actor/next"
_ROLE_ULTIMATE = f"{SOAP12_ENV}/role/ultimateReceiver"
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = re.compile(rf'\s*;\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")\s*')


# --- Content-Type ---------------------------------------------------------------------------------
def parse_soap12_content_type(header: str | None) -> tuple[bool, str | None]:
    """(is it a SOAP 1.2 request's Content-Type, its action parameter or None).

    RFC 3902: application/soap+xml, with an optional `action` (the operation's soapAction; the
    binding says soapActionRequired="false": dispatch is on the body element) and `charset`,
    which must be UTF-8 when given, the encoding of everything we answer. Other parameters are
    ignored; parameter names and the media type are case-insensitive.
    """
    media, _, rest = (header or "").partition(";")
    if media.strip().lower() != MEDIA_TYPE:
        return False, None
    parameters: dict[str, str] = {}
    rest = ";" + rest if rest else ""
    position = 0
    while position < len(rest):
        found = _PARAMETER.match(rest, position)
        if found is None:
            return False, None  # not the parameter syntax of RFC 7231
        name, value = found.group(1).lower(), found.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        parameters[name] = value
        position = found.end()
    if parameters.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        return False, None
    return True, parameters.get("action")


# --- faults ---------------------------------------------------------------------------------------
def soap12_fault_envelope(error: LendingError) -> bytes:
    """A complete SOAP 1.2 fault envelope for a catalogue error, the SOAP 1.2 twin of the SOAP 1.1
    fault writer of services/faults.py: it writes the error it is given (the mapping of any
    exception to the catalogue error the caller may see happens before, in faults.py)."""
    envelope, body = _envelope(SOAP12_ENV)
    detail = detail_element(error.code, error.loan_id, error.customer_number)
    body.append(_fault12(_CODES[error.side], error.code, error.message, [detail]))
    return _serialize(envelope)


def _fault12(value: str, reason: str, text: str, details: list[etree._Element],
             role: str | None = None) -> etree._Element:
    fault = etree.Element(f"{_E12}Fault")
    code = etree.SubElement(fault, f"{_E12}Code")
    etree.SubElement(code, f"{_E12}Value").text = f"soap12env:{value}"
    if reason:
        subcode = etree.SubElement(code, f"{_E12}Subcode")
        etree.SubElement(subcode, f"{_E12}Value").text = f"tns:{reason}"  # tns: on the Envelope
    etree.SubElement(etree.SubElement(fault, f"{_E12}Reason"), f"{_E12}Text", {_XML_LANG: "en"}).text = text
    if role:
        etree.SubElement(fault, f"{_E12}Role").text = role
    if details:
        etree.SubElement(fault, f"{_E12}Detail").extend(details)
    return fault


def _fault11_to_12(fault: etree._Element) -> etree._Element:
    """faultcode soap11env:Client.<reason> / Server.<reason>, faultstring, faultactor, detail."""
    faultcode = (fault.findtext("faultcode") or "").strip()
    prefix, _, local = faultcode.rpartition(":")
    kind, _, reason = local.partition(".")
    if fault.nsmap.get(prefix or None) != SOAP11_ENV or kind not in _CODES:
        kind, reason = "Server", "InternalError"  # not a code of ours: never expected from Spyne
    detail = fault.find("detail")
    return _fault12(_CODES[kind], reason, fault.findtext("faultstring") or "",
                    list(detail) if detail is not None else [], fault.findtext("faultactor"))


# --- envelopes ------------------------------------------------------------------------------------
def soap11_to_soap12_response(body: bytes) -> bytes:
    """The SOAP 1.2 answer for a SOAP 1.1 one Spyne wrote (a success, or a soap11env:Fault)."""
    old = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    envelope, new_body = _envelope(SOAP12_ENV, old)
    header = old.find(f"{_E11}Header")
    if header is not None:
        new_body.addprevious(_header(header, SOAP12_ENV))
    for child in list(old.find(f"{_E11}Body")):
        new_body.append(_fault11_to_12(child) if child.tag == f"{_E11}Fault" else child)
    return _serialize(envelope)


def soap12_request_to_soap11(root: etree._Element) -> etree._Element:
    """A parsed SOAP 1.2 request envelope (env:Header?, env:Body) as the SOAP 1.1 envelope Spyne's
    Soap11 dispatches: the same body element and header blocks, moved, not copied. A header block
    keeps mustUnderstand (1.2 xs:boolean -> 1.1 "1"/"0") only if it is targeted at this node (no
    role, role next or ultimateReceiver): one for another role (or "none") is not ours to
    understand (SOAP 1.2 Part 1, 5.2.3). Anything else in the envelope is moved as it is, for the
    gateway's SOAP 1.1 checks to refuse."""
    envelope, body = _envelope(SOAP11_ENV, root)
    for child in list(root):
        if child.tag == f"{_E12}Header":
            body.addprevious(_header(child, SOAP11_ENV))
        elif child.tag == f"{_E12}Body":
            body.text = child.text
            body.extend(list(child))
        else:
            envelope.append(child)
    return envelope


def _envelope(namespace: str, old: etree._Element | None = None) -> tuple[etree._Element, etree._Element]:
    """A new Envelope with a Body; it declares the namespaces the old envelope declared (the
    payload's prefixes stay where they were) but the other SOAP version's, and tns (the fault
    subcodes' prefix)."""
    prefix = "soap12env" if namespace == SOAP12_ENV else "soap11env"
    inherited = {p: ns for p, ns in (old.nsmap if old is not None else {}).items()
                 if ns not in (SOAP11_ENV, SOAP12_ENV) and p not in (prefix, "tns")}
    nsmap = {prefix: namespace, **inherited, "tns": TNS}
    envelope = etree.Element(f"{{{namespace}}}Envelope", nsmap=nsmap)
    return envelope, etree.SubElement(envelope, f"{{{namespace}}}Body")


def _header(old: etree._Element, namespace: str) -> etree._Element:
    header = etree.Element(f"{{{namespace}}}Header")
    for block in list(old):
        if isinstance(block.tag, str):
            _convert_block(block, to_soap11=namespace == SOAP11_ENV)
        header.append(block)
    return header


def _convert_block(block: etree._Element, *, to_soap11: bool) -> None:
    source, target = (_E12, _E11) if to_soap11 else (_E11, _E12)
    must = block.attrib.pop(f"{source}mustUnderstand", None)
    target_role = block.attrib.pop(f"{source}{'role' if to_soap11 else 'actor'}", None)
    block.attrib.pop(f"{source}relay", None)  # SOAP 1.2 only; this node forwards nothing
    if to_soap11:
        ours = target_role in (None, _ROLE_NEXT, _ROLE_ULTIMATE)
        if target_role not in (None, _ROLE_ULTIMATE):
            block.set(f"{target}actor", _ACTOR_NEXT if target_role == _ROLE_NEXT else target_role)
        if must is not None and ours:
            block.set(f"{target}mustUnderstand", "1" if must.strip() in ("1", "true") else "0")
    else:
        if target_role is not None:
            block.set(f"{target}role", _ROLE_NEXT if target_role == _ACTOR_NEXT else target_role)
        if must is not None:
            block.set(f"{target}mustUnderstand", "true" if must.strip() in ("1", "true") else "false")


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
