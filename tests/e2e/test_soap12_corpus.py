"""SOAP 1.2 through gunicorn: the hostile corpus again, each envelope sent as SOAP 1.2
(application/soap+xml), gets a SOAP 1.2 fault (env:Sender/env:Receiver, the catalogue reason as
env:Subcode, the same LmsFault detail), never HTML, never a SOAP 1.1 answer, and changes nothing;
a valid SOAP 1.2 call gets a SOAP 1.2 answer; a SOAP 1.1 envelope announced as SOAP 1.2 (and the
reverse) is refused in the version the Content-Type announced."""
from __future__ import annotations

from dataclasses import replace

import pytest
import requests

from tests.e2e import hostile_cases as corpus
from tests.e2e.hostile_cases import CASES, HostileCase
from tests.e2e.test_hostile_corpus import assert_no_leak, row_counts, safe_parse, send
from tests.e2e.test_hostile_corpus import server  # noqa: F401 (the fixture)

SOAP12_TYPE = "application/soap+xml; charset=utf-8"
ENV12 = corpus.SOAP12
SIDES = {"Client": "Sender", "Server": "Receiver"}


def as_soap12(case: HostileCase) -> HostileCase | None:
    """The case with its SOAP 1.1 envelope made SOAP 1.2 and announced so; None where the case is
    not about an envelope (no text/xml Content-Type, or no SOAP 1.1 envelope in its body)."""
    content_type = case.headers.get("Content-Type", "")
    if not content_type.startswith("text/xml") or corpus.SOAP11.encode() not in case.body:
        return None
    if case.framing == corpus.ENCODED:
        return None  # broken chunk framing: refused before any envelope is read, tested in 1.1
    body = case.body.replace(corpus.SOAP11.encode(), ENV12.encode())
    body = body.replace(b'soap:mustUnderstand="1"', b'soap:mustUnderstand="true"')
    body += b" " * (len(case.body) - len(body))  # the same size: the size cases stay what they are
    return replace(case, id=f"{case.id}-soap12", body=body, headers={**case.headers, "Content-Type": SOAP12_TYPE})


CASES12 = [c for c in map(as_soap12, CASES) if c is not None]


def fault12(response) -> tuple[str, str, str | None]:
    """(Code value, Subcode value, LmsFault code) of a SOAP 1.2 fault answer; asserts its shape."""
    assert response.headers["Content-Type"].startswith("application/soap+xml"), response.headers
    root = safe_parse(response.content)
    assert root.tag == f"{{{ENV12}}}Envelope", root.tag
    fault = root.find(f"{{{ENV12}}}Body/{{{ENV12}}}Fault")
    assert fault is not None, response.content[:500]
    value = fault.findtext(f"{{{ENV12}}}Code/{{{ENV12}}}Value") or ""
    subcode = fault.findtext(f"{{{ENV12}}}Code/{{{ENV12}}}Subcode/{{{ENV12}}}Value") or ""
    assert fault.findtext(f"{{{ENV12}}}Reason/{{{ENV12}}}Text"), "no env:Reason"
    code = fault.findtext(f"{{{ENV12}}}Detail/{{{corpus.TNS}}}LmsFault/{{{corpus.TNS}}}code")
    return value.rpartition(":")[2], subcode.rpartition(":")[2], code


def test_most_of_the_corpus_is_also_sent_as_soap12():
    assert len(CASES12) >= 40


@pytest.mark.parametrize("case", CASES12, ids=[case.id for case in CASES12])
def test_a_hostile_soap12_request_gets_a_soap12_fault_and_changes_nothing(server, case):  # noqa: F811
    before = row_counts(server.engine)

    response = send(server.url, case)

    assert response.status_code == case.status, response.content[:500]
    assert_no_leak(response)
    side, reason = case.expected.split(".", 1)
    assert fault12(response) == (SIDES[side], reason, reason), response.content[:500]
    assert row_counts(server.engine) == before


def test_a_valid_soap12_call_gets_a_soap12_answer(server):  # noqa: F811
    body = corpus.envelope("GetCustomer", f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>",
                           soap_ns=ENV12)
    response = requests.post(f"{server.url}/soap", data=body, timeout=15, headers={
        **corpus.headers(), "Content-Type": f'{SOAP12_TYPE}; action="urn:lms-soap:v1/GetCustomer"'})
    assert response.status_code == 200, response.content[:500]
    assert response.headers["Content-Type"].startswith("application/soap+xml")
    root = safe_parse(response.content)
    assert root.tag == f"{{{ENV12}}}Envelope"
    assert root.find(f".//{{{corpus.TNS}}}customerNumber").text == corpus.CUSTOMER


def test_a_soap11_envelope_announced_as_soap12_gets_a_soap12_refusal(server):  # noqa: F811
    body = corpus.envelope("GetCustomer", f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>")
    response = requests.post(f"{server.url}/soap", data=body, timeout=15,
                             headers={**corpus.headers(), "Content-Type": SOAP12_TYPE})
    assert response.status_code == 500
    assert fault12(response) == ("Sender", "MalformedRequest", "MalformedRequest")


def test_a_soap12_content_type_in_another_charset_is_refused(server):  # noqa: F811
    body = corpus.envelope("GetCustomer", f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>",
                           soap_ns=ENV12)
    response = requests.post(f"{server.url}/soap", data=body, timeout=15, headers={
        **corpus.headers(), "Content-Type": "application/soap+xml; charset=iso-8859-1"})
    assert response.status_code == 500
    assert fault12(response) == ("Sender", "MalformedRequest", "MalformedRequest")
