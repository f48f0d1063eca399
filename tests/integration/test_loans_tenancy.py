"""requestId belongs to the API client that sent it, through SOAP and the real database: one
client's requestId never meets another's, and no fault names a loan the caller did not create."""
from __future__ import annotations

import requests

from lms_soap.crypto import generate_secret
from lms_soap.lending.api_clients import add_client
from lms_soap.lending.model import Role
from tests.support.soap import basic, envelope, fault_detail, faultcode, post, validate_body

CUSTOMER, OTHER = "234774784", "397178638"


def client(lms, username: str, role: str = "bank") -> dict[str, str]:
    c = lms.container
    api_client, secret = add_client(username, Role(role), c.uow(), c.box, c.clock, generate_secret)
    return basic(api_client.username, secret)


def submit(lms, headers, customer: str, amount: str, request_id: str | None = None):
    fields = f"<tns:customerNumber>{customer}</tns:customerNumber><tns:amount>{amount}</tns:amount>"
    if request_id:
        fields += f"<tns:requestId>{request_id}</tns:requestId>"
    return post(lms.url, envelope("SubmitLoan", fields), headers)


def loan_id_of(response) -> str:
    assert faultcode(response) is None, response.text
    return response.text.split("<tns:loanId>", 1)[1].split("<", 1)[0]


def test_two_clients_may_use_one_request_id(lms):
    a, b = client(lms, "bank-a"), client(lms, "bank-b")
    lms.zeep("bank").service.RegisterCustomer(customerNumber=CUSTOMER)
    lms.zeep("bank").service.RegisterCustomer(customerNumber=OTHER)
    mine = loan_id_of(submit(lms, a, CUSTOMER, "100.00", "order-1"))
    theirs = loan_id_of(submit(lms, b, OTHER, "200.00", "order-1"))
    assert mine != theirs
    assert loan_id_of(submit(lms, a, CUSTOMER, "100.00", "order-1")) == mine  # each replays its own
    assert loan_id_of(submit(lms, b, OTHER, "200.00", "order-1")) == theirs


def test_no_fault_names_another_clients_loan(lms):
    a, b, admin = client(lms, "bank-a"), client(lms, "bank-b"), client(lms, "ops", "admin")
    lms.zeep("bank").service.RegisterCustomer(customerNumber=CUSTOMER)
    mine = loan_id_of(submit(lms, a, CUSTOMER, "100.00", "order-1"))
    for request_id in ("order-1", None):  # A's requestId (and values), or none
        refused = submit(lms, b, CUSTOMER, "100.00", request_id)
        assert faultcode(refused) == "Client.LoanInProgress"
        assert mine not in refused.text and "loanId" not in fault_detail(refused)
        validate_body(requests.get(lms.wsdl_url, timeout=5).content, refused.content)
    own = submit(lms, a, CUSTOMER, "5.00")
    assert faultcode(own) == "Client.LoanInProgress" and fault_detail(own)["loanId"] == mine
    assert fault_detail(submit(lms, admin, CUSTOMER, "5.00"))["loanId"] == mine
