"""SoapUI's assertions on a request step's exchange, evaluated as SoapUI does.

Type ids are SoapUI's own, including its historical inversion: "SOAP Fault Assertion" is the
*Not SOAP Fault* assertion and "Not SOAP Fault Assertion" the *SOAP Fault* one
(com.eviware.soapui.impl.wsdl.teststeps.assertions.soap.NotSoapFaultAssertion.ID and
SoapFaultAssertion.ID). "GroovyScriptAssertion" (Script Assertion) is reported as skipped:
the runner does not execute Groovy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from .expansion import Scope, UnsupportedExpansion, XPathProblem, evaluate, expand, parse_xml, values
from .model import Assertion, Interface
from .wsdl import WsdlOperation

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"

PASS, FAIL, SKIPPED = "PASS", "FAIL", "SKIPPED"


@dataclass
class Exchange:
    """One request sent and what came back."""

    interface: Interface
    operation: WsdlOperation | None
    endpoint: str
    request: str
    status: int | None
    headers: dict[str, str]
    response: str
    time_ms: int
    error: str | None = None  # a transport error: no response at all


@dataclass
class AssertionResult:
    name: str
    type: str
    status: str
    message: str


class AssertionFailed(Exception):
    pass


def envelope_ns(interface: Interface) -> str:
    return SOAP12_ENV if interface.soap_version == "1_2" else SOAP11_ENV


def _document(exchange: Exchange) -> etree._Element:
    if exchange.error is not None:
        raise AssertionFailed(f"No response: {exchange.error}")
    try:
        return parse_xml(exchange.response)
    except XPathProblem as exc:
        raise AssertionFailed(f"Response is not XML: {exc}") from None


def _body_payload(exchange: Exchange) -> tuple[etree._Element, etree._Element]:
    doc = _document(exchange)
    ns = envelope_ns(exchange.interface)
    if doc.tag != f"{{{ns}}}Envelope":
        raise AssertionFailed(f"Response is not a SOAP {exchange.interface.soap_version.replace('_', '.')} "
                              f"envelope (root element {doc.tag})")
    body = doc.find(f"{{{ns}}}Body")
    if body is None:
        raise AssertionFailed("Response has no SOAP Body")
    payload = [child for child in body if isinstance(child.tag, str)]
    if not payload:
        raise AssertionFailed("Response has an empty SOAP Body")
    return doc, payload[0]


def _is_fault(exchange: Exchange) -> bool:
    _, payload = _body_payload(exchange)
    return payload.tag == f"{{{envelope_ns(exchange.interface)}}}Fault"


# --- the assertion types -------------------------------------------------------------------------
def soap_response(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    _body_payload(exchange)
    return "Response is a valid SOAP message"


def not_soap_fault(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    if _is_fault(exchange):
        raise AssertionFailed("Response is a SOAP Fault")
    return "Response is not a SOAP Fault"


def soap_fault(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    if not _is_fault(exchange):
        raise AssertionFailed("Response is not a SOAP Fault")
    return "Response is a SOAP Fault"


def _codes(assertion: Assertion, scope: Scope) -> list[int]:
    text = expand(assertion.config("codes", ""), scope)
    return [int(code) for code in re.split(r"[,\s]+", text) if code.strip()]


def valid_http_status(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    if exchange.status is None:
        raise AssertionFailed(f"No response: {exchange.error}")
    codes = _codes(assertion, scope)
    if exchange.status not in codes:
        raise AssertionFailed(f"Response status code:{exchange.status} is not in acceptable list of "
                              f"status codes")
    return f"Response status code:{exchange.status} is in acceptable list of status codes"


def invalid_http_status(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    if exchange.status is None:
        raise AssertionFailed(f"No response: {exchange.error}")
    if exchange.status in _codes(assertion, scope):
        raise AssertionFailed(f"Response status code:{exchange.status} is in invalid list of status codes")
    return f"Response status code:{exchange.status} is not in invalid list of status codes"


def _contains(assertion: Assertion, exchange: Exchange, scope: Scope) -> tuple[bool, str]:
    if exchange.error is not None:
        raise AssertionFailed(f"No response: {exchange.error}")
    token = expand(assertion.config("token", ""), scope).replace("\r\n", "\n")
    content = exchange.response.replace("\r\n", "\n")
    ignore_case = (assertion.config("ignoreCase", "false") or "").lower() == "true"
    use_regex = (assertion.config("useRegEx", "false") or "").lower() == "true"
    if not token:
        return True, token
    if use_regex:  # Java String.matches: the whole content must match
        return re.fullmatch(token, content, re.IGNORECASE if ignore_case else 0) is not None, token
    if ignore_case:
        return token.upper() in content.upper(), token
    return token in content, token


def simple_contains(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    found, token = _contains(assertion, exchange, scope)
    if not found:
        raise AssertionFailed(f"Missing token [{token}] in Response")
    return f"Response contains token [{token}]"


def simple_not_contains(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    found, token = _contains(assertion, exchange, scope)
    if found and token:
        raise AssertionFailed(f"Response contains token [{token}]")
    return f"Response does not contain token [{token}]"


def _similar(expected: str, actual: str) -> bool:
    """SoapUI's Tools.assertSimilar with '*' as the wildcard."""
    pattern = ".*".join(re.escape(part) for part in expected.split("*"))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def xpath_match(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    path = assertion.config("path")
    expected = assertion.config("content")
    if path is None:
        return "Missing path for XPath assertion"
    if expected is None:
        return "Missing content for XPath assertion"
    document = _document(exchange)
    expanded_path = expand(path, scope)
    expanded = expand(expected, scope)
    wildcards = (assertion.config("allowWildcards", "false") or "").lower() == "true"
    try:
        found = values(evaluate(document, expanded_path))
    except XPathProblem as exc:
        raise AssertionFailed(f"XPathContains assertion failed for path [{path}] : {exc}") from None
    if not found:
        raise AssertionFailed(f"XPathContains assertion failed for path [{path}] : "
                              f"Exception:Missing content for xpath [{path}] in Response")
    for actual in found:  # SoapUI passes when any selected node matches
        if (_similar(expanded, actual) if wildcards else actual == expanded):
            return f"Response matches content for [{path}]"
    raise AssertionFailed(f"XPathContains comparison failed for path [{path}], expecting [{expanded}], "
                          f"actual was [{found[-1]}]")


def schema_compliance(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    """The response validated against the interface's WSDL: the SOAP envelope, the operation's
    output element, or for a fault each detail entry that is a fault declared by the operation."""
    definition = exchange.interface.definition
    if definition is None:
        raise AssertionFailed("the interface has no cached WSDL definition to validate against")
    other = expand(assertion.config("definition", "") or "", scope).strip()
    if other and other != exchange.interface.definition_url:
        raise AssertionFailed(f"validating against another definition ({other}) is not supported by "
                              f"tests/soapui_runner: leave it empty to use the interface's WSDL")
    _, payload = _body_payload(exchange)
    ns = envelope_ns(exchange.interface)
    operation = exchange.operation
    schemas = definition.schemas()
    errors: list[str] = []

    def validate(element: etree._Element) -> None:
        qname = etree.QName(element)
        schema = schemas.get(qname.namespace or "")
        if schema is None:
            errors.append(f"no schema for namespace {qname.namespace}")
            return
        if qname not in definition.global_elements():
            errors.append(f"element {qname.text} is not declared in the WSDL's schema")
            return
        standalone = etree.fromstring(etree.tostring(element))
        if not schema.validate(standalone):
            for entry in schema.error_log:
                errors.append(f"line {entry.line}: {entry.message}")

    if payload.tag == f"{{{ns}}}Fault":
        if ns == SOAP11_ENV:
            for part in ("faultcode", "faultstring"):
                if payload.find(part) is None:
                    errors.append(f"SOAP 1.1 Fault without {part}")
        detail = payload.find("detail") if ns == SOAP11_ENV else payload.find(f"{{{ns}}}Detail")
        declared = set(operation.fault_elements) if operation else set()
        if detail is not None:
            for entry in (e for e in detail if isinstance(e.tag, str)):
                if etree.QName(entry) in declared:
                    validate(entry)
                else:
                    errors.append(f"fault detail {etree.QName(entry).text} is not a fault declared for "
                                  f"operation {operation.name if operation else '?'}")
    else:
        expected = operation.output_element if operation else None
        if expected is not None and etree.QName(payload) != expected:
            errors.append(f"Missing message part: expected {expected.text}, got {etree.QName(payload).text}")
        else:
            validate(payload)
    if errors:
        raise AssertionFailed("; ".join(errors))
    return "Response is compliant with the schema"


def response_sla(assertion: Assertion, exchange: Exchange, scope: Scope) -> str:
    limit = int(expand(assertion.config("SLA", "200"), scope))
    if exchange.time_ms > limit:
        raise AssertionFailed(f"Response did not meet SLA {exchange.time_ms}/{limit}")
    return f"Response meets SLA {exchange.time_ms}/{limit}"


EVALUATORS: dict[str, Callable[[Assertion, Exchange, Scope], str]] = {
    "SOAP Response": soap_response,
    "SOAP Fault Assertion": not_soap_fault,  # SoapUI's id of "Not SOAP Fault"
    "Not SOAP Fault Assertion": soap_fault,  # SoapUI's id of "SOAP Fault"
    "Valid HTTP Status Codes": valid_http_status,
    "Invalid HTTP Status Codes": invalid_http_status,
    "Simple Contains": simple_contains,
    "Simple NotContains": simple_not_contains,
    "XPath Match": xpath_match,
    "Schema Compliance": schema_compliance,
    "Response SLA Assertion": response_sla,
}
#: Known to SoapUI, reported as skipped here (they need Groovy).
SKIPPED_TYPES = {"GroovyScriptAssertion": "Script Assertion (Groovy) is not executed by tests/soapui_runner"}
KNOWN_TYPES = frozenset(EVALUATORS) | frozenset(SKIPPED_TYPES)


def run_assertion(assertion: Assertion, exchange: Exchange, scope: Scope) -> AssertionResult:
    if assertion.disabled:
        return AssertionResult(assertion.name, assertion.type, SKIPPED, "disabled")
    if assertion.type in SKIPPED_TYPES:
        return AssertionResult(assertion.name, assertion.type, SKIPPED, SKIPPED_TYPES[assertion.type])
    evaluator = EVALUATORS.get(assertion.type)
    if evaluator is None:
        return AssertionResult(assertion.name, assertion.type, FAIL,
                               f"assertion type [{assertion.type}] is not supported by tests/soapui_runner")
    try:
        return AssertionResult(assertion.name, assertion.type, PASS, evaluator(assertion, exchange, scope))
    except (AssertionFailed, UnsupportedExpansion, XPathProblem) as exc:
        return AssertionResult(assertion.name, assertion.type, FAIL, str(exc))
