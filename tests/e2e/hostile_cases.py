"""The hostile corpus, as data: requests that must each be refused with one catalogue fault and
change nothing. tests/e2e/test_hostile_corpus.py sends every case raw to a real gunicorn.

A case is its id, the exact body bytes, the HTTP headers (Content-Type and credentials included:
a case without a Content-Type header sends none), the expected faultcode, and how the body is
sent (chunked: no Content-Length, a generator body). Credentials are fixed test-only API clients
that the test creates with these secrets before the run (CLIENTS).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

TNS = "urn:lms-soap:v1"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)

#: The gateway limits the server under test runs with (set through its settings).
MAX_BODY_BYTES = 64 * 1024
MAX_XML_DEPTH = 32
MAX_XML_ELEMENTS = 2000
LOAN_MAX_AMOUNT = "100000"

#: role -> (username, secret) of the API clients the test creates (test-only secrets).
CLIENTS = {
    "bank": ("hostile-bank", "hostile-bank-secret-0123456789abcdef"),
    "scoring": ("hostile-scoring", "hostile-scoring-secret-0123456789abcdef"),
    "admin": ("hostile-admin", "hostile-admin-secret-0123456789abcdef"),
}
#: A customer registered before the run, so that a request slipping through would change data.
CUSTOMER = "234774784"

MALFORMED = "Client.MalformedRequest"
SCHEMA = "Client.SchemaValidationError"
AUTH = "Client.AuthenticationFailed"
ROLE = "Client.NotAuthorized"
RANGE = "Client.AmountOutOfRange"

TEXT_XML = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class HostileCase:
    id: str
    body: bytes
    expected: str  # the faultcode, e.g. "Client.MalformedRequest"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False  # sent as a generator: Transfer-Encoding chunked, no Content-Length
    method: str = "POST"
    query: str = ""


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def headers(role: str | None = "bank", content_type: str | None = TEXT_XML,
            authorization: str | None = None) -> dict[str, str]:
    """Content-Type (None: no header) and credentials: a role's Basic, or a raw Authorization."""
    result = {}
    if content_type is not None:
        result["Content-Type"] = content_type
    if authorization is not None:
        result["Authorization"] = authorization
    elif role is not None:
        result["Authorization"] = basic(*CLIENTS[role])
    return result


def envelope(operation: str, fields: str = "", header: str = "", *, prolog: str = "",
             namespace: str = TNS, soap_ns: str = SOAP11) -> bytes:
    head = f"<soap:Header>{header}</soap:Header>" if header else ""
    return (f'{prolog}<soap:Envelope xmlns:soap="{soap_ns}" xmlns:tns="{namespace}">{head}'
            f"<soap:Body><tns:{operation}>{fields}</tns:{operation}></soap:Body>"
            f"</soap:Envelope>").encode()


def raw_envelope(body_content: str, header: str = "") -> bytes:
    """An envelope whose Body holds exactly `body_content` (zero, one or several elements)."""
    head = f"<soap:Header>{header}</soap:Header>" if header else ""
    return (f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:tns="{TNS}">{head}'
            f"<soap:Body>{body_content}</soap:Body></soap:Envelope>").encode()


def submit(customer: str = CUSTOMER, amount: str = "1000.00", extra: str = "") -> bytes:
    return envelope("SubmitLoan", f"<tns:customerNumber>{customer}</tns:customerNumber>"
                                  f"<tns:amount>{amount}</tns:amount>{extra}")


def register(customer: str) -> bytes:
    return envelope("RegisterCustomer", f"<tns:customerNumber>{customer}</tns:customerNumber>")


def list_loans(fields: str) -> bytes:
    return envelope("ListLoans", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>{fields}")


def wsse(username: str, password: str, timestamp: str = "", password_type: str = "") -> str:
    type_attr = f' Type="{password_type}"' if password_type else ""
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1">{timestamp}'
            f"<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>"
            f"<wsse:Password{type_attr}>{password}</wsse:Password></wsse:UsernameToken></wsse:Security>")


def _nested(depth: int) -> str:
    return "<tns:n>" * depth + "x" + "</tns:n>" * depth


