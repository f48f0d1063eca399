"""Is a WSDL a compatible successor of a released one? The release policy (README, "Versioning"):
within urn:lms-soap:v1 the contract only grows; a breaking change means a v2 served beside v1.

A change breaks a client generated from the released WSDL when:
- an operation, a named type or an element of a type is removed, or an operation's messages change;
- a request accepts less than before: an optional element made required, a new required element,
  maxOccurs reduced, another base type, a narrower facet (length, range, pattern, digits), an
  enumeration value removed, nil no longer accepted;
- a response gives more than before: a required element made optional (or nillable), maxOccurs
  raised, another base type, a wider facet.
Additions pass: operations, types, optional request elements, response elements, enumeration
values (a new value in a response is listed in the CHANGELOG: `Report.new_response_values`).
Types used by requests and responses follow both rules. Simple types Spyne names after the first
element using them (`X_yType`) are compared through the elements, not by name; named enumerations
(LoanStatus...) are types of the contract.

    python -m tests.support.wsdl_compat wsdl/released/lms-v1.1.wsdl wsdl/lms.wsdl
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from lxml import etree

W = "{http://schemas.xmlsoap.org/wsdl/}"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XS = f"{{{XS_NS}}}"
#: Facets a request narrows by raising, and by lowering; any change to the others narrows both ways.
_LOWER_BOUNDS = {"minLength", "minInclusive", "minExclusive"}
_UPPER_BOUNDS = {"maxLength", "maxInclusive", "maxExclusive", "totalDigits", "fractionDigits"}


@dataclass(frozen=True)
class Simple:
    base: str
    facets: tuple[tuple[str, str], ...] = ()
    values: tuple[str, ...] = ()  # enumeration
    name: str | None = None  # a named enumeration of the contract


@dataclass(frozen=True)
class Field:
    type: Simple | str  # a Simple, or the key of a complex type in Contract.types
    min_occurs: int
    max_occurs: float
    nillable: bool


@dataclass
class Contract:
    namespace: str
    operations: dict[str, tuple[str, str]]  # name -> (input element, output element)
    types: dict[str, dict[str, Field]]  # "Loan", or "element:SubmitLoan" for an anonymous type
    enumerations: dict[str, Simple]
    requests: set[str] = field(default_factory=set)  # keys of types reachable from an input
    responses: set[str] = field(default_factory=set)  # ... from an output or a fault


@dataclass
class Report:
    breaking: list[str] = field(default_factory=list)
    new_response_values: list[str] = field(default_factory=list)  # "LoanStatus.DISBURSED"

    @property
    def compatible(self) -> bool:
        return not self.breaking


# --- reading a WSDL -------------------------------------------------------------------------------
def read(document: bytes) -> Contract:
    root = etree.fromstring(document)
    schema = root.find(f"{W}types/{XS}schema")
    tns = schema.get("targetNamespace")

    def local(element, attr: str) -> str:
        prefix, _, name = element.get(attr).rpartition(":")
        ns = element.nsmap.get(prefix or None)
        return name if ns in (tns, None) else f"{{{ns}}}{name}"

    simple_types = {s.get("name"): s for s in schema.findall(f"{XS}simpleType")}

    def simple(name: str, seen: int = 0) -> Simple:
        node = simple_types.get(name)
        if node is None or seen > 10:
            return Simple(base=name)
        restriction = node.find(f"{XS}restriction")
        inner = simple(local(restriction, "base"), seen + 1)
        facets = dict(inner.facets)
        values = tuple(e.get("value") for e in restriction.findall(f"{XS}enumeration")) or inner.values
        facets.update((etree.QName(f).localname, f.get("value")) for f in restriction
                      if etree.QName(f).localname != "enumeration")
        return Simple(inner.base, tuple(sorted(facets.items())), values, name if values else None)

    types: dict[str, dict[str, Field]] = {}

    def members(key: str, complex_type) -> None:
        fields: dict[str, Field] = {}
        for element in _child_elements(complex_type):
            if element.get("type"):
                name = local(element, "type")
                kind: Simple | str = name if schema.find(f"{XS}complexType[@name='{name}']") is not None \
                    else simple(name)
            else:  # an anonymous complex type of its own
                kind = f"{key}.{element.get('name')}"
                members(kind, element.find(f"{XS}complexType"))
            maximum = element.get("maxOccurs", "1")
            fields[element.get("name")] = Field(kind, int(element.get("minOccurs", "1")),
                                                float("inf") if maximum == "unbounded" else int(maximum),
                                                element.get("nillable") == "true")
        types[key] = fields

    for complex_type in schema.findall(f"{XS}complexType"):
        members(complex_type.get("name"), complex_type)
    elements: dict[str, str] = {}
    for element in schema.findall(f"{XS}element"):
        if element.get("type"):
            elements[element.get("name")] = local(element, "type")
        else:
            key = f"element:{element.get('name')}"
            members(key, element.find(f"{XS}complexType"))
            elements[element.get("name")] = key

    parts = {m.get("name"): local(m.find(f"{W}part"), "element") for m in root.findall(f"{W}message")}
    operations, requests, responses = {}, set(), set()
    for op in root.iterfind(f"{W}portType/{W}operation"):
        message = {d: parts.get(local(op.find(f"{W}{d}"), "message")) for d in ("input", "output")}
        operations[op.get("name")] = (message["input"], message["output"])
        _reach(elements.get(message["input"]), types, requests)
        for out in [message["output"], *(parts.get(local(f, "message")) for f in op.findall(f"{W}fault"))]:
            _reach(elements.get(out), types, responses)
    enumerations = {name: simple(name) for name in simple_types if simple(name).values}
    return Contract(tns, operations, types, enumerations, requests, responses)


def _child_elements(node):
    """The element declarations of a complex type (through sequence, choice, all, extension...),
    not those of the anonymous types of its elements."""
    for child in node:
        if child.tag == f"{XS}element":
            yield child
        elif isinstance(child.tag, str) and child.tag != f"{XS}annotation":
            yield from _child_elements(child)


def _reach(key: str | None, types: dict[str, dict[str, Field]], into: set[str]) -> None:
    if key is None or key in into or key not in types:
        return
    into.add(key)
    for member in types[key].values():
        if isinstance(member.type, str):
            _reach(member.type, types, into)


# --- comparing --------------------------------------------------------------------------------------
def compare(old: Contract, new: Contract) -> Report:
    report = Report()
    broken = report.breaking.append
    if old.namespace != new.namespace:
        broken(f"target namespace changed: {old.namespace} -> {new.namespace}")
    for name, messages in old.operations.items():
        if name not in new.operations:
            broken(f"operation {name} removed")
        elif new.operations[name] != messages:
            broken(f"operation {name}: messages changed {messages} -> {new.operations[name]}")
    for name in old.enumerations:
        if name not in new.enumerations:
            broken(f"type {name} removed")
    for key, fields in old.types.items():
        if key not in new.types:
            broken(f"type {key} removed")
            continue
        request = key in new.requests or key in old.requests
        response = key in new.responses or key in old.responses
        for name, before in fields.items():
            where = f"{key}.{name}"
            after = new.types[key].get(name)
            if after is None:
                broken(f"element {where} removed")
                continue
            if request:
                _request_field(where, before, after, report)
            if response:
                _response_field(where, before, after, report)
        if request:
            for name, added in new.types[key].items():
                if name not in fields and added.min_occurs > 0:
                    broken(f"new request element {key}.{name} is required")
    return report


def _request_field(where: str, before: Field, after: Field, report: Report) -> None:
    if after.min_occurs > before.min_occurs:
        report.breaking.append(f"request element {where} made required")
    if after.max_occurs < before.max_occurs:
        report.breaking.append(f"request element {where}: maxOccurs reduced")
    if before.nillable and not after.nillable:
        report.breaking.append(f"request element {where} no longer nillable")
    _types(where, before.type, after.type, request=True, report=report)


def _response_field(where: str, before: Field, after: Field, report: Report) -> None:
    if after.min_occurs < before.min_occurs:
        report.breaking.append(f"response element {where} made optional")
    if after.max_occurs > before.max_occurs:
        report.breaking.append(f"response element {where}: maxOccurs raised")
    if after.nillable and not before.nillable:
        report.breaking.append(f"response element {where} made nillable")
    _types(where, before.type, after.type, request=False, report=report)


def _types(where: str, before, after, request: bool, report: Report) -> None:
    side = "request" if request else "response"
    if isinstance(before, str) or isinstance(after, str):
        if before != after:
            report.breaking.append(f"{side} element {where}: type {_name(before)} -> {_name(after)}")
        return
    if before.base != after.base:
        report.breaking.append(f"{side} element {where}: base type {before.base} -> {after.base}")
        return
    removed = [v for v in before.values if v not in after.values] if before.values else []
    added = [v for v in after.values if v not in before.values] if before.values else []
    if request and (removed or (after.values and not before.values)):
        report.breaking.append(f"request element {where}: enumeration narrowed (removed {removed})")
    if not request:
        label = before.name or where
        report.new_response_values.extend(f"{label}.{v}" for v in added if f"{label}.{v}"
                                          not in report.new_response_values)
        if before.values and not after.values:
            report.breaking.append(f"response element {where}: enumeration dropped")
    old_facets, new_facets = dict(before.facets), dict(after.facets)
    for facet in sorted(set(old_facets) | set(new_facets)):
        change = _facet_change(facet, old_facets.get(facet), new_facets.get(facet))
        # A request that accepts less, or a response that may give more, breaks a client.
        if change == "changed" or change == ("narrower" if request else "wider"):
            report.breaking.append(f"{side} element {where}: facet {facet} "
                                   f"{old_facets.get(facet)} -> {new_facets.get(facet)}")


def _facet_change(facet: str, old: str | None, new: str | None) -> str | None:
    """"narrower" (accepts less), "wider", "changed" (both at once: another pattern), or None."""
    if old == new:
        return None
    if new is None:
        return "wider"
    if old is None:
        return "narrower"
    if facet in _LOWER_BOUNDS:
        return "narrower" if Decimal(new) > Decimal(old) else "wider"
    if facet in _UPPER_BOUNDS:
        return "narrower" if Decimal(new) < Decimal(old) else "wider"
    return "changed"


def _name(kind) -> str:
    return kind if isinstance(kind, str) else (kind.name or kind.base)


def check(released: bytes, current: bytes) -> Report:
    return compare(read(released), read(current))


def main(argv: list[str]) -> int:
    released, current = (Path(p).read_bytes() for p in argv[:2])
    report = check(released, current)
    for line in report.breaking:
        print(f"BREAKING: {line}")
    for value in report.new_response_values:
        print(f"new response value (list it in the CHANGELOG): {value}")
    print("compatible" if report.compatible else "NOT compatible")
    return 0 if report.compatible else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
