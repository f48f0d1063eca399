"""The bank callback's WSDL: GET /callback?wsdl (public) serves wsdl/lms-callback.wsdl with
BANK_CALLBACK_URL (or the placeholder) as soap:address; it describes exactly one one-way operation,
and the envelope clients/bank_callback.py sends validates against its schema. Building it does not
disturb the service's own Spyne application in the same process."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from lms_soap.clients.bank_callback import build_envelope
from lms_soap.lending import servicing
from lms_soap.lending.model import Loan, LoanStatus
from lms_soap.lending.products import SANDBOX_FAST
from lms_soap.services.callback_wsdl import PLACEHOLDER_URL, build_callback_wsdl, callback_address
from tests.integration.test_wsdl_served import address_of, app_for, with_address  # noqa: F401
from tests.support.soap import SOAP_ENV, TNS, basic, envelope, post

ROOT = Path(__file__).resolve().parents[2]
CALLBACK_WSDL = ROOT / "wsdl" / "lms-callback.wsdl"
W = "{http://schemas.xmlsoap.org/wsdl/}"
XS = "{http://www.w3.org/2001/XMLSchema}"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def schema_of(wsdl: bytes) -> etree.XMLSchema:
    root = etree.fromstring(wsdl)
    schema = root.find(f"{W}types/{XS}schema")
    standalone = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap={**root.nsmap, **schema.nsmap})
    standalone.extend(schema)
    return etree.XMLSchema(standalone)


def written_off_loan() -> Loan:
    """A loan with every optional element set: fee, penalty, a repayment, written off."""
    loan = Loan.submit("234774784", Decimal("1000.00"), "KES", "req-1", NOW, product_code=SANDBOX_FAST.code)
    loan.transition(LoanStatus.SCORING, "SCORING_STARTED", NOW)
    loan.score, loan.limit_amount, loan.exclusion, loan.exclusion_reason = 700, Decimal("5000"), "No Exclusion", "-"
    loan.transition(LoanStatus.APPROVED, "WITHIN_LIMIT", NOW)
    servicing.approved(loan, SANDBOX_FAST, NOW)
    servicing.apply_arrears(loan, SANDBOX_FAST, NOW + timedelta(minutes=5))
    servicing.repay(loan, Decimal("12.34"), "R-1", NOW + timedelta(minutes=6))
    return loan


def test_the_committed_callback_wsdl_is_what_the_export_builds():
    assert CALLBACK_WSDL.read_bytes() == build_callback_wsdl((ROOT / "wsdl" / "lms.wsdl").read_bytes()), (
        "wsdl/lms-callback.wsdl differs from the build: regenerate it with `lms-soap wsdl export`.")
    assert address_of(CALLBACK_WSDL.read_bytes()) == PLACEHOLDER_URL


def test_one_one_way_operation_in_the_lms_namespace():
    root = etree.fromstring(CALLBACK_WSDL.read_bytes())
    assert root.get("targetNamespace") == TNS
    (operation,) = root.findall(f"{W}portType/{W}operation")
    assert operation.get("name") == "NotifyLoanEvent"
    assert operation.find(f"{W}input") is not None and operation.find(f"{W}output") is None
    assert [m.get("name") for m in root.findall(f"{W}message")] == ["NotifyLoanEvent"]
    schema = root.find(f"{W}types/{XS}schema")
    event = schema.find(f"{XS}element[@name='NotifyLoanEvent']")
    names = [(e.get("name"), e.get("minOccurs", "1")) for e in event.iter(f"{XS}element") if e is not event]
    assert names == [("eventId", "1"), ("loanId", "1"), ("customerNumber", "1"), ("status", "1"),
                     ("previousStatus", "0"), ("reason", "0"), ("occurredAt", "1"), ("loan", "0")]
    assert b"nillable" not in CALLBACK_WSDL.read_bytes()
    client = zeep.Client(CALLBACK_WSDL.as_uri())  # a toolkit reads it
    assert list(client.wsdl.services["LmsBankCallback"].ports["LmsBankCallback"].binding._operations) == \
        ["NotifyLoanEvent"]


@pytest.mark.parametrize("with_loan, wsse", [(True, False), (True, True), (False, False)],
                         ids=["loan", "loan-wsse", "no-loan"])
def test_the_envelope_bank_callback_sends_is_valid_per_the_callback_schema(with_loan, wsse):
    loan = written_off_loan()
    for notification in loan.notifications:  # APPROVED, DISBURSED, OVERDUE, ... each one
        body = build_envelope(notification, loan if with_loan else None,
                              wsse_credentials=("bank", "secret") if wsse else None)
        payload = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
        schema = schema_of(CALLBACK_WSDL.read_bytes())
        assert schema.validate(payload), f"{notification.status}: {schema.error_log}"
    sent = etree.fromstring(build_envelope(loan.notifications[-1], loan)).find(f".//{{{TNS}}}loan")
    assert sent.findtext(f"{{{TNS}}}productCode") == "SANDBOX-FAST"
    assert sent.findtext(f"{{{TNS}}}penaltiesOutstanding") == "37.66"  # 50.00 penalty - 12.34 repaid


def test_served_at_callback_wsdl_without_credentials_with_the_configured_address(app_for):
    _, app = app_for()
    status, headers, body = _get(app, "/callback", "wsdl")
    assert status.startswith("200") and headers["Content-Type"].startswith("text/xml")
    assert body == CALLBACK_WSDL.read_bytes()
    _, configured = app_for(bank_callback_url="https://user:pw@bank.example:9443/hooks/lms")
    served = _get(configured, "/callback", "WSDL")[2]
    assert address_of(served) == "https://bank.example:9443/hooks/lms" and b"pw@" not in served
    assert served == with_address(CALLBACK_WSDL.read_bytes(), "https://bank.example:9443/hooks/lms")
    assert _get(configured, "/callback", "")[0].startswith("404")  # the LMS itself serves no callback


def test_callback_address():
    assert callback_address("") == callback_address(None) == PLACEHOLDER_URL
    assert callback_address("http://127.0.0.1:8095/bank") == "http://127.0.0.1:8095/bank"


def test_the_service_still_answers_after_the_callback_wsdl_is_built(lms):
    build_callback_wsdl((ROOT / "wsdl" / "lms.wsdl").read_bytes(), "https://another.example/cb")
    response = post(lms.url, envelope("ListProducts"), basic(*lms.credentials("bank")))
    assert response.status_code == 200
    codes = etree.fromstring(response.content).findall(f".//{{{TNS}}}products/{{{TNS}}}code")
    assert "STANDARD" in [c.text for c in codes]
    assert requests.get(f"{lms.url}/callback?wsdl", timeout=10).content == CALLBACK_WSDL.read_bytes()


def test_wsdl_export_writes_both_files(tmp_path):
    (tmp_path / "wsdl").mkdir()
    done = subprocess.run([sys.executable, "-m", "lms_soap.cli", "wsdl", "export"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "wsdl" / "lms-callback.wsdl").read_bytes() == CALLBACK_WSDL.read_bytes()
    assert (tmp_path / "wsdl" / "lms.wsdl").read_bytes() == (ROOT / "wsdl" / "lms.wsdl").read_bytes()


def _get(app, path, query):
    import io

    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body
