"""The hostile corpus, as data: requests that must each be refused with one catalogue fault and
change nothing. tests/e2e/test_hostile_corpus.py sends every case raw to a real gunicorn.

A case is its id, the exact body bytes, the HTTP headers (Content-Type and credentials included:
a case without a Content-Type header sends none), the expected faultcode, and how the body is
framed: LENGTH (Content-Length), CHUNKED (a generator body: Transfer-Encoding chunked, no
Content-Length) or ENCODED (the body bytes are already chunk-encoded, possibly broken, and are sent
verbatim under Transfer-Encoding chunked, then the client stops sending). Credentials are fixed
test-only API clients that the test creates with these secrets before the run (CLIENTS).
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
NOT_REGISTERED = "Client.CustomerNotRegistered"
NO_LOAN = "Client.LoanNotFound"

TEXT_XML = "text/xml; charset=utf-8"
LENGTH, CHUNKED, ENCODED = "length", "chunked", "encoded"


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


@dataclass(frozen=True)
class HostileCase:
    id: str
    body: bytes
    expected: str  # the faultcode, e.g. "Client.MalformedRequest"
    headers: dict[str, str] = field(default_factory=headers)  # the bank's Basic, text/xml
    framing: str = LENGTH
    method: str = "POST"
    query: str = ""
    status: int = 500  # HTTP status of the fault: 401 (with a Basic challenge) when no credentials came


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


def padded(size: int, operation: str = "SubmitLoan", fields: str = "") -> bytes:
    """An envelope of exactly `size` bytes (a comment pads it); by default a valid SubmitLoan."""
    fields = fields or f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber><tns:amount>1000.00</tns:amount>"
    bare = envelope(operation, fields + "<!---->")
    return envelope(operation, fields + "<!--" + "x" * (size - len(bare)) + "-->")


def register(customer: str) -> bytes:
    return envelope("RegisterCustomer", f"<tns:customerNumber>{customer}</tns:customerNumber>")


def list_loans(fields: str) -> bytes:
    return envelope("ListLoans", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>{fields}")


def loan_status(loan_id: str) -> bytes:
    return envelope("GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")


def cancel(reason: str, loan_id: str = "L-1") -> bytes:
    return envelope("CancelLoan", f"<tns:loanId>{loan_id}</tns:loanId><tns:reason>{reason}</tns:reason>")


def repay(amount: str = "1.00", reference: str | None = "R-1") -> bytes:
    ref = f"<tns:reference>{reference}</tns:reference>" if reference is not None else ""
    return envelope("RepayLoan", f"<tns:loanId>L-1</tns:loanId><tns:amount>{amount}</tns:amount>{ref}")


def request_id(value: str) -> str:
    return f"<tns:requestId>{value}</tns:requestId>"


def wsse(username: str, password: str, timestamp: str = "", password_type: str = "") -> str:
    type_attr = f' Type="{password_type}"' if password_type else ""
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1">{timestamp}'
            f"<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>"
            f"<wsse:Password{type_attr}>{password}</wsse:Password></wsse:UsernameToken></wsse:Security>")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body: size in hex, CRLF, data."""
    return b"%x\r\n" % len(data) + data


def _nested(depth: int) -> str:
    return "<tns:n>" * depth + "x" + "</tns:n>" * depth


_SUBMIT = f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber><tns:amount>1000.00</tns:amount>"
_LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
_BANK_USER, _BANK_SECRET = CLIENTS["bank"]
_STALE = ("<wsu:Timestamp><wsu:Created>2001-01-01T00:00:00Z</wsu:Created>"
          "<wsu:Expires>2001-01-01T00:05:00Z</wsu:Expires></wsu:Timestamp>")
_MUST_UNDERSTAND = '<x:Routing xmlns:x="urn:routing" soap:mustUnderstand="1">to-core</x:Routing>'
_MANY_ELEMENTS = '<x:junk xmlns:x="urn:junk">' + "<x:i/>" * (MAX_XML_ELEMENTS + 10) + "</x:junk>"


