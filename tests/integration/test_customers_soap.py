"""RegisterCustomer, GetCustomer, GetTransactions and the REST transactions endpoint, through a real
HTTP server, the real database and the CBS simulator."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import zeep.exceptions
from sqlalchemy import create_engine, func, select

from lms_soap.lending.transaction_fields import TRANSACTION_FIELD_NAMES
from lms_soap.models.tables import customers
from lms_soap.sandbox import cbs_data
from tests.support.soap import basic, envelope, fault_detail, faultcode, post, validate_body, wsse_header

TEST_CUSTOMERS = ["234774784", "318411216", "340397370", "366585630", "397178638"]
#: A copy of ../shared/reference/spec-transactions.json: the engine documentation's example response.
SPEC = Path(__file__).resolve().parents[1] / "data" / "spec-transactions.json"


def customer_rows(lms) -> int:
    engine = create_engine(lms.settings.database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(customers)).scalar()
    engine.dispose()
    return count


def soap_fault(exc: zeep.exceptions.Fault) -> str:
    return exc.value.code.split(":", 1)[-1] if exc.value.code else ""


@pytest.mark.parametrize("wsse", [False, True], ids=["basic", "ws-security"])
def test_bank_registers_every_test_customer(lms, wsse):
    client = lms.zeep("bank", wsse=wsse)
    for number in TEST_CUSTOMERS:
        result = client.service.RegisterCustomer(customerNumber=number)
        assert result.alreadyRegistered is False
        kyc = cbs_data.lookup_customer(number)
        assert result.customer.customerNumber == number
        assert result.customer.firstName == kyc["firstName"]
        assert result.customer.lastName == kyc["lastName"]
        assert result.customer.kycStatus == "ACTIVE"
        assert isinstance(result.customer.monthlyIncome, Decimal)
    again = client.service.RegisterCustomer(customerNumber=TEST_CUSTOMERS[0])
    assert again.alreadyRegistered is True
    assert again.customer.kycRefreshedAt >= again.customer.registeredAt
    assert customer_rows(lms) == len(TEST_CUSTOMERS)


def test_known_kyc_values_are_kept_exactly(lms):
    customer = lms.zeep("bank").service.RegisterCustomer(customerNumber="234774784").customer
    assert (customer.firstName, customer.middleName, customer.lastName) == ("John", "A.", "Doe")
    assert (customer.gender, customer.idType, customer.idNumber) == ("FEMALE", "DRIVERS_LICENSE", "ID9368586")
    assert customer.monthlyIncome == Decimal("7216.72")


@pytest.mark.parametrize("number, code", [
    (cbs_data.UNKNOWN_CUSTOMER, "Client.CustomerNotFound"),
    (cbs_data.INACTIVE_CUSTOMER, "Client.CustomerInactive"),
])
def test_unknown_and_inactive_customers_are_refused_and_nothing_is_stored(lms, number, code):
    user, password = lms.credentials("bank")
    response = post(lms.url, envelope("RegisterCustomer", f"<tns:customerNumber>{number}</tns:customerNumber>"),
                    basic(user, password))
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    assert faultcode(response) == code
    assert fault_detail(response)["code"] == code.split(".")[1]
    validate_body(requests.get(lms.wsdl_url, timeout=5).content, response.content)
    assert customer_rows(lms) == 0


def test_core_banking_down_gives_server_fault_and_stores_nothing(lms):
    from lms_soap.app import create_app
    from lms_soap.bootstrap import build_container
    from tests.support.servers import free_port, serve_wsgi

    lms.register_customers("318411216")  # GetTransactions serves registered customers only
    dead = f"http://127.0.0.1:{free_port()}"
    settings = lms.settings.replace(cbs_customer_url=f"{dead}/service/customer",
                                    cbs_transactions_url=f"{dead}/service/transaction-data",
                                    cbs_connect_timeout=0.5)
    container = build_container(settings)
    with serve_wsgi(create_app(settings, container)) as url:
        user, password = lms.credentials("bank")
        for operation in ("RegisterCustomer",):
            response = post(url, envelope(operation, "<tns:customerNumber>234774784</tns:customerNumber>"),
                            basic(user, password))
            assert faultcode(response) == "Server.CoreBankingUnavailable"
        user, password = lms.credentials("scoring")
        response = post(url, envelope("GetTransactions", "<tns:customerNumber>318411216</tns:customerNumber>"),
                        basic(user, password))
        assert faultcode(response) == "Server.CoreBankingUnavailable"
        rest = requests.get(f"{url}/api/v1/transactions/318411216", auth=(user, password), timeout=5)
        assert rest.status_code == 503
    container.close()
    assert customer_rows(lms) == 1  # the one registered before


def test_get_customer_shows_the_ongoing_loan(lms):
    client = lms.zeep("bank")
    client.service.RegisterCustomer(customerNumber="234774784")
    assert client.service.GetCustomer(customerNumber="234774784").ongoingLoan is None
    loan = client.service.SubmitLoan(customerNumber="234774784", amount=Decimal("250.00"))
    ongoing = client.service.GetCustomer(customerNumber="234774784").ongoingLoan
    assert ongoing.loanId == loan.loanId and ongoing.status == "PENDING"


def test_get_customer_of_an_unregistered_number_is_a_fault(lms):
    with pytest.raises(zeep.exceptions.Fault) as exc:
        lms.zeep("bank").service.GetCustomer(customerNumber="234774784")
    assert soap_fault(exc) == "Client.CustomerNotRegistered"


@pytest.mark.parametrize("headers, status", [
    ({}, 401),  # no credentials at all: the Basic challenge, the fault as its body
    (basic("test-bank", "wrong"), 500),
    (basic("nobody", "x"), 500),
])
def test_missing_or_wrong_credentials(lms, headers, status):
    lms.credentials("bank")
    response = post(lms.url, envelope("GetCustomer", "<tns:customerNumber>1</tns:customerNumber>"), headers)
    assert response.status_code == status and faultcode(response) == "Client.AuthenticationFailed"
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


def test_wrong_ws_security_password(lms):
    user, _ = lms.credentials("bank")
    body = envelope("GetCustomer", "<tns:customerNumber>1</tns:customerNumber>", wsse_header(user, "nope"))
    assert faultcode(post(lms.url, body)) == "Client.AuthenticationFailed"


@pytest.mark.parametrize("role, operation", [
    ("scoring", "RegisterCustomer"), ("scoring", "GetCustomer"), ("bank", "GetTransactions"),
    ("bank", "ScoringRegister"), ("scoring", "ScoringRegister"),
])
def test_roles_are_enforced(lms, role, operation):
    body = envelope(operation, "" if operation == "ScoringRegister"
                    else "<tns:customerNumber>234774784</tns:customerNumber>")
    response = post(lms.url, body, basic(*lms.credentials(role)))
    assert faultcode(response) == "Client.NotAuthorized"
    assert customer_rows(lms) == 0


def test_revoked_client_is_refused_once_the_cache_expires(lms):
    from lms_soap.lending.api_clients import revoke_client

    user, password = lms.credentials("bank")
    lms.container.clock  # the revocation itself is immediate in the database
    revoke_client(user, lms.container.uow(), lms.container.clock)
    # a fresh app has no cached credential: the revocation applies at once
    from lms_soap.app import create_app
    from tests.support.servers import serve_wsgi

    with serve_wsgi(create_app(lms.settings, lms.container)) as url:
        response = post(url, envelope("GetCustomer", "<tns:customerNumber>1</tns:customerNumber>"),
                        basic(user, password))
    assert faultcode(response) == "Client.AuthenticationFailed"


def test_get_transactions_over_soap_returns_every_field_intact(lms):
    lms.register_customers("234774784")
    records = lms.zeep("scoring").service.GetTransactions(customerNumber="234774784")
    expected = cbs_data.lookup_transactions("234774784")
    assert len(records) == len(expected) == 2
    for record, source in zip(records, expected):
        values = zeep.helpers.serialize_object(record, dict)
        assert list(values) == list(TRANSACTION_FIELD_NAMES)
        for name in TRANSACTION_FIELD_NAMES:
            assert values[name] == source.get(name), name


def test_transactions_response_has_no_wrapper_and_validates(lms):
    lms.register_customers("234774784")
    response = post(lms.url, envelope("GetTransactions", "<tns:customerNumber>234774784</tns:customerNumber>"),
                    basic(*lms.credentials("admin")))
    assert response.status_code == 200
    validate_body(requests.get(lms.wsdl_url, timeout=5).content, response.content)
    from lxml import etree

    payload = etree.fromstring(response.content)[0][0]
    assert etree.QName(payload).localname == "GetTransactionsResponse"
    assert [etree.QName(child).localname for child in payload] == ["transactions", "transactions"]
    # every field present, in the CBS order; an absent optional value (None) is omitted, as the CBS does
    for element, source in zip(payload, cbs_data.lookup_transactions("234774784")):
        expected = [name for name in TRANSACTION_FIELD_NAMES if source.get(name) is not None]
        assert [etree.QName(child).localname for child in element] == expected
        assert len(expected) >= 71
        created = element.find("{urn:lms-soap:v1}createdAt").text
        assert created.endswith("+00:00"), created  # the CBS sends +03:00; the contract's times are UTC


def test_rest_transactions_match_the_engine_documentation_exactly(lms):
    lms.register_customers("234774784")
    auth = lms.credentials("scoring")
    response = requests.get(f"{lms.url}/api/v1/transactions/234774784", auth=auth, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == json.loads(SPEC.read_text())
    assert list(response.json()[0]) == list(TRANSACTION_FIELD_NAMES)
    by_query = requests.get(f"{lms.url}/api/v1/transactions?customerNumber=234774784", auth=auth, timeout=5)
    assert by_query.json() == response.json()


def test_no_transactions_is_an_empty_list_not_a_fault(lms):
    number = cbs_data.NO_TRANSACTIONS_CUSTOMER
    lms.register_customers(number)
    assert lms.zeep("scoring").service.GetTransactions(customerNumber=number) == []
    rest = requests.get(f"{lms.url}/api/v1/transactions/{number}", auth=lms.credentials("scoring"), timeout=5)
    assert rest.status_code == 200 and rest.json() == []


@pytest.mark.parametrize("role, status", [(None, 401), ("bank", 403), ("admin", 200)])
def test_rest_transactions_need_the_scoring_or_admin_role(lms, role, status):
    lms.register_customers("234774784")
    auth = lms.credentials(role) if role else None
    response = requests.get(f"{lms.url}/api/v1/transactions/234774784", auth=auth, timeout=5)
    assert response.status_code == status


def test_wsdl_is_public_and_carries_the_configured_address(lms):
    response = requests.get(lms.wsdl_url, timeout=5)
    assert response.status_code == 200
    assert f'location="{lms.settings.public_url}/soap"'.encode() in response.content


def test_rest_refuses_a_username_no_client_can_have(lms):
    import base64

    token = base64.b64encode(b"bad\x00name:secret").decode()
    response = requests.get(f"{lms.url}/api/v1/transactions/234774784",
                            headers={"Authorization": f"Basic {token}"}, timeout=5)
    assert response.status_code == 401
    assert response.json()["faultcode"] == "Client.AuthenticationFailed"


def test_a_response_that_cannot_be_written_is_a_fault_not_an_empty_200(lms):
    """Spyne fails while writing a value XML cannot carry: the caller must get the catalogue's
    Server.InternalError fault, not Spyne's half-built 200 envelope."""
    from sqlalchemy import update

    from lms_soap.models.tables import loans as loans_table

    bank = lms.zeep("bank")
    bank.service.RegisterCustomer(customerNumber="234774784")
    loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("10.00"))
    engine = create_engine(lms.settings.database_url)
    with engine.begin() as conn:  # as if stored before the engine's text was checked
        conn.execute(update(loans_table).where(loans_table.c.id == loan.loanId).values(exclusion="Fraud\x01"))
    engine.dispose()
    response = post(lms.url, envelope("GetLoanStatus", f"<tns:loanId>{loan.loanId}</tns:loanId>"),
                    basic(*lms.credentials("bank")))
    assert response.status_code == 500
    assert faultcode(response) == "Server.InternalError"


