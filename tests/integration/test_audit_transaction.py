"""A write operation commits together with its audit row: no change without its row, no row lost
after a change; every refused call is recorded (reads and the REST endpoint included), and a
refusal keeps its own fault even when its row cannot be written."""
from __future__ import annotations

import logging

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from lms_soap.models.audit import SqlAuditLog
from lms_soap.models.tables import customers, loans
from tests.integration.test_audit import (
    CUSTOMER,
    audit_rows,
    call,
    customer_field,
    loan_id_of,
    submit_fields,
)
from tests.support.soap import faultcode

OTHER_CUSTOMER = "340397370"
FAIL_MESSAGE = "audit inserts fail in this test"


@pytest.fixture
def failing_audit(lms):
    """Every INSERT into audit_log fails in the database, as a full disk or a broken grant would."""
    engine = create_engine(lms.settings.database_url)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("CREATE FUNCTION test_audit_fails() RETURNS trigger LANGUAGE plpgsql AS "
                              f"$$ BEGIN RAISE EXCEPTION '{FAIL_MESSAGE}'; END $$"))
            conn.execute(text("CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit_log "
                              "FOR EACH ROW EXECUTE FUNCTION test_audit_fails()"))
        else:
            conn.execute(text("CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit_log "
                              f"BEGIN SELECT RAISE(ABORT, '{FAIL_MESSAGE}'); END"))
    yield
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("DROP TRIGGER test_audit_fails ON audit_log"))
            conn.execute(text("DROP FUNCTION test_audit_fails()"))
        else:
            conn.execute(text("DROP TRIGGER test_audit_fails"))
    engine.dispose()


def count(lms, table, *where) -> int:
    with lms.container.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def loan_status(lms, loan_id: str) -> str:
    with lms.container.engine.connect() as conn:
        status = conn.execute(select(loans.c.status).where(loans.c.id == loan_id)).scalar()
    return getattr(status, "value", status)


def test_a_customer_is_not_registered_when_its_audit_row_cannot_be_written(lms, failing_audit, caplog):
    caplog.set_level(logging.ERROR)

    response = call(lms, "RegisterCustomer", customer_field(CUSTOMER))

    assert faultcode(response) == "Server.InternalError"
    assert count(lms, customers) == 0
    assert "audit" in caplog.text


def test_no_loan_is_submitted_or_cancelled_without_its_audit_row(lms, request):
    call(lms, "RegisterCustomer", customer_field(CUSTOMER))
    call(lms, "RegisterCustomer", customer_field(OTHER_CUSTOMER))
    pending = loan_id_of(call(lms, "SubmitLoan", submit_fields(CUSTOMER)))
    request.getfixturevalue("failing_audit")

    cancel = call(lms, "CancelLoan", f"<tns:loanId>{pending}</tns:loanId>")
    submit = call(lms, "SubmitLoan", submit_fields(OTHER_CUSTOMER))

    assert faultcode(cancel) == faultcode(submit) == "Server.InternalError"
    assert loan_status(lms, pending) == "PENDING"
    assert count(lms, loans) == 1


def test_the_row_of_a_committed_change_survives_a_crash_after_the_commit(lms, monkeypatch):
    """Nothing written after the response (as if the process died once the change was committed):
    the change's own transaction carried its row."""
    monkeypatch.setattr(SqlAuditLog, "record", lambda self, entry: None)

    registered = call(lms, "RegisterCustomer", customer_field(CUSTOMER), request_id="req-register")
    submitted = call(lms, "SubmitLoan", submit_fields(CUSTOMER), request_id="req-submit")
    loan_id = loan_id_of(submitted)
    repaid_before_approval = call(lms, "RepayLoan", f"<tns:loanId>{loan_id}</tns:loanId>"
                                  "<tns:amount>1.00</tns:amount><tns:reference>r-1</tns:reference>")

    assert registered.status_code == submitted.status_code == 200
    assert faultcode(repaid_before_approval) == "Client.InvalidLoanState"
    rows = [(r["operation"], r["outcome"], r["request_id"], r["customer_number"], r["loan_id"])
            for r in audit_rows(lms)]
    assert rows == [("RegisterCustomer", "OK", "req-register", CUSTOMER, None),
                    ("SubmitLoan", "OK", "req-submit", CUSTOMER, loan_id)]
    assert all(r["principal"] == lms.credentials("bank")[0] and r["authenticated"] for r in audit_rows(lms))


def test_a_replayed_submit_loan_that_commits_nothing_is_still_recorded(lms):
    call(lms, "RegisterCustomer", customer_field(CUSTOMER))
    request = submit_fields(CUSTOMER) + "<tns:requestId>loan-1</tns:requestId>"
    first = loan_id_of(call(lms, "SubmitLoan", request, request_id="req-1"))
    again = loan_id_of(call(lms, "SubmitLoan", request, request_id="req-2"))

    assert first == again
    rows = [(r["operation"], r["outcome"], r["request_id"], r["loan_id"]) for r in audit_rows(lms)][1:]
    assert rows == [("SubmitLoan", "OK", "req-1", first), ("SubmitLoan", "OK", "req-2", first)]


@pytest.mark.parametrize("role, operation", [("scoring", "GetCustomer"), ("scoring", "ListLoans"),
                                             ("bank", "GetTransactions")])
def test_a_read_refused_for_the_callers_role_is_recorded(lms, role, operation):
    response = call(lms, operation, customer_field(CUSTOMER), request_id="req-refused", role=role)

    assert faultcode(response) == "Client.NotAuthorized"
    (row,) = audit_rows(lms)
    assert (row["operation"], row["outcome"], row["request_id"]) == (operation, "Client.NotAuthorized",
                                                                      "req-refused")
    assert (row["principal"], row["authenticated"]) == (lms.credentials(role)[0], True)


def rest(lms, auth, number=CUSTOMER):
    return requests.get(f"{lms.url}/api/v1/transactions/{number}", auth=auth, timeout=10,
                        headers={"X-Request-ID": "req-rest"})


def test_refused_rest_calls_are_recorded(lms):
    username, secret = lms.credentials("scoring")
    bank = lms.credentials("bank")

    answers = [rest(lms, (username, "Wr0ng-" + secret)), rest(lms, None), rest(lms, bank)]

    assert [a.status_code for a in answers] == [401, 401, 403]
    rows = [(r["operation"], r["outcome"], r["principal"], r["authenticated"], r["customer_number"])
            for r in audit_rows(lms)]
    assert rows == [
        ("REST:transactions", "Client.AuthenticationFailed", None, False, CUSTOMER),
        ("REST:transactions", "Client.AuthenticationFailed", None, False, CUSTOMER),
        ("REST:transactions", "Client.NotAuthorized", bank[0], True, CUSTOMER),
    ]
    assert all(r["request_id"] == "req-rest" for r in audit_rows(lms))
    assert all(secret not in str(value) for r in audit_rows(lms) for value in r.values())


def test_a_refusal_keeps_its_fault_when_its_audit_row_cannot_be_written(lms, failing_audit, caplog):
    caplog.set_level(logging.ERROR)

    soap = call(lms, "GetCustomer", customer_field(CUSTOMER), role="scoring")
    over_rest = rest(lms, lms.credentials("bank"))

    assert faultcode(soap) == "Client.NotAuthorized"
    assert over_rest.status_code == 403
    assert [r.levelname for r in caplog.records if "audit entry not written" in r.getMessage()] == ["ERROR"] * 2