CASES: list[HostileCase] = [
    # --- transport: method, size, framing, content type ---------------------------------------
    HostileCase("get-without-wsdl", b"", MALFORMED, method="GET"),
    HostileCase("put-method", submit(), MALFORMED, method="PUT"),
    HostileCase("empty-body", b"", MALFORMED),
    HostileCase("oversize-by-one-byte", padded(MAX_BODY_BYTES + 1), MALFORMED),
    HostileCase("oversize-content-length", submit(extra="<!--" + "x" * MAX_BODY_BYTES + "-->"), MALFORMED),
    HostileCase("oversize-far-content-length", submit(extra="<!--" + "x" * (16 * MAX_BODY_BYTES) + "-->"),
                MALFORMED),
    HostileCase("oversize-chunked", submit(extra="<!--" + "x" * (2 * MAX_BODY_BYTES) + "-->"), MALFORMED,
                framing=CHUNKED),
    HostileCase("chunked-invalid-chunk-size", b"ZZ\r\n" + submit() + b"\r\n0\r\n\r\n", MALFORMED,
                framing=ENCODED),
    HostileCase("chunked-missing-terminator", chunk(submit()) + b"XX0\r\n\r\n", MALFORMED, framing=ENCODED),
    HostileCase("chunked-cut-short", chunk(submit())[:-40], MALFORMED, framing=ENCODED),
    HostileCase("content-type-json", b'{"customerNumber": "234774784", "amount": 1000}', MALFORMED,
                headers(content_type="application/json")),
    HostileCase("content-type-json-with-envelope", submit(), MALFORMED,
                headers(content_type="application/json")),
    HostileCase("content-type-missing", submit(), MALFORMED, headers(content_type=None)),
    HostileCase("content-type-form", b"customerNumber=234774784&amount=1000", MALFORMED,
                headers(content_type="application/x-www-form-urlencoded")),
    # --- XML: DTDs, entities, encodings, characters --------------------------------------------
    HostileCase("dtd-internal", b'<?xml version="1.0"?><!DOCTYPE soap:Envelope []>' + submit(), MALFORMED),
    HostileCase("xxe-file-etc-passwd",
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                + submit(customer="&xxe;"), MALFORMED),
    HostileCase("xxe-parameter-entity",
                b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
                + submit(), MALFORMED),
    HostileCase("billion-laughs",
                f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY lol0 "lol">{_LAUGHS}]>'.encode()
                + submit(customer="&lol9;"), MALFORMED),
    HostileCase("quadratic-blowup",
                f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{"A" * 20000}">]>'.encode()
                + submit(customer="&a;" * 2000), MALFORMED),
    HostileCase("xxe-utf16-encoded",  # no b"<!DOCTYPE" in the bytes: the parsed doctype is checked
                ('<?xml version="1.0" encoding="UTF-16"?>'
                 '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                 + submit(customer="&xxe;").decode()).encode("utf-16"), MALFORMED),
    HostileCase("undeclared-entity", submit(customer="&xxe;"), MALFORMED),
    HostileCase("invalid-utf8", submit(customer="2347@@74784").replace(b"@@", b"\xff\xfe"), MALFORMED),
    HostileCase("encoding-declared-ascii-lying",  # UTF-8 bytes under an ASCII declaration
                b'<?xml version="1.0" encoding="US-ASCII"?>' + submit(customer="2347\u00e974784"), MALFORMED),
    HostileCase("encoding-declared-utf16-lying", b'<?xml version="1.0" encoding="UTF-16"?>' + submit(),
                MALFORMED),
    HostileCase("encoding-unknown", b'<?xml version="1.0" encoding="x-klingon"?>' + submit(), MALFORMED),
    HostileCase("control-char-reference", submit(customer="2347&#1;74784"), MALFORMED),
    HostileCase("control-char-raw-byte", submit(customer="2347\x0174784"), MALFORMED),
    HostileCase("nul-char-reference", submit(customer="&#0;"), MALFORMED),
    HostileCase("not-well-formed-truncated", submit()[:-30], MALFORMED),
    HostileCase("not-xml-at-all", b"hello, is this the loan office?", MALFORMED),
    HostileCase("two-root-elements", submit() + submit(), MALFORMED),
    # --- the envelope --------------------------------------------------------------------------
    HostileCase("soap12-envelope-as-text-xml", envelope("SubmitLoan", _SUBMIT, soap_ns=SOAP12), MALFORMED),
    HostileCase("not-an-envelope", f'<tns:SubmitLoan xmlns:tns="{TNS}">{_SUBMIT}</tns:SubmitLoan>'.encode(),
                MALFORMED),
    HostileCase("envelope-wrong-namespace", envelope("SubmitLoan", _SUBMIT, soap_ns="urn:not-soap"),
                MALFORMED),
    HostileCase("missing-body",
                f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Header/></soap:Envelope>'.encode(), MALFORMED),
    HostileCase("empty-body-element", raw_envelope(""), MALFORMED),
    HostileCase("two-body-elements",
                raw_envelope(f"<tns:GetCustomer><tns:customerNumber>{CUSTOMER}</tns:customerNumber>"
                             f"</tns:GetCustomer><tns:SubmitLoan>{_SUBMIT}</tns:SubmitLoan>"), MALFORMED),
    HostileCase("two-body-sections",
                f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:tns="{TNS}">'
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT}</tns:SubmitLoan></soap:Body>"
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT}</tns:SubmitLoan></soap:Body>"
                f"</soap:Envelope>".encode(), MALFORMED),
    HostileCase("header-after-body",
                f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:tns="{TNS}">'
                f"<soap:Body><tns:SubmitLoan>{_SUBMIT}</tns:SubmitLoan></soap:Body>"
                f"<soap:Header/></soap:Envelope>".encode(), MALFORMED),
    HostileCase("unknown-operation", envelope("TransferAllFunds", _SUBMIT), SCHEMA),
    HostileCase("operation-unknown-namespace", envelope("SubmitLoan", _SUBMIT, namespace="urn:evil"), SCHEMA),
    HostileCase("operation-no-namespace",
                raw_envelope(f"<SubmitLoan><customerNumber>{CUSTOMER}</customerNumber>"
                             f"<amount>1000.00</amount></SubmitLoan>"), SCHEMA),
    HostileCase("must-understand-unknown-header", envelope("SubmitLoan", _SUBMIT, header=_MUST_UNDERSTAND),
                MALFORMED),
    HostileCase("depth-past-limit", envelope("SubmitLoan", _SUBMIT + _nested(MAX_XML_DEPTH + 5)), MALFORMED),
    HostileCase("depth-past-the-parser-limit", envelope("SubmitLoan", _SUBMIT + _nested(5000)), MALFORMED),
    HostileCase("elements-past-limit", envelope("SubmitLoan", _SUBMIT, header=_MANY_ELEMENTS), MALFORMED),
    # --- authentication -----------------------------------------------------------------------
    HostileCase("no-credentials", submit(), AUTH, headers(role=None), status=401),
    HostileCase("wrong-password", submit(), AUTH, headers(authorization=basic(_BANK_USER, "not-the-secret"))),
    HostileCase("unknown-user", submit(), AUTH, headers(authorization=basic("mallory", "whatever-secret"))),
    HostileCase("basic-not-base64", submit(), AUTH, headers(authorization="Basic !!!not*base64")),
    HostileCase("basic-without-colon", submit(), AUTH,
                headers(authorization="Basic " + base64.b64encode(_BANK_USER.encode()).decode())),
    HostileCase("basic-invalid-utf8", submit(), AUTH,
                headers(authorization="Basic " + base64.b64encode(b"\xff\xfe:\xc3(").decode())),
    HostileCase("basic-nul-in-username", submit(), AUTH,
                headers(authorization="Basic " + base64.b64encode(b"hostile\x00bank:x").decode())),
    HostileCase("basic-username-3000-chars", submit(), AUTH, headers(authorization=basic("u" * 3000, "x"))),
    HostileCase("bearer-scheme", submit(), AUTH, headers(authorization="Bearer eyJhbGciOiJub25lIn0.e30.")),
    HostileCase("wsse-wrong-password", envelope("SubmitLoan", _SUBMIT, wsse(_BANK_USER, "nope")), AUTH,
                headers(role=None)),
    HostileCase("wsse-stale-timestamp",
                envelope("SubmitLoan", _SUBMIT, wsse(_BANK_USER, _BANK_SECRET, timestamp=_STALE)), AUTH,
                headers(role=None)),
    HostileCase("wsse-unreadable-timestamp",
                envelope("SubmitLoan", _SUBMIT, wsse(
                    _BANK_USER, _BANK_SECRET,
                    timestamp="<wsu:Timestamp><wsu:Created>yesterday</wsu:Created></wsu:Timestamp>")),
                AUTH, headers(role=None)),
    HostileCase("wsse-password-digest",
                envelope("SubmitLoan", _SUBMIT,
                         wsse(_BANK_USER, "dGhpcyBpcyBub3QgYSBkaWdlc3Q=", password_type=PASSWORD_DIGEST)),
                AUTH, headers(role=None)),
    HostileCase("wsse-no-username-token",
                envelope("SubmitLoan", _SUBMIT,
                         f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1"/>'),
                AUTH, headers(role=None)),
    # --- authorization ------------------------------------------------------------------------
    HostileCase("scoring-calls-submit-loan", submit(), ROLE, headers(role="scoring")),
    HostileCase("scoring-calls-register-customer", register(CUSTOMER), ROLE, headers(role="scoring")),
    HostileCase("bank-calls-get-transactions",
                envelope("GetTransactions", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"), ROLE),
    HostileCase("bank-calls-scoring-register", envelope("ScoringRegister", "<tns:name>evil</tns:name>"),
                ROLE),
    # --- values past a facet: the schema refuses them -----------------------------------------
    HostileCase("amount-zero", submit(amount="0"), SCHEMA),
    HostileCase("amount-zero-decimals", submit(amount="0.00"), SCHEMA),
    HostileCase("amount-negative", submit(amount="-100.00"), SCHEMA),
    HostileCase("amount-three-decimals", submit(amount="100.001"), SCHEMA),
    HostileCase("amount-exponent", submit(amount="1e3"), SCHEMA),
    HostileCase("amount-nan", submit(amount="NaN"), SCHEMA),
    HostileCase("amount-inf", submit(amount="INF"), SCHEMA),
    HostileCase("amount-negative-inf", submit(amount="-INF"), SCHEMA),
    HostileCase("amount-enormous-digits", submit(amount="9" * 5000), SCHEMA),
    HostileCase("amount-19-digits", submit(amount="1" + "0" * 18), SCHEMA),
    HostileCase("amount-empty", submit(amount=""), SCHEMA),
    HostileCase("amount-thousands-separator", submit(amount="1,000.00"), SCHEMA),
    HostileCase("amount-hex", submit(amount="0x3E8"), SCHEMA),
    HostileCase("amount-arabic-indic-digits", submit(amount="\u0661\u0660\u0660"), SCHEMA),
    HostileCase("amount-nil",
                envelope("SubmitLoan", f'<tns:customerNumber>{CUSTOMER}</tns:customerNumber>'
                                       f'<tns:amount {_XSI} xsi:nil="true"/>'), SCHEMA),
    HostileCase("customer-number-empty", submit(customer=""), SCHEMA),
    HostileCase("customer-number-33-chars", submit(customer="1" * 33), SCHEMA),
    HostileCase("customer-number-underscore", submit(customer="2347_74784"), SCHEMA),
    HostileCase("customer-number-non-ascii-letter", submit(customer="2347\u00e974784"), SCHEMA),
    HostileCase("customer-number-space", submit(customer="2347 74784"), SCHEMA),
    HostileCase("customer-number-tab", submit(customer="2347\t74784"), SCHEMA),
    HostileCase("customer-number-sql", submit(customer="1' OR '1'='1"), SCHEMA),
    HostileCase("customer-number-huge", submit(customer="7" * 40000), SCHEMA),
    HostileCase("register-customer-number-33-chars", register("9" * 33), SCHEMA),
    HostileCase("missing-customer-number", envelope("SubmitLoan", "<tns:amount>1000.00</tns:amount>"),
                SCHEMA),
    HostileCase("missing-amount",
                envelope("SubmitLoan", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"), SCHEMA),
    HostileCase("fields-out-of-order",
                envelope("SubmitLoan", f"<tns:amount>1000.00</tns:amount>"
                                       f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"), SCHEMA),
    HostileCase("extra-unknown-element",
                submit(extra="<tns:approveImmediately>true</tns:approveImmediately>"), SCHEMA),
    HostileCase("xinclude-element",
                submit(extra='<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                             'href="file:///etc/passwd" parse="text"/>'), SCHEMA),
    HostileCase("request-id-with-space", submit(extra=request_id("a b")), SCHEMA),
    HostileCase("request-id-65-chars", submit(extra=request_id("r" * 65)), SCHEMA),
    HostileCase("list-loans-limit-0", list_loans("<tns:limit>0</tns:limit>"), SCHEMA),
    HostileCase("list-loans-limit-101", list_loans("<tns:limit>101</tns:limit>"), SCHEMA),
    HostileCase("list-loans-limit-not-a-number", list_loans("<tns:limit>ten</tns:limit>"), SCHEMA),
    HostileCase("list-loans-limit-int32-overflow", list_loans("<tns:limit>4294967296</tns:limit>"), SCHEMA),
    HostileCase("list-loans-negative-offset", list_loans("<tns:offset>-1</tns:offset>"), SCHEMA),
    HostileCase("list-loans-unknown-status", list_loans("<tns:status>STOLEN</tns:status>"), SCHEMA),
    HostileCase("cancel-reason-newline", cancel("changed\nmind"), SCHEMA),
    HostileCase("cancel-reason-newline-reference", cancel("changed&#10;mind"), SCHEMA),
    HostileCase("cancel-reason-256-chars", cancel("r" * 256), SCHEMA),
    HostileCase("cancel-reason-huge", cancel("r" * 50000), SCHEMA),
    HostileCase("loan-id-41-chars", loan_status("L" * 41), SCHEMA),
    HostileCase("loan-id-path-traversal", loan_status("../../etc/passwd"), SCHEMA),
    HostileCase("repay-amount-three-decimals", repay(amount="1.001"), SCHEMA),
    HostileCase("repay-missing-reference", repay(reference=None), SCHEMA),
    HostileCase("scoring-register-url-not-http",
                envelope("ScoringRegister", "<tns:url>file:///etc/passwd</tns:url>"), SCHEMA,
                headers(role="admin")),
    # --- values at a facet pass the schema and meet the business rules (nothing matches them) ---
    HostileCase("amount-above-service-max", submit(amount="100000.01"), RANGE),
    HostileCase("amount-below-service-min", submit(amount="0.99"), RANGE),
    HostileCase("amount-at-gt-0-facet", submit(amount="0.01"), RANGE),
    HostileCase("amount-at-18-total-digits", submit(amount="9999999999999999.99"), RANGE),
    HostileCase("customer-number-at-32-chars", submit(customer="1" * 32), NOT_REGISTERED),
    HostileCase("request-id-at-64-chars", submit(amount="100000.01", extra=request_id("r" * 64)), RANGE),
    HostileCase("loan-id-at-40-chars", loan_status("L" * 40), NO_LOAN),
    HostileCase("cancel-reason-at-255-chars", cancel("r" * 255), NO_LOAN),
    HostileCase("repay-at-facets", repay(amount="0.01", reference="R" * 64), NO_LOAN),
]
