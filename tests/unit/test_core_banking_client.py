"""ZeepCoreBanking against canned Spring-WS style replies (requests-mock: no network at all)."""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests
from lxml import etree

from lms_soap.clients.core_banking import ZeepCoreBanking, _LocalTransport
from lms_soap.config import Settings
from lms_soap.resources import cbs_wsdl_dir
from lms_soap.lending.errors import CoreBankingUnavailable
from lms_soap.lending.model import KycStatus
from lms_soap.sandbox import cbs_data

WSDL_DIR = cbs_wsdl_dir()
# Not the WSDLs' placeholder (http://localhost:8093/...): proves the configured endpoint is used.
CUSTOMER_URL = "http://cbs.test:9443/ws/customer"
TRANSACTIONS_URL = "http://cbs.test:9443/ws/transactions"
XS = "http://www.w3.org/2001/XMLSchema"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PASSWORD = "pwd123"


def envelope(body: str) -> bytes:
    """A reply the way the live CBS (Spring-WS) writes it."""
    return (f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Header/>'
            f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def customer_reply(**fields: str) -> bytes:
    values = {"createdAt": "2019-05-23T23:27:19.000+03:00", "customerNumber": "234774784",
              "dob": "1985-03-14T00:00:00.000+03:00", "firstName": "John", "gender": "FEMALE",
              "id": "1", "idNumber": "ID9368586", "idType": "DRIVERS_LICENSE", "lastName": "Doe",
              "middleName": "A.", "mobile": "+254711000001", "monthlyIncome": "7216.72",
              "status": "ACTIVE", "updatedAt": "2020-06-26T23:27:19.000+03:00"}
    values.update(fields)
    order = [name for name, _, _ in cbs_data.CUSTOMER_FIELDS]
    inner = "".join(f"<ns2:{k}>{values[k]}</ns2:{k}>" for k in order if values.get(k) is not None)
    return envelope('<ns2:CustomerResponse xmlns:ns2="http://credable.io/cbs/customer">'
                    f"<ns2:customer>{inner}</ns2:customer></ns2:CustomerResponse>")


def fault_reply(code: str, text: str) -> bytes:
    return envelope(f"<SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode>"
                    f'<faultstring xml:lang="en">{text}</faultstring></SOAP-ENV:Fault>')


def spring_datetime(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")  # 2019-05-23T23:27:19.000+03:00


def xml_text(value: object) -> str:
    if isinstance(value, datetime):
        return spring_datetime(value)
    return repr(value) if isinstance(value, float) else str(value)  # repr: every digit of a float


def transactions_reply(records: list[dict]) -> bytes:
    parts = []
    for record in records:
        inner = "".join(f"<ns2:{k}>{xml_text(v)}</ns2:{k}>" for k, v in record.items()
                        if v is not None)
        parts.append(f"<ns2:transactions>{inner}</ns2:transactions>")
    return envelope('<ns2:TransactionsResponse xmlns:ns2="http://credable.io/cbs/transaction">'
                    + "".join(parts) + "</ns2:TransactionsResponse>")


def make_client(auth_mode: str = "wsse") -> ZeepCoreBanking:
    return ZeepCoreBanking(wsdl_dir=WSDL_DIR, customer_url=CUSTOMER_URL,
                           transactions_url=TRANSACTIONS_URL, username="admin", password=PASSWORD,
                           auth_mode=auth_mode, connect_timeout=2.0, read_timeout=10.0)


@pytest.fixture
def cbs(requests_mock) -> ZeepCoreBanking:
    # requests_mock answers NoMockAddress for anything unregistered: the network is blocked.
    return make_client()


def reply(requests_mock, url: str, content: bytes, status: int = 200, ctype: str = "text/xml"):
    requests_mock.post(url, content=content, status_code=status,
                       headers={"Content-Type": f"{ctype}; charset=utf-8"})


# --- KYC ------------------------------------------------------------------------------------
def test_customer_is_parsed_from_a_spring_ws_reply(cbs, requests_mock):
    reply(requests_mock, CUSTOMER_URL, customer_reply(email=None))
    kyc = cbs.fetch_customer("234774784")
    assert kyc is not None
    assert (kyc.customer_number, kyc.first_name, kyc.middle_name, kyc.last_name) == (
        "234774784", "John", "A.", "Doe")
    assert (kyc.gender, kyc.id_type, kyc.id_number) == ("FEMALE", "DRIVERS_LICENSE", "ID9368586")
    assert kyc.email is None  # optional field absent from the reply
    assert kyc.monthly_income == Decimal("7216.72") and isinstance(kyc.monthly_income, Decimal)
    assert kyc.status is KycStatus.ACTIVE


@pytest.mark.parametrize("raw,expected", [("7216.72", "7216.72"), ("1885.2", "1885.20"),
                                          ("1500", "1500.00"), ("1.0E4", "10000.00")])
def test_monthly_income_becomes_decimal_cents(cbs, requests_mock, raw, expected):
    reply(requests_mock, CUSTOMER_URL, customer_reply(monthlyIncome=raw))
    assert str(cbs.fetch_customer("234774784").monthly_income) == expected


def test_inactive_kyc_is_returned_for_the_use_case_to_decide(cbs, requests_mock):
    reply(requests_mock, CUSTOMER_URL, customer_reply(status="INACTIVE"))
    assert cbs.fetch_customer("234774784").status is KycStatus.INACTIVE


def test_absent_status_is_not_taken_for_active(cbs, requests_mock):
    reply(requests_mock, CUSTOMER_URL, customer_reply(status=None))
    assert cbs.fetch_customer("234774784").status is KycStatus.INACTIVE


@pytest.mark.parametrize("content", [
    fault_reply("Client", "Customer not found: 234774784"),
    fault_reply("Server", "CUSTOMER NOT FOUND"),
    envelope('<ns2:CustomerResponse xmlns:ns2="http://credable.io/cbs/customer"/>'),
    customer_reply(customerNumber=None),
], ids=["client-fault", "server-fault-uppercase", "no-customer", "no-customerNumber"])
def test_unknown_customer_gives_none(cbs, requests_mock, content):
    reply(requests_mock, CUSTOMER_URL, content, status=500 if b"Fault" in content else 200)
    assert cbs.fetch_customer("234774784") is None


def test_an_answer_for_another_customer_is_refused(cbs, requests_mock):
    reply(requests_mock, CUSTOMER_URL, customer_reply(customerNumber="318411216"))
    with pytest.raises(CoreBankingUnavailable):
        cbs.fetch_customer("234774784")


# --- transactions --------------------------------------------------------------------------
def test_empty_transactions_response_gives_an_empty_list(cbs, requests_mock):
    reply(requests_mock, TRANSACTIONS_URL,
          envelope('<ns2:TransactionsResponse xmlns:ns2="http://credable.io/cbs/transaction"/>'))
    assert cbs.fetch_transactions("555000002") == []


def test_transactions_have_the_72_keys_in_wsdl_order_and_exact_values(cbs, requests_mock):
    records = cbs_data.lookup_transactions("234774784")  # the scoring docs' two records
    reply(requests_mock, TRANSACTIONS_URL, transactions_reply(records))
    got = cbs.fetch_transactions("234774784")
    wsdl_order = [name for name, _, _ in wsdl_fields("transactionWsdl.wsdl", "transactionData")]
    assert len(wsdl_order) == 72
    assert [list(r) for r in got] == [wsdl_order, wsdl_order]
    assert got == records  # floats, ints and instants exactly as sent
    first = got[0]
    assert first["maxdebitcardpostransactions"] == 5186960787986540.0
    assert first["chequeDebitTransactionsAmount"] == 469330768.19151
    assert first["alternativechanneltrnsdebitNumber"] == 902403930
    assert first["lastTransactionType"] is None  # absent optional element
    assert int(first["createdAt"].timestamp() * 1000) == 740243532000
    assert first["createdAt"].utcoffset().total_seconds() == 3 * 3600
    xs_python = {"double": float, "int": int, "long": int, "string": str, "dateTime": datetime}
    for name, xs_type, _ in cbs_data.TRANSACTION_FIELDS:
        if first[name] is not None:
            assert type(first[name]) is xs_python[xs_type], name


def test_offsetless_datetimes_are_made_timezone_aware(cbs, requests_mock):
    record = dict(cbs_data.lookup_transactions("234774784")[0])
    record["createdAt"] = "2019-05-23T23:27:19"  # written verbatim by transactions_reply
    reply(requests_mock, TRANSACTIONS_URL, transactions_reply([record]))
    created = cbs.fetch_transactions("234774784")[0]["createdAt"]
    assert created == datetime(2019, 5, 23, 23, 27, 19, tzinfo=timezone.utc)


def wsdl_fields(wsdl: str, type_name: str) -> list[tuple[str, str, int]]:
    root = etree.parse(str(WSDL_DIR / wsdl)).getroot()
    ctype = root.find(f".//{{{XS}}}complexType[@name='{type_name}']")
    return [(e.get("name"), e.get("type").split(":")[1], int(e.get("minOccurs", "1")))
            for e in ctype.iter(f"{{{XS}}}element")]


def test_field_tables_match_the_verbatim_wsdls(cbs):
    assert list(cbs_data.TRANSACTION_FIELDS) == wsdl_fields("transactionWsdl.wsdl",
                                                            "transactionData")
    assert list(cbs_data.CUSTOMER_FIELDS) == wsdl_fields("customerWsdl.wsdl", "customer")
    assert list(cbs.transaction_fields) == [n for n, _, _ in cbs_data.TRANSACTION_FIELDS]


# --- failures ------------------------------------------------------------------------------
FAILURES = {
    "soap-server-fault": dict(content=fault_reply("Server", "java.lang.NullPointerException"),
                              status_code=500, headers={"Content-Type": "text/xml"}),
    "html-500": dict(content=b"<html><head><title>500</title></head><body>Error</body></html>",
                     status_code=500, headers={"Content-Type": "text/html"}),
    # A proxy's "Not Found" page must not read as "customer not found".
    "html-404": dict(content=b"<html><body><h1>404 Not Found</h1></body></html>", status_code=404,
                     headers={"Content-Type": "text/html"}),
    "empty-503": dict(content=b"", status_code=503),
    "garbage-200": dict(content=b"this is not XML <<<", status_code=200,
                        headers={"Content-Type": "text/xml"}),
    "dtd-200": dict(content=b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>'
                    + envelope("<x>&e;</x>"), status_code=200,
                    headers={"Content-Type": "text/xml"}),
    "connection-error": dict(exc=requests.exceptions.ConnectionError("connection refused")),
    "connect-timeout": dict(exc=requests.exceptions.ConnectTimeout("connect timed out")),
    "read-timeout": dict(exc=requests.exceptions.ReadTimeout("read timed out")),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
@pytest.mark.parametrize("operation", ["fetch_customer", "fetch_transactions"])
def test_every_failure_is_core_banking_unavailable(cbs, requests_mock, failure, operation, caplog):
    caplog.set_level(logging.DEBUG)
    for url in (CUSTOMER_URL, TRANSACTIONS_URL):
        requests_mock.post(url, **FAILURES[failure])
    with pytest.raises(CoreBankingUnavailable) as raised:
        getattr(cbs, operation)("234774784")
    assert raised.value.faultcode == "Server.CoreBankingUnavailable"
    assert PASSWORD not in str(raised.value) and "cbs.test" not in str(raised.value)
    assert PASSWORD not in caplog.text


# --- what goes on the wire -----------------------------------------------------------------
def test_wsse_username_token_password_text_is_sent(cbs, requests_mock, caplog):
    caplog.set_level(logging.DEBUG)  # zeep's own Transport would log the envelope here
    reply(requests_mock, CUSTOMER_URL, customer_reply())
    cbs.fetch_customer("234774784")
    sent = requests_mock.request_history[0]
    assert sent.url == CUSTOMER_URL and sent.method == "POST"
    assert "Authorization" not in sent.headers
    doc = etree.fromstring(sent.body)
    security = doc.find(f"{{{SOAP_ENV}}}Header/{{{WSSE}}}Security")
    assert security is not None and security.get(f"{{{SOAP_ENV}}}mustUnderstand") == "1"
    assert security.findtext(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Username") == "admin"
    password = security.find(f"{{{WSSE}}}UsernameToken/{{{WSSE}}}Password")
    assert password.text == PASSWORD and password.get("Type").endswith("#PasswordText")
    body = doc.find(f"{{{SOAP_ENV}}}Body/{{http://credable.io/cbs/customer}}CustomerRequest")
    assert body.findtext("{http://credable.io/cbs/customer}customerNumber") == "234774784"
    assert PASSWORD not in caplog.text


def test_basic_mode_sends_an_authorization_header_and_no_wsse(requests_mock):
    cbs = make_client(auth_mode="basic")
    reply(requests_mock, TRANSACTIONS_URL,
          envelope('<ns2:TransactionsResponse xmlns:ns2="http://credable.io/cbs/transaction"/>'))
    cbs.fetch_transactions("234774784")
    sent = requests_mock.request_history[0]
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b"admin:pwd123").decode()
    assert etree.fromstring(sent.body).find(f".//{{{WSSE}}}Security") is None


def test_the_configured_endpoint_and_timeouts_are_used(cbs, requests_mock):
    reply(requests_mock, CUSTOMER_URL, customer_reply())
    reply(requests_mock, TRANSACTIONS_URL, transactions_reply([]))
    cbs.fetch_customer("234774784")
    cbs.fetch_transactions("234774784")
    assert [r.url for r in requests_mock.request_history] == [CUSTOMER_URL, TRANSACTIONS_URL]
    assert all(r.timeout == (2.0, 10.0) for r in requests_mock.request_history)


def test_building_the_client_fetches_nothing(requests_mock):
    make_client()
    assert requests_mock.request_history == []
    with pytest.raises(ValueError, match="refusing"):
        _LocalTransport().load("http://schemas.xmlsoap.org/soap/encoding/")


def test_from_settings_uses_the_cbs_settings(requests_mock):
    settings = Settings().replace(cbs_customer_url=CUSTOMER_URL,
                                  cbs_transactions_url=TRANSACTIONS_URL, cbs_auth_mode="basic",
                                  cbs_connect_timeout=1.5, cbs_read_timeout=4.0)
    cbs = ZeepCoreBanking.from_settings(settings)
    reply(requests_mock, CUSTOMER_URL, customer_reply())
    assert cbs.fetch_customer("234774784").first_name == "John"
    sent = requests_mock.request_history[0]
    assert sent.timeout == (1.5, 4.0) and sent.headers["Authorization"].startswith("Basic ")
    assert settings.cbs_wsdl_dir == ""  # the WSDLs shipped in the package


def test_unknown_auth_mode_is_refused():
    with pytest.raises(ValueError):
        make_client(auth_mode="digest")


def test_kyc_values_that_do_not_fit_the_snapshot_are_an_unusable_answer():
    """Over-long or unprintable text, or an income NUMERIC(18,2) cannot hold, must not reach the
    database (where it would be an InternalError logging the row): the CBS answer is unusable."""
    from types import SimpleNamespace

    from lms_soap.clients.core_banking import _kyc_record

    base = dict(customerNumber="1", firstName="A", middleName=None, lastName="B", gender="MALE",
                idType="PASSPORT", idNumber="X", mobile="1", email="a@b", monthlyIncome=10.5,
                status="ACTIVE")
    assert _kyc_record(SimpleNamespace(**base), "1").first_name == "A"
    for change in ({"firstName": "x" * 101}, {"email": "a\x01b"}, {"monthlyIncome": 1e17},
                   {"monthlyIncome": 1e300}):
        with pytest.raises((ValueError, ArithmeticError)):
            _kyc_record(SimpleNamespace(**{**base, **change}), "1")