_SUBMIT_FIELDS = f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber><tns:amount>1000.00</tns:amount>"
_LAUGHS = "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
_BANK_USER, _BANK_SECRET = CLIENTS["bank"]


CASES: list[HostileCase] = [
    # --- transport: method, size, content type --------------------------------------------------
    HostileCase("get-without-wsdl", b"", MALFORMED, headers(), method="GET"),
    HostileCase("empty-body", b"", MALFORMED, headers()),
    HostileCase("oversize-content-length",
                submit(extra="<!--" + "x" * MAX_BODY_BYTES + "-->"), MALFORMED, headers()),
    HostileCase("oversize-chunked",
                submit(extra="<!--" + "x" * (2 * MAX_BODY_BYTES) + "-->"), MALFORMED, headers(),
                chunked=True),
    HostileCase("content-type-json", b'{"customerNumber": "234774784", "amount": 1000}', MALFORMED,
                headers(content_type="application/json")),
    HostileCase("content-type-json-with-envelope", submit(), MALFORMED,
                headers(content_type="application/json")),
    HostileCase("content-type-missing", submit(), MALFORMED, headers(content_type=None)),
    HostileCase("content-type-form", b"customerNumber=234774784&amount=1000", MALFORMED,
                headers(content_type="application/x-www-form-urlencoded")),
    # --- XML: DTDs, entities, encodings, characters --------------------------------------------
    HostileCase("dtd-internal",
                b'<?xml version="1.0"?><!DOCTYPE soap:Envelope []>' + submit(), MALFORMED, headers()),
    HostileCase("xxe-file-etc-passwd",
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                + submit(customer="&xxe;"), MALFORMED, headers()),
    HostileCase("xxe-parameter-entity",
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                + submit(), MALFORMED, headers()),
    HostileCase("billion-laughs",
                f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY lol0 "lol">{_LAUGHS}]>'.encode()
                + submit(customer="&lol9;"), MALFORMED, headers()),
    HostileCase("quadratic-blowup",
                f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{"A" * 20000}">]>'.encode()
                + submit(customer="&a;" * 2000), MALFORMED, headers()),
    HostileCase("xxe-utf16-encoded",  # no b"<!DOCTYPE" in the bytes: the parsed doctype is checked
                ('<?xml version="1.0" encoding="UTF-16"?>'
                 '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                 + submit(customer="&xxe;").decode()).encode("utf-16"), MALFORMED, headers()),
    HostileCase("undeclared-entity", submit(customer="&xxe;"), MALFORMED, headers()),
    HostileCase("invalid-utf8", submit(customer="2347@@74784").replace(b"@@", b"\xff\xfe"), MALFORMED,
                headers()),
    HostileCase("encoding-declared-ascii-lying",  # UTF-8 bytes under an ASCII declaration
                b'<?xml version="1.0" encoding="US-ASCII"?>' + submit(customer="2347\u00e974784"), MALFORMED,
                headers()),
    HostileCase("encoding-declared-utf16-lying",
                b'<?xml version="1.0" encoding="UTF-16"?>' + submit(), MALFORMED, headers()),
    HostileCase("encoding-unknown", b'<?xml version="1.0" encoding="x-klingon"?>' + submit(), MALFORMED,
                headers()),
    HostileCase("control-char-reference", submit(customer="2347&#1;74784"), MALFORMED, headers()),
    HostileCase("control-char-raw-byte", submit(customer="2347\x0174784"), MALFORMED, headers()),
    HostileCase("nul-char-reference", submit(customer="&#0;"), MALFORMED, headers()),
    HostileCase("not-well-formed-truncated", submit()[:-30], MALFORMED, headers()),
    HostileCase("not-xml-at-all", b"hello, is this the loan office?", MALFORMED, headers()),
    HostileCase("two-root-elements", submit() + submit(), MALFORMED, headers()),
    # --- the envelope --------------------------------------------------------------------------
    HostileCase("soap12-content-type", envelope("SubmitLoan", _SUBMIT_FIELDS, soap_ns=SOAP12), MALFORMED,
                headers(content_type='application/soap+xml; charset=utf-8; action="SubmitLoan"')),
    HostileCase("soap12-envelope-as-text-xml", envelope("SubmitLoan", _SUBMIT_FIELDS, soap_ns=SOAP12),
                MALFORMED, headers()),
    HostileCase("not-an-envelope",
                f'<tns:SubmitLoan xmlns:tns="{TNS}">{_SUBMIT_FIELDS}</tns:SubmitLoan>'.encode(),
                MALFORMED, headers()),
    HostileCase("envelope-wrong-namespace", envelope("SubmitLoan", _SUBMIT_FIELDS, soap_ns="urn:not-soap"),
                MALFORMED, headers()),
    HostileCase("missing-body",
                f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Header/></soap:Envelope>'.encode(),
                MALFORMED, headers()),
    HostileCase("empty-body-element", raw_envelope(""), MALFORMED, headers()),
    HostileCase("two-body-elements",
                raw_envelope(f"<tns:GetCustomer><tns:customerNumber>{CUSTOMER}</tns:customerNumber>"
                             f"</tns:GetCustomer><tns:SubmitLoan>{_SUBMIT_FIELDS}</tns:SubmitLoan>"),
                MALFORMED, headers()),
    HostileCase("two-body-sections",
                f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:tns="{TNS}">'
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT_FIELDS}</tns:SubmitLoan></soap:Body>"
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT_FIELDS}</tns:SubmitLoan></soap:Body>"
                f"</soap:Envelope>".encode(), MALFORMED, headers()),
    HostileCase("header-after-body",
                f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:tns="{TNS}">'
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT_FIELDS}</tns:SubmitLoan></soap:Body>"
                f"<soap:Header/></soap:Envelope>".encode(), MALFORMED, headers()),
    HostileCase("unknown-operation", envelope("TransferAllFunds", _SUBMIT_FIELDS), SCHEMA, headers()),
    HostileCase("operation-unknown-namespace", envelope("SubmitLoan", _SUBMIT_FIELDS, namespace="urn:evil"),
                SCHEMA, headers()),
    HostileCase("operation-no-namespace",
                raw_envelope(f"<SubmitLoan><customerNumber>{CUSTOMER}</customerNumber>"
                             f"<amount>1000.00</amount></SubmitLoan>"), SCHEMA, headers()),
    HostileCase("must-understand-unknown-header",
                envelope("SubmitLoan", _SUBMIT_FIELDS,
                         header='<x:Routing xmlns:x="urn:routing" soap:mustUnderstand="1">to-core</x:Routing>'),
                MALFORMED, headers()),
    HostileCase("depth-past-limit", envelope("SubmitLoan", _SUBMIT_FIELDS + _nested(MAX_XML_DEPTH + 5)),
                MALFORMED, headers()),
    HostileCase("elements-past-limit",
                envelope("SubmitLoan", _SUBMIT_FIELDS,
                         header='<x:junk xmlns:x="urn:junk">' + "<x:i/>" * (MAX_XML_ELEMENTS + 10) + "</x:junk>"),
                MALFORMED, headers()),
    # --- authentication -----------------------------------------------------------------------
    HostileCase("no-credentials", submit(), AUTH, headers(role=None)),
    HostileCase("wrong-password", submit(), AUTH, headers(authorization=basic(_BANK_USER, "not-the-secret"))),
    HostileCase("unknown-user", submit(), AUTH, headers(authorization=basic("mallory", "whatever-secret"))),
    HostileCase("basic-not-base64", submit(), AUTH, headers(authorization="Basic !!!not*base64")),
    HostileCase("basic-without-colon", submit(), AUTH,
                headers(authorization="Basic " + base64.b64encode(_BANK_USER.encode()).decode())),
    HostileCase("basic-invalid-utf8", submit(), AUTH,
                headers(authorization="Basic " + base64.b64encode(b"\xff\xfe:\xc3(").decode())),
    HostileCase("bearer-scheme", submit(), AUTH, headers(authorization="Bearer eyJhbGciOiJub25lIn0.e30.")),
    HostileCase("wsse-wrong-password", envelope("SubmitLoan", _SUBMIT_FIELDS, wsse(_BANK_USER, "nope")), AUTH,
                headers(role=None)),
    HostileCase("wsse-stale-timestamp",
                envelope("SubmitLoan", _SUBMIT_FIELDS, wsse(
                    _BANK_USER, _BANK_SECRET,
                    timestamp="<wsu:Timestamp><wsu:Created>2001-01-01T00:00:00Z</wsu:Created>"
                              "<wsu:Expires>2001-01-01T00:05:00Z</wsu:Expires></wsu:Timestamp>")),
                AUTH, headers(role=None)),
    HostileCase("wsse-unreadable-timestamp",
                envelope("SubmitLoan", _SUBMIT_FIELDS, wsse(
                    _BANK_USER, _BANK_SECRET,
                    timestamp="<wsu:Timestamp><wsu:Created>yesterday</wsu:Created></wsu:Timestamp>")),
                AUTH, headers(role=None)),
    HostileCase("wsse-password-digest",
                envelope("SubmitLoan", _SUBMIT_FIELDS,
                         wsse(_BANK_USER, "dGhpcyBpcyBub3QgYSBkaWdlc3Q=", password_type=PASSWORD_DIGEST)),
                AUTH, headers(role=None)),
    HostileCase("wsse-no-username-token",
                envelope("SubmitLoan", _SUBMIT_FIELDS,
                         f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"/>'),
                AUTH, headers(role=None)),
    # --- authorization ------------------------------------------------------------------------
    HostileCase("scoring-calls-submit-loan", submit(), ROLE, headers(role="scoring")),
    HostileCase("scoring-calls-register-customer", register(CUSTOMER), ROLE, headers(role="scoring")),
    HostileCase("bank-calls-get-transactions",
                envelope("GetTransactions", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"), ROLE,
                headers()),
    HostileCase("bank-calls-scoring-register", envelope("ScoringRegister", "<tns:name>evil</tns:name>"), ROLE,
                headers()),
    # --- values at and past every facet -------------------------------------------------------
    HostileCase("amount-zero", submit(amount="0"), SCHEMA, headers()),
    HostileCase("amount-zero-decimals", submit(amount="0.00"), SCHEMA, headers()),
    HostileCase("amount-negative", submit(amount="-100.00"), SCHEMA, headers()),
    HostileCase("amount-three-decimals", submit(amount="100.001"), SCHEMA, headers()),
    HostileCase("amount-exponent", submit(amount="1e3"), SCHEMA, headers()),
    HostileCase("amount-nan", submit(amount="NaN"), SCHEMA, headers()),
    HostileCase("amount-inf", submit(amount="INF"), SCHEMA, headers()),
    HostileCase("amount-negative-inf", submit(amount="-INF"), SCHEMA, headers()),
    HostileCase("amount-enormous-digits", submit(amount="9" * 5000), SCHEMA, headers()),
    HostileCase("amount-19-digits", submit(amount="1" + "0" * 18), SCHEMA, headers()),
    HostileCase("amount-empty", submit(amount=""), SCHEMA, headers()),
    HostileCase("amount-thousands-separator", submit(amount="1,000.00"), SCHEMA, headers()),
    HostileCase("amount-hex", submit(amount="0x3E8"), SCHEMA, headers()),
    HostileCase("amount-arabic-indic-digits", submit(amount="\u0661\u0660\u0660"), SCHEMA, headers()),
    HostileCase("amount-nil", envelope("SubmitLoan", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"
                                                     '<tns:amount xmlns:xsi="http://www.w3.org/2001/'
                                                     'XMLSchema-instance" xsi:nil="true"/>'), SCHEMA, headers()),
    HostileCase("amount-above-service-max", submit(amount="100000.01"), RANGE, headers()),
    HostileCase("amount-below-service-min", submit(amount="0.99"), RANGE, headers()),
    HostileCase("customer-number-empty", submit(customer=""), SCHEMA, headers()),
    HostileCase("customer-number-33-chars", submit(customer="1" * 33), SCHEMA, headers()),
    HostileCase("customer-number-underscore", submit(customer="2347_74784"), SCHEMA, headers()),
    HostileCase("customer-number-non-ascii-letter", submit(customer="2347\u00e974784"), SCHEMA, headers()),
    HostileCase("customer-number-space", submit(customer="2347 74784"), SCHEMA, headers()),
    HostileCase("customer-number-tab", submit(customer="2347\t74784"), SCHEMA, headers()),
    HostileCase("customer-number-sql", submit(customer="1' OR '1'='1"), SCHEMA, headers()),
    HostileCase("customer-number-huge", submit(customer="7" * 40000), SCHEMA, headers()),
    HostileCase("register-customer-number-33-chars", register("9" * 33), SCHEMA, headers()),
    HostileCase("missing-customer-number", envelope("SubmitLoan", "<tns:amount>1000.00</tns:amount>"), SCHEMA,
                headers()),
    HostileCase("missing-amount", envelope("SubmitLoan", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"),
                SCHEMA, headers()),
    HostileCase("fields-out-of-order",
                envelope("SubmitLoan", f"<tns:amount>1000.00</tns:amount>"
                                       f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"), SCHEMA, headers()),
    HostileCase("extra-unknown-element", submit(extra="<tns:approveImmediately>true</tns:approveImmediately>"),
                SCHEMA, headers()),
    HostileCase("xinclude-element",
                submit(extra='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                             'href="file:///etc/passwd" parse="text"/>'), SCHEMA, headers()),
    HostileCase("request-id-with-space", submit(extra="<tns:requestId>a b</tns:requestId>"), SCHEMA, headers()),
    HostileCase("request-id-65-chars", submit(extra=f"<tns:requestId>{'r' * 65}</tns:requestId>"), SCHEMA,
                headers()),
    HostileCase("list-loans-limit-0", list_loans("<tns:limit>0</tns:limit>"), SCHEMA, headers()),
    HostileCase("list-loans-limit-101", list_loans("<tns:limit>101</tns:limit>"), SCHEMA, headers()),
    HostileCase("list-loans-limit-not-a-number", list_loans("<tns:limit>ten</tns:limit>"), SCHEMA, headers()),
    HostileCase("list-loans-limit-int32-overflow", list_loans("<tns:limit>4294967296</tns:limit>"), SCHEMA,
                headers()),
    HostileCase("list-loans-negative-offset", list_loans("<tns:offset>-1</tns:offset>"), SCHEMA, headers()),
    HostileCase("list-loans-unknown-status", list_loans("<tns:status>STOLEN</tns:status>"), SCHEMA, headers()),
    HostileCase("cancel-reason-newline",
                envelope("CancelLoan", "<tns:loanId>L-1</tns:loanId><tns:reason>changed\nmind</tns:reason>"),
                SCHEMA, headers()),
    HostileCase("cancel-reason-newline-reference",
                envelope("CancelLoan", "<tns:loanId>L-1</tns:loanId><tns:reason>changed&#10;mind</tns:reason>"),
                SCHEMA, headers()),
    HostileCase("cancel-reason-256-chars",
                envelope("CancelLoan", f"<tns:loanId>L-1</tns:loanId><tns:reason>{'r' * 256}</tns:reason>"),
                SCHEMA, headers()),
    HostileCase("cancel-reason-huge",
                envelope("CancelLoan", f"<tns:loanId>L-1</tns:loanId><tns:reason>{'r' * 50000}</tns:reason>"),
                SCHEMA, headers()),
    HostileCase("loan-id-41-chars", envelope("GetLoanStatus", f"<tns:loanId>{'L' * 41}</tns:loanId>"), SCHEMA,
                headers()),
    HostileCase("loan-id-path-traversal", envelope("GetLoanStatus", "<tns:loanId>../../etc/passwd</tns:loanId>"),
                SCHEMA, headers()),
    HostileCase("repay-amount-three-decimals",
                envelope("RepayLoan", "<tns:loanId>L-1</tns:loanId><tns:amount>1.001</tns:amount>"
                                      "<tns:reference>R-1</tns:reference>"), SCHEMA, headers()),
    HostileCase("repay-missing-reference",
                envelope("RepayLoan", "<tns:loanId>L-1</tns:loanId><tns:amount>1.00</tns:amount>"), SCHEMA,
                headers()),
    HostileCase("scoring-register-url-not-http",
                envelope("ScoringRegister", "<tns:url>file:///etc/passwd</tns:url>"), SCHEMA,
                headers(role="admin")),
]
