"""The compatibility guard (tests/support/wsdl_compat.py): the checker itself on synthetic
before/after contracts, then this build's WSDL against the last released one (wsdl/released/)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.wsdl_compat import check

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "wsdl" / "released"
CHANGELOG = ROOT / "CHANGELOG.md"

STATUSES = ("PENDING", "APPROVED", "CLOSED")
BASE = {
    # request wrapper elements: (name, type, minOccurs, maxOccurs)
    "SubmitLoan": [("customerNumber", "tns:CustomerNumberType", 1, 1), ("amount", "xs:decimal", 1, 1),
                   ("requestId", "tns:RequestIdType", 0, 1)],
    "SubmitLoanResponse": [("loan", "tns:Loan", 1, 1)],
    "ListLoans": [("customerNumber", "tns:CustomerNumberType", 1, 1), ("status", "tns:LoanStatus", 0, 1),
                  ("tags", "xs:string", 0, "unbounded")],
    "ListLoansResponse": [("loans", "tns:Loan", 0, "unbounded"), ("total", "xs:int", 1, 1)],
}
LOAN = [("loanId", "xs:string", 1, 1), ("status", "tns:LoanStatus", 1, 1), ("score", "xs:int", 0, 1)]
SIMPLE = {"CustomerNumberType": ("xs:string", {"maxLength": "32"}),
          "RequestIdType": ("xs:string", {"maxLength": "64"})}


def wsdl(wrappers=None, loan=None, statuses=STATUSES, simple=None, extra_types="") -> bytes:
    """A minimal document/literal wrapped WSDL, shaped like the LMS's."""
    wrappers = BASE if wrappers is None else wrappers

    def sequence(fields) -> str:
        return "".join(f'<xs:element name="{n}" type="{t}" minOccurs="{lo}" maxOccurs="{hi}"/>'
                       for n, t, lo, hi in fields)

    simple_types = "".join(
        f'<xs:simpleType name="{name}"><xs:restriction base="{base}">'
        + "".join(f'<xs:{facet} value="{value}"/>' for facet, value in facets.items())
        + "</xs:restriction></xs:simpleType>"
        for name, (base, facets) in (SIMPLE if simple is None else simple).items())
    enum = "".join(f'<xs:enumeration value="{s}"/>' for s in statuses)
    elements = "".join(f'<xs:element name="{name}"><xs:complexType><xs:sequence>{sequence(fields)}'
                       f"</xs:sequence></xs:complexType></xs:element>" for name, fields in wrappers.items())
    operations = sorted(name for name in wrappers if not name.endswith("Response"))
    messages = "".join(f'<wsdl:message name="{m}"><wsdl:part name="{m}" element="tns:{m}"/></wsdl:message>'
                       for m in wrappers)
    port = "".join(f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}"/>'
                   f'<wsdl:output message="tns:{op}Response"/></wsdl:operation>' for op in operations)
    loan_type = "" if loan is False else \
        f'<xs:complexType name="Loan"><xs:sequence>{sequence(loan or LOAN)}</xs:sequence></xs:complexType>'
    return (
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:lms-soap:v1" '
        'targetNamespace="urn:lms-soap:v1">'
        '<wsdl:types><xs:schema targetNamespace="urn:lms-soap:v1" elementFormDefault="qualified">'
        f'{simple_types}<xs:simpleType name="LoanStatus"><xs:restriction base="xs:string">{enum}'
        f"</xs:restriction></xs:simpleType>{loan_type}{extra_types}{elements}</xs:schema></wsdl:types>"
        f'{messages}<wsdl:portType name="P">{port}</wsdl:portType></wsdl:definitions>').encode()


def changed(name: str, field: str, **values):
    """BASE with one wrapper field changed."""
    def swap(f):
        return (f[0], values.get("type", f[1]), values.get("lo", f[2]), values.get("hi", f[3])) \
            if f[0] == field else f
    return {**BASE, name: [swap(f) for f in BASE[name]]}


def breaking(after: bytes, before: bytes | None = None) -> list[str]:
    return check(before or wsdl(), after).breaking


# --- the checker ---------------------------------------------------------------------------------
def test_the_same_contract_is_compatible():
    assert check(wsdl(), wsdl()).compatible


def test_additions_pass_and_new_response_values_are_reported():
    """What the lifecycle issue adds: operations, an optional request element, response elements,
    status values, types."""
    grown = {**BASE,
             "SubmitLoan": [*BASE["SubmitLoan"], ("productCode", "xs:string", 0, 1)],
             "ListProducts": [], "ListProductsResponse": [("products", "tns:Product", 0, "unbounded")]}
    after = wsdl(grown, loan=[*LOAN, ("dueDate", "xs:date", 0, 1), ("currency", "xs:string", 1, 1)],
                 statuses=(*STATUSES, "DISBURSED", "OVERDUE"),
                 simple={**SIMPLE, "RequestIdType": ("xs:string", {"maxLength": "128"})},  # accepts more
                 extra_types='<xs:complexType name="Product"><xs:sequence>'
                             '<xs:element name="code" type="xs:string"/></xs:sequence></xs:complexType>')
    report = check(wsdl(), after)
    assert report.breaking == []
    assert report.new_response_values == ["LoanStatus.DISBURSED", "LoanStatus.OVERDUE"]


