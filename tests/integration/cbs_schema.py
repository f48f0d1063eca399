"""Structural comparison of a served WSDL's schema with the bank's verbatim CBS WSDL (test helper).

What must match: the target namespace and elementFormDefault; every global element (resolved to
its content: a sequence of (name, type, minOccurs, maxOccurs, nillable) in order, or a type
reference); every named complexType and simpleType (base and enumerations, in order); and the
operations with their input/output elements. Types are compared by QName local name plus
"xs"/"tns"/other namespace, so prefixes do not matter.

Tolerated, because they change nothing on the wire: the verbatim WSDLs declare CustomerRequest
etc. with anonymous complex types where Spyne names a type after the element, and Spyne adds a
global element per named complex type. Anything else extra is a difference.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"


def _qname(node: etree._Element, value: str, tns: str) -> tuple[str, str]:
    prefix, _, local = value.rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    return ("xs" if namespace == XS else "tns" if namespace == tns else str(namespace), local)


def _particles(ctype: etree._Element, tns: str) -> list[Any]:
    described: list[Any] = []
    for child in ctype:
        if child.tag != f"{{{XS}}}sequence":  # attributes, choice, all, ...: show them as-is
            described.append(("unexpected", etree.QName(child).localname, dict(child.attrib)))
            continue
        for element in child:
            if element.tag != f"{{{XS}}}element":
                described.append(("unexpected", etree.QName(element).localname))
                continue
            described.append((element.get("name"), _element_type(element, tns),
                              element.get("minOccurs", "1"), element.get("maxOccurs", "1"),
                              element.get("nillable", "false")))
    return described


def _element_type(element: etree._Element, tns: str) -> Any:
    if element.get("type"):
        return _qname(element, element.get("type"), tns)
    inline = element.find(f"{{{XS}}}complexType")
    return ("anonymous", _particles(inline, tns)) if inline is not None else ("none",)


def describe(wsdl: bytes) -> dict[str, Any]:
    root = etree.fromstring(wsdl)
    tns = root.get("targetNamespace")
    model: dict[str, Any] = {"tns": tns, "schemas": [], "elements": {}, "complexTypes": {},
                             "simpleTypes": {}, "operations": {}}
    for schema in root.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema"):
        model["schemas"].append((schema.get("targetNamespace"),
                                 schema.get("elementFormDefault", "unqualified")))
        for node in schema:
            kind, name = etree.QName(node).localname, node.get("name")
            if kind == "element":
                model["elements"][name] = _element_type(node, tns)
            elif kind == "complexType":
                model["complexTypes"][name] = _particles(node, tns)
            elif kind == "simpleType":
                restriction = node.find(f"{{{XS}}}restriction")
                model["simpleTypes"][name] = (
                    _qname(restriction, restriction.get("base"), tns),
                    [e.get("value") for e in restriction.iterfind(f"{{{XS}}}enumeration")])
            elif isinstance(node.tag, str):
                model["schemas"].append(("unexpected", kind, dict(node.attrib)))
    messages = {m.get("name"): _qname(p, p.get("element"), tns)
                for m in root.iterfind(f"{{{WSDL}}}message") for p in m.iterfind(f"{{{WSDL}}}part")}
    for operation in root.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
        model["operations"][operation.get("name")] = tuple(
            messages.get(_qname(io, io.get("message"), tns)[1])
            for io in (operation.find(f"{{{WSDL}}}input"), operation.find(f"{{{WSDL}}}output")))
    return model


def _content(model: dict[str, Any], name: str) -> Any:
    """An element's content, whether its complex type is anonymous or named."""
    declared = model["elements"][name]
    if declared[0] == "anonymous":
        return ("complex", declared[1])
    if declared[0] == "tns" and declared[1] in model["complexTypes"]:
        return ("complex", model["complexTypes"][declared[1]])
    return ("type", declared)


def compare_wsdls(verbatim: bytes, served: bytes) -> list[str]:
    """Every structural difference, as readable lines; [] when the contracts match."""
    want, got = describe(verbatim), describe(served)
    diffs: list[str] = []
    if want["tns"] != got["tns"]:
        diffs.append(f"targetNamespace {got['tns']!r} != {want['tns']!r}")
    if want["schemas"] != got["schemas"]:
        diffs.append(f"schemas {got['schemas']} != {want['schemas']}")
    for name in want["elements"]:
        if name not in got["elements"]:
            diffs.append(f"element {name} missing")
        elif _content(want, name) != _content(got, name):
            diffs.append(f"element {name}: {_content(got, name)} != {_content(want, name)}")
    for kind in ("complexTypes", "simpleTypes"):
        for name, wanted in want[kind].items():
            if got[kind].get(name) != wanted:
                diffs.append(f"{kind} {name}: {got[kind].get(name)} != {wanted}")
    anonymous = {n for n, t in want["elements"].items() if t[0] == "anonymous"}
    extra_types = set(got["complexTypes"]) - set(want["complexTypes"]) - anonymous
    extra_elements = set(got["elements"]) - set(want["elements"]) - set(want["complexTypes"])
    extra_simple = set(got["simpleTypes"]) - set(want["simpleTypes"])
    for label, extra in (("complexTypes", extra_types), ("elements", extra_elements),
                         ("simpleTypes", extra_simple)):
        if extra:
            diffs.append(f"extra {label}: {sorted(extra)}")
    if want["operations"] != got["operations"]:
        diffs.append(f"operations {got['operations']} != {want['operations']}")
    return diffs


def verbatim_schema(wsdl_path: Path) -> etree.XMLSchema:
    """lxml XMLSchema of the xs:schema inside a WSDL. The schema is re-rooted with every namespace
    in scope, since its QName values (type="tns:customer") use prefixes declared on the WSDL."""
    inner = etree.parse(str(wsdl_path)).getroot().find(f"{{{WSDL}}}types/{{{XS}}}schema")
    schema = etree.Element(inner.tag, attrib=dict(inner.attrib), nsmap=inner.nsmap)
    schema.extend(copy.deepcopy(child) for child in inner)
    return etree.XMLSchema(schema)
