"""GET /soap?wsdl serves the committed wsdl/lms.wsdl (public, no credentials), with the configured
public URL as soap:address whatever Host the request names; and what every operation answers,
faults included, validates against the schema that WSDL publishes.

When the first test fails, the service's contract moved: regenerate the file with
`lms-soap wsdl export` (LMS_PUBLIC_URL unset) and review the diff like any contract change."""
from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

import pytest
import requests
from lxml import etree

from lms_soap.config import DEFAULT_PUBLIC_URL
from tests.conftest import make_settings
from tests.support.soap import SOAP_ENV, TNS, basic, envelope, faultcode, post, validate_body, wsse_header

ROOT = Path(__file__).resolve().parents[2]
WSDL_PATH = ROOT / "wsdl" / "lms.wsdl"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
DECIDED = {"APPROVED", "DISBURSED", "REJECTED", "FAILED", "CANCELLED", "CLOSED"}


def get_wsdl(app, host: str = "127.0.0.1:8000", query: str = "wsdl") -> tuple[str, dict, bytes]:
    """GET /soap?wsdl straight through the WSGI application, naming `host`."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/soap", "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": host,
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def address_of(document: bytes) -> str:
    """The address of the SOAP 1.1 port, and of the SOAP 1.2 port where there is one (the service's
    WSDL; the callback's has one port): the same one."""
    root = etree.fromstring(document)
    locations = [found.get("location") for ns in (WSDL_SOAP11, WSDL_SOAP12)
                 for found in root.iter(f"{{{ns}}}address")]
    assert locations and len(set(locations)) == 1, locations
    return locations[0]


def with_address(document: bytes, location: str) -> bytes:
    """The WSDL bytes with every port's address replaced (the only part that depends on the
    deployment): both ports of the service's WSDL, the callback WSDL's one."""
    current = f'location="{address_of(document)}"'.encode()
    ports = etree.fromstring(document).findall(".//{http://schemas.xmlsoap.org/wsdl/}port")
    assert document.count(current) == len(ports) >= 1
    return document.replace(current, f'location="{location}"'.encode())


@pytest.fixture
def app_for(db, flushed_redis):
    from lms_soap.app import create_app
    from lms_soap.bootstrap import build_container

    containers = []

    def build(**overrides):
        settings = make_settings(db, flushed_redis, **overrides)
        container = build_container(settings)
        containers.append(container)
        return settings, create_app(settings, container)

    yield build
    for container in containers:
        container.close()


def test_served_wsdl_is_exactly_the_committed_file(app_for):
    settings, app = app_for()
    assert settings.public_url == DEFAULT_PUBLIC_URL == "http://127.0.0.1:8000"
    status, headers, body = get_wsdl(app, host="somewhere.else.example:1234")
    assert status.startswith("200") and headers["Content-Type"].startswith("text/xml")
    committed = WSDL_PATH.read_bytes()
    assert body == committed, (
        "GET /soap?wsdl differs from wsdl/lms.wsdl: the contract changed. Regenerate the file with "
        "`lms-soap wsdl export` and review the diff.")
    assert address_of(body) == "http://127.0.0.1:8000/soap"


def test_served_wsdl_carries_the_configured_public_url_not_the_request_host(app_for):
    _, app = app_for(public_url="https://lms.bank.example:8443/loans")
    answers = [get_wsdl(app, host=host, query=query)[2]
               for host, query in (("attacker.example", "wsdl"), ("10.0.0.7:8000", "WSDL"), ("", "wsdl"))]
    assert answers[0] == answers[1] == answers[2], "the first request's Host must not stick"
    assert address_of(answers[0]) == "https://lms.bank.example:8443/loans/soap"
    assert b"attacker.example" not in answers[0]
    assert answers[0] == with_address(WSDL_PATH.read_bytes(), "https://lms.bank.example:8443/loans/soap")


def test_wsdl_over_http_needs_no_credentials(lms):
    for query in ("wsdl", "WSDL"):
        response = requests.get(f"{lms.url}/soap?{query}", timeout=10)
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
        assert address_of(response.content) == f"{lms.url}/soap"
        assert response.content == with_address(WSDL_PATH.read_bytes(), f"{lms.url}/soap")


# --- every answer validates against the published schema -----------------------------------------
class Caller:
    def __init__(self, lms):
        self.lms = lms
        self.wsdl = WSDL_PATH.read_bytes()

    def call(self, operation: str, fields: str = "", role: str = "bank", wsse: bool = False,
             expect: str | None = None, body: bytes | None = None, auth: tuple[str, str] | None = None):
        username, password = auth or self.lms.credentials(role)
        headers = {"SOAPAction": f'"{operation}"'}
        header = ""
        if wsse:
            header = wsse_header(username, password)
        else:
            headers.update(basic(username, password))
        response = post(self.lms.url, body or envelope(operation, fields, header), headers)
        assert response.headers["Content-Type"].startswith("text/xml"), response.headers
        validate_body(self.wsdl, response.content)
        payload = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")[0]
        if expect is None:
            assert response.status_code == 200, response.text
            assert payload.tag == f"{{{TNS}}}{operation}Response"
        else:
            assert response.status_code == 500, response.text
            assert faultcode(response) == expect, response.text
        return payload

    @staticmethod
    def text(payload, path: str) -> str | None:
        return payload.findtext(path.replace("tns:", f"{{{TNS}}}"))


def decide(lms, caller: Caller, loan_id: str, timeout: float = 30.0) -> str:
    """Run the scoring worker (burst, in this thread) until the loan is decided."""
    from jobs.worker import run_worker

    deadline = time.monotonic() + timeout
    while True:
        run_worker(lms.settings, burst=True)
        status = caller.text(caller.call("GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),
                             "tns:loan/tns:status")
        if status in DECIDED or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def fields(**values) -> str:
    """The request wrapper's children in the order given: fields(loanId="L") -> <tns:loanId>L</tns:loanId>."""
    return "".join(f"<tns:{name}>{value}</tns:{name}>" for name, value in values.items())


def test_every_operation_answers_schema_valid_messages(lms):
    lms.register_scoring()
    c = Caller(lms)
    approved, never_ready = "234774784", "366585630"
    wrong = ("test-bank", "not-the-password")

    def fault(operation, body_fields, reason, **options):
        return c.call(operation, body_fields, expect=f"Client.{reason}", **options)

    customer = c.call("RegisterCustomer", fields(customerNumber=approved))
    assert c.text(customer, "tns:alreadyRegistered") == "false"
    c.call("RegisterCustomer", fields(customerNumber=approved), wsse=True)
    c.call("GetCustomer", fields(customerNumber=approved))
    request_id = uuid.uuid4().hex
    loan = c.call("SubmitLoan", fields(customerNumber=approved, amount="1000.00", requestId=request_id))
    loan_id = c.text(loan, "tns:loan/tns:loanId")
    c.call("GetLoanStatus", fields(customerNumber=approved))
    assert decide(lms, c, loan_id) == "DISBURSED"
    with_history = c.call("GetLoanStatus", fields(loanId=loan_id))
    assert len(with_history.findall(f".//{{{TNS}}}history")) == 4  # ... APPROVED, DISBURSED
    c.call("GetCustomer", fields(customerNumber=approved))  # with its ongoingLoan
    c.call("ListLoans", fields(customerNumber=approved, limit=100))
    c.call("RepayLoan", fields(loanId=loan_id, amount="400.00", reference=f"{loan_id}-1"))
    fault("RepayLoan", fields(loanId=loan_id, amount="5000.00", reference=f"{loan_id}-x"),
          "AmountExceedsOutstanding")
    closed = c.call("RepayLoan", fields(loanId=loan_id, amount="600.00", reference=f"{loan_id}-2"))
    assert c.text(closed, "tns:loan/tns:status") == "CLOSED"
    c.call("ListLoans", fields(customerNumber=approved, status="CLOSED"))

    c.call("RegisterCustomer", fields(customerNumber=never_ready))
    other = c.call("SubmitLoan", fields(customerNumber=never_ready, amount="2500.00",
                                        requestId=f"{request_id}-b"))
    other_id = c.text(other, "tns:loan/tns:loanId")
    c.call("CancelLoan", fields(loanId=other_id, reason="no longer needed"))

    c.call("ScoringRegister", role="admin")
    records = c.call("GetTransactions", fields(customerNumber=approved), role="scoring")
    assert len(records.findall(f"{{{TNS}}}transactions")) == 2
    c.call("RegisterCustomer", fields(customerNumber="555000002"))
    empty = c.call("GetTransactions", fields(customerNumber="555000002"), role="scoring")
    assert len(empty) == 0

    # the client-side faults, each with a schema-valid LmsFault detail
    fault("SubmitLoan", fields(customerNumber=approved, amount="abc"), "SchemaValidationError")
    fault("GetCustomer", "", "MalformedRequest", body=f"<soap:Envelope xmlns:soap='{SOAP_ENV}'>".encode())
    fault("GetCustomer", fields(customerNumber=approved), "AuthenticationFailed", auth=wrong)
    fault("GetCustomer", fields(customerNumber=approved), "AuthenticationFailed", auth=wrong, wsse=True)
    fault("GetTransactions", fields(customerNumber=approved), "NotAuthorized")
    fault("RegisterCustomer", fields(customerNumber="999999999"), "CustomerNotFound")
    fault("RegisterCustomer", fields(customerNumber="555000001"), "CustomerInactive")
    fault("SubmitLoan", fields(customerNumber="999999999", amount="10.00"), "CustomerNotRegistered")
    fault("GetTransactions", fields(customerNumber="318411216"), "CustomerNotRegistered", role="scoring")
    fault("GetLoanStatus", fields(loanId="LNNOSUCHLOAN"), "LoanNotFound")
    fault("CancelLoan", fields(loanId=other_id), "InvalidLoanState")
    fault("SubmitLoan", fields(customerNumber=never_ready, amount="99999999.00"), "AmountOutOfRange")
    third = c.call("SubmitLoan", fields(customerNumber=never_ready, amount="10.00"))
    detail = fault("SubmitLoan", fields(customerNumber=never_ready, amount="10.00"), "LoanInProgress")
    ongoing = detail.findtext(f"detail/{{{TNS}}}LmsFault/{{{TNS}}}loanId")
    assert ongoing == c.text(third, "tns:loan/tns:loanId")
    fault("SubmitLoan", fields(customerNumber=approved, amount="5.00", requestId=request_id),
          "IdempotencyConflict")
    fault("RepayLoan", fields(loanId=loan_id, amount="1.00", reference=f"{loan_id}-3"), "InvalidLoanState")


def test_nil_on_an_optional_request_element_is_still_read_as_absent(lms):
    """The WSDL no longer declares nillable elements, but clients generated from release 0.1.0's
    WSDL (where every optional element was nillable) may send xsi:nil: they keep working."""
    username, password = lms.credentials("bank")
    lms.zeep().service.RegisterCustomer(customerNumber="700000051")
    nil = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"'
    fields = (f"<tns:customerNumber>700000051</tns:customerNumber>"
              f"<tns:status {nil}/><tns:offset {nil}/><tns:limit {nil}/>")
    response = post(lms.url, envelope("ListLoans", fields), headers=basic(username, password))
    assert response.status_code == 200 and faultcode(response) is None, response.text
    total = etree.fromstring(response.content).find(f".//{{{TNS}}}total")
    assert total is not None and total.text == "0"
    validate_body(requests.get(lms.wsdl_url, timeout=5).content, response.content)
