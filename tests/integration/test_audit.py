"""The audit log (table audit_log): one row per call that may change something, whatever its
outcome, and one per failed authentication; none for reads. Each row names the principal, the
operation, the customer and loan it touched, the outcome (OK or the faultcode), the request id the
caller sent in X-Request-ID (echoed on the response, generated when absent) and the duration.
It never holds a secret."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms_soap.models.tables import audit_log
from tests.support.soap import basic, envelope, faultcode, post, wsse_header

CUSTOMER = "234774784"
UNREGISTERED = "318411216"


def audit_rows(lms) -> list[dict]:
    with lms.container.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(audit_log).order_by(audit_log.c.id))]


def call(lms, operation: str, fields: str, request_id: str | None = None, role: str = "bank",
         auth: dict | None = None):
    headers = basic(*lms.credentials(role)) if auth is None else auth
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return post(lms.url, envelope(operation, fields), headers)


def customer_field(number: str) -> str:
    return f"<tns:customerNumber>{number}</tns:customerNumber>"


def submit_fields(number: str, amount: str = "1000.00") -> str:
    return customer_field(number) + f"<tns:amount>{amount}</tns:amount>"


def loan_id_of(response) -> str:
    match = re.search(rb"<tns:loanId>([^<]+)</tns:loanId>", response.content)
    assert match, response.content[:500]
    return match.group(1).decode()


def test_register_customer_and_submit_loan_each_add_a_row(lms):
    username, _ = lms.credentials("bank")

    registered = call(lms, "RegisterCustomer", customer_field(CUSTOMER), request_id="req-register-1")
    submitted = call(lms, "SubmitLoan", submit_fields(CUSTOMER), request_id="req-submit-1")

    assert registered.status_code == 200, registered.content[:500]
    assert submitted.status_code == 200, submitted.content[:500]
    register_row, submit_row = audit_rows(lms)
    assert register_row["principal"] == username
    assert register_row["operation"] == "RegisterCustomer"
    assert register_row["customer_number"] == CUSTOMER
    assert register_row["loan_id"] is None
    assert register_row["outcome"] == "OK"
    assert register_row["request_id"] == "req-register-1"
    assert register_row["authenticated"] is True
    assert submit_row["principal"] == username
    assert submit_row["operation"] == "SubmitLoan"
    assert submit_row["customer_number"] == CUSTOMER
    assert submit_row["loan_id"] == loan_id_of(submitted)
    assert submit_row["outcome"] == "OK"
    assert submit_row["request_id"] == "req-submit-1"
    assert submit_row["authenticated"] is True
    for row in (register_row, submit_row):
        assert isinstance(row["duration_ms"], int) and 0 <= row["duration_ms"] < 30_000
        assert row["at"] is not None


def test_a_faulted_submit_loan_records_its_faultcode(lms):
    response = call(lms, "SubmitLoan", submit_fields(UNREGISTERED), request_id="req-unregistered")

    assert faultcode(response) == "Client.CustomerNotRegistered"
    (row,) = audit_rows(lms)
    assert row["operation"] == "SubmitLoan"
    assert row["outcome"] == "Client.CustomerNotRegistered"
    assert row["customer_number"] == UNREGISTERED
    assert row["loan_id"] is None
    assert row["request_id"] == "req-unregistered"
    assert row["principal"] == lms.credentials("bank")[0]
    assert row["authenticated"] is True


def test_a_loan_in_progress_fault_records_the_ongoing_loan(lms):
    call(lms, "RegisterCustomer", customer_field(CUSTOMER))
    first = call(lms, "SubmitLoan", submit_fields(CUSTOMER))

    second = call(lms, "SubmitLoan", submit_fields(CUSTOMER, "500.00"), request_id="req-second")

    assert faultcode(second) == "Client.LoanInProgress"
    row = audit_rows(lms)[-1]
    assert (row["operation"], row["outcome"]) == ("SubmitLoan", "Client.LoanInProgress")
    assert row["loan_id"] == loan_id_of(first)
    assert row["request_id"] == "req-second"


@pytest.mark.parametrize("amount, code", [
    ("100.001", "Client.SchemaValidationError"),  # refused by Spyne's schema validation
    ("100000.01", "Client.AmountOutOfRange"),  # refused by the use case (LOAN_MAX_AMOUNT)
])
def test_refused_amounts_are_audited_with_their_faultcode(lms, amount, code):
    response = call(lms, "SubmitLoan", submit_fields(CUSTOMER, amount), request_id="req-amount")

    assert faultcode(response) == code
    (row,) = audit_rows(lms)
    assert (row["operation"], row["outcome"], row["request_id"]) == ("SubmitLoan", code, "req-amount")
    assert row["authenticated"] is True


@pytest.mark.parametrize("scheme", ["basic", "wsse"])
def test_a_failed_authentication_is_audited_without_any_secret(lms, scheme):
    username, secret = lms.credentials("bank")
    wrong = "Wr0ng-" + secret[::-1]
    if scheme == "basic":
        response = post(lms.url, envelope("GetCustomer", customer_field(CUSTOMER)),
                        {**basic(username, wrong), "X-Request-ID": "req-bad-auth"})
    else:
        body = envelope("GetCustomer", customer_field(CUSTOMER), header=wsse_header(username, wrong))
        response = post(lms.url, body, {"X-Request-ID": "req-bad-auth"})

    assert faultcode(response) == "Client.AuthenticationFailed"
    (row,) = audit_rows(lms)  # a read operation, but failed authentications are always recorded
    assert row["authenticated"] is False
    assert row["outcome"] == "Client.AuthenticationFailed"
    assert row["operation"] == "GetCustomer"
    assert row["request_id"] == "req-bad-auth"
    assert row["principal"] in (None, username)
    for value in row.values():
        text = str(value)
        assert wrong not in text and secret not in text
        assert basic(username, wrong)["Authorization"].split()[1] not in text


def test_missing_credentials_are_audited_as_failed_authentication(lms):
    response = post(lms.url, envelope("SubmitLoan", submit_fields(CUSTOMER)), {"X-Request-ID": "req-anon"})

    assert faultcode(response) == "Client.AuthenticationFailed"
    (row,) = audit_rows(lms)
    assert (row["operation"], row["principal"], row["authenticated"]) == ("SubmitLoan", None, False)
    assert row["request_id"] == "req-anon"


def test_read_operations_add_no_row(lms):
    call(lms, "RegisterCustomer", customer_field(CUSTOMER))
    loan_id = loan_id_of(call(lms, "SubmitLoan", submit_fields(CUSTOMER)))
    before = audit_rows(lms)

    reads = [
        call(lms, "GetCustomer", customer_field(CUSTOMER)),
        call(lms, "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),
        call(lms, "GetLoanStatus", customer_field(CUSTOMER)),
        call(lms, "ListLoans", customer_field(CUSTOMER)),
        call(lms, "GetCustomer", customer_field("999999999")),  # a faulted read is still a read
    ]

    assert [r.status_code for r in reads] == [200, 200, 200, 200, 500]
    assert audit_rows(lms) == before


def test_the_response_echoes_x_request_id(lms):
    response = call(lms, "GetCustomer", customer_field(CUSTOMER), request_id="trace-abc.123:x-y")
    fault = call(lms, "SubmitLoan", submit_fields(UNREGISTERED), request_id="trace-fault-1")

    assert response.headers["X-Request-ID"] == "trace-abc.123:x-y"
    assert fault.status_code == 500
    assert fault.headers["X-Request-ID"] == "trace-fault-1"


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 65, "semi;colon"],
                         ids=["absent", "empty", "spaces", "too-long", "bad-char"])
def test_a_request_id_is_generated_when_absent_or_unusable(lms, sent):
    first = call(lms, "SubmitLoan", submit_fields(UNREGISTERED), request_id=sent)
    second = call(lms, "SubmitLoan", submit_fields(UNREGISTERED), request_id=sent)

    generated = [first.headers.get("X-Request-ID"), second.headers.get("X-Request-ID")]
    assert all(value and re.fullmatch(r"[A-Za-z0-9._:\-]{1,64}", value) for value in generated), generated
    assert generated[0] != generated[1]
    assert sent not in generated
    assert [row["request_id"] for row in audit_rows(lms)] == generated  # the log carries the same id