@pytest.mark.parametrize("after, expected", [
    (lambda: wsdl({k: v for k, v in BASE.items() if not k.startswith("ListLoans")}),
     "operation ListLoans removed"),
    (lambda: wsdl(loan=[f for f in LOAN if f[0] != "score"]), "element Loan.score removed"),
    (lambda: wsdl({**BASE, "SubmitLoan": BASE["SubmitLoan"][:2]}),
     "element element:SubmitLoan.requestId removed"),
    (lambda: wsdl(changed("SubmitLoanResponse", "loan", type="tns:Other"), loan=False,
                  extra_types='<xs:complexType name="Other"><xs:sequence/></xs:complexType>'),
     "type Loan removed"),
    (lambda: wsdl(statuses=("PENDING",)).replace(b'name="LoanStatus"', b'name="Status"')
     .replace(b'tns:LoanStatus', b'tns:Status'), "type LoanStatus removed"),
])
def test_a_removal_breaks(after, expected):
    assert expected in breaking(after())


@pytest.mark.parametrize("after, expected", [
    (lambda: wsdl(changed("SubmitLoan", "requestId", lo=1)),
     "request element element:SubmitLoan.requestId made required"),
    (lambda: wsdl({**BASE, "SubmitLoan": [*BASE["SubmitLoan"], ("channel", "xs:string", 1, 1)]}),
     "new request element element:SubmitLoan.channel is required"),
    (lambda: wsdl(changed("ListLoans", "tags", hi=3)),
     "request element element:ListLoans.tags: maxOccurs reduced"),
    (lambda: wsdl(changed("SubmitLoan", "amount", type="xs:int")), "base type"),
    (lambda: wsdl(simple={**SIMPLE, "RequestIdType": ("xs:string", {"maxLength": "40"})}),
     "facet maxLength 64 -> 40"),
    (lambda: wsdl(simple={**SIMPLE,
                          "RequestIdType": ("xs:string", {"maxLength": "64", "pattern": "[a-z]+"})}),
     "facet pattern None -> [a-z]+"),
    (lambda: wsdl(statuses=("PENDING", "APPROVED")),
     "request element element:ListLoans.status: enumeration narrowed"),
])
def test_a_request_narrowed_breaks(after, expected):
    found = breaking(after())
    assert any(expected in line for line in found), found


@pytest.mark.parametrize("after, expected", [
    (lambda: wsdl(loan=[("loanId", "xs:string", 0, 1), *LOAN[1:]]),
     "response element Loan.loanId made optional"),
    (lambda: wsdl(changed("ListLoansResponse", "total", lo=0)),
     "element:ListLoansResponse.total made optional"),
    (lambda: wsdl(changed("SubmitLoanResponse", "loan", hi="unbounded")), "maxOccurs raised"),
    (lambda: wsdl(loan=[LOAN[0], LOAN[1], ("score", "xs:string", 0, 1)]),
     "response element Loan.score: base type"),
])
def test_a_response_loosened_breaks(after, expected):
    found = breaking(after())
    assert any(expected in line for line in found), found


# --- this build against the last release ------------------------------------------------------------
def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.stem))


def last_release() -> Path:
    releases = sorted(RELEASED.glob("lms-v*.wsdl"), key=_version)
    assert releases, "no released WSDL under wsdl/released/"
    return releases[-1]


def test_this_build_is_compatible_with_the_last_release():
    from lms_soap.services.application import build_soap_application
    from lms_soap.services.wsdl_document import build_wsdl

    current = build_wsdl(build_soap_application(), "http://127.0.0.1:8000/soap")
    report = check(last_release().read_bytes(), current)
    assert report.breaking == [], (
        f"this build breaks clients of {last_release().name} (README, Versioning): {report.breaking}")
    changelog = CHANGELOG.read_text(encoding="utf-8")
    unlisted = [value for value in report.new_response_values if value.rsplit(".", 1)[1] not in changelog]
    assert unlisted == [], f"new response values missing from CHANGELOG.md: {unlisted}"


def test_the_checker_sees_a_removal_in_the_real_contract():
    released = last_release().read_bytes()
    without_reason = re.sub(rb'\s*<xs:element name="statusReason"[^>]*/>', b"", released, count=1)
    assert "element Loan.statusReason removed" in check(released, without_reason).breaking
    optional = b'<xs:element name="requestId" type="tns:SubmitLoan_requestIdType" minOccurs="0"/>'
    required = released.replace(optional, optional.replace(b' minOccurs="0"', b""))
    assert required != released
    assert "request element element:SubmitLoan.requestId made required" in check(released, required).breaking