class CountingCoreBanking:
    """The real CBS client, counting the transaction fetches it is asked for."""

    def __init__(self, inner):
        self.inner = inner
        self.fetched: list[str] = []

    def fetch_customer(self, customer_number):
        return self.inner.fetch_customer(customer_number)

    def fetch_transactions(self, customer_number):
        self.fetched.append(customer_number)
        return self.inner.fetch_transactions(customer_number)


def test_transactions_of_an_unregistered_customer_are_refused_without_asking_the_cbs(lms, monkeypatch):
    """A scoring credential reads the LMS's customers only, not every customer of the bank."""
    counting = CountingCoreBanking(lms.container.cbs)
    monkeypatch.setattr(lms.container, "cbs", counting)
    lms.register_customers("234774784")
    auth = lms.credentials("scoring")

    soap = post(lms.url, envelope("GetTransactions", "<tns:customerNumber>318411216</tns:customerNumber>"),
                basic(*auth))
    rest = requests.get(f"{lms.url}/api/v1/transactions/318411216", auth=auth, timeout=5)
    by_query = requests.get(f"{lms.url}/api/v1/transactions?customerNumber=318411216", auth=auth, timeout=5)

    assert faultcode(soap) == "Client.CustomerNotRegistered"
    assert fault_detail(soap)["customerNumber"] == "318411216"
    for answer in (rest, by_query):
        assert answer.status_code == 404
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["faultcode"] == "Client.CustomerNotRegistered"
        assert "318411216" in answer.json()["message"]
    assert counting.fetched == []
    assert requests.get(f"{lms.url}/api/v1/transactions/234774784", auth=auth, timeout=5).status_code == 200
    assert counting.fetched == ["234774784"]
