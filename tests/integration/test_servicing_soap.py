"""The SOAP surface of the loan after approval (ListProducts, SubmitLoan's productCode,
ConfirmDisbursement, GetLoanStatement, WriteOffLoan, GetPortfolioReport) through a real HTTP server
and the real database, on a fake clock; every answer validates against the published WSDL."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from lxml import etree

from lms_soap.app import create_app
from lms_soap.bootstrap import build_container
from lms_soap.crypto import generate_secret
from lms_soap.lending import servicing
from lms_soap.lending.api_clients import add_client
from lms_soap.lending.customers import register_customer
from lms_soap.lending.lifecycle import ensure_product, run_arrears
from lms_soap.lending.model import Loan, LoanStatus, Role
from lms_soap.lending.products import SANDBOX_FAST
from tests.conftest import make_settings
from tests.support.servers import free_port, serve_wsgi
from tests.support.soap import TNS, basic, envelope, faultcode, post, validate_body
from tests.unit.fakes import FakeClock, FakeCoreBanking, FakeJobQueue, FakeScoringEngine, kyc

CUSTOMERS = ["80000001", "80000002", "80000003"]
#: SANDBOX-FAST, but waiting for ConfirmDisbursement.
MANUAL = replace(SANDBOX_FAST, code="MANUAL-FAST", auto_disburse=False)
NS = {"t": TNS}


class Service:
    def __init__(self, url, container, wsdl):
        self.url, self.container, self.wsdl = url, container, wsdl
        c = container
        self.auth = {}
        for role in ("bank", "admin"):
            client, secret = add_client(f"svc-{role}", Role(role), c.uow(), c.box, c.clock, generate_secret)
            self.auth[role] = basic(client.username, secret)

    def call(self, operation, fields="", role="bank"):
        response = post(self.url, envelope(operation, fields), self.auth[role])
        validate_body(self.wsdl, response.content)
        return response

    def ok(self, operation, fields="", role="bank") -> etree._Element:
        response = self.call(operation, fields, role)
        assert response.status_code == 200, response.text
        return etree.fromstring(response.content).find(f".//{{{TNS}}}{operation}Response")


@pytest.fixture
def svc(db):
    clock = FakeClock()
    port = free_port()
    settings = make_settings(db, public_url=f"http://127.0.0.1:{port}")
    container = build_container(settings, cbs=FakeCoreBanking([kyc(n) for n in CUSTOMERS]),
                                scoring_engine=FakeScoringEngine(), queue=FakeJobQueue(), clock=clock)
    for product in (SANDBOX_FAST, MANUAL):
        ensure_product(product, container.uow())
    app = create_app(settings, container)
    with serve_wsgi(app, port=port) as url:
        yield Service(url, container, app.wsdl)
    container.close()


def approved_loan(svc, customer, product) -> Loan:
    """A loan as scoring leaves it (approved; disbursed at once if the product says so)."""
    c, now = svc.container, svc.container.clock.now()
    register_customer(customer, c.uow(), c.cbs, c.clock)
    loan = Loan.submit(customer, Decimal("1000.00"), "KES", None, now, product_code=product.code)
    loan.transition(LoanStatus.SCORING, "SCORING_STARTED", now)
    loan.transition(LoanStatus.APPROVED, "WITHIN_LIMIT", now)
    servicing.approved(loan, product, now)
    with c.uow() as uow:
        uow.loans.add(loan)
        uow.commit()
    return loan


def text(element, path):
    return element.findtext(path, namespaces=NS)


def test_list_products_gives_the_terms_with_durations(svc):
    products = {text(p, "t:code"): p for p in svc.ok("ListProducts").findall("t:products", NS)}
    assert {"STANDARD", "SANDBOX-FAST", "MANUAL-FAST"} <= set(products)
    fast = products["SANDBOX-FAST"]
    assert [text(fast, f"t:{name}") for name in ("tenor", "fee", "latePenalty", "graceDays", "defaultAfter",
                                                 "writeOffAfter", "autoDisburse")] == \
        ["PT20S", "7.5", "5", "PT5S", "PT15S", "PT1M", "true"]
    assert text(products["STANDARD"], "t:tenor") == "P30D"


def test_submit_loan_names_a_product_and_an_unknown_one_is_refused(svc):
    register_customer(CUSTOMERS[0], svc.container.uow(), svc.container.cbs, svc.container.clock)
    fields = f"<tns:customerNumber>{CUSTOMERS[0]}</tns:customerNumber><tns:amount>500.00</tns:amount>"
    refused = svc.call("SubmitLoan", fields + "<tns:productCode>NO-SUCH</tns:productCode>")
    assert faultcode(refused) == "Client.ProductNotFound"
    too_much = svc.call("SubmitLoan", fields.replace("500.00", "200000.00")
                        + "<tns:productCode>SANDBOX-FAST</tns:productCode>")
    assert faultcode(too_much) == "Client.AmountOutOfRange"
    loan = svc.ok("SubmitLoan", fields + "<tns:productCode>SANDBOX-FAST</tns:productCode>").find("t:loan", NS)
    assert (text(loan, "t:status"), text(loan, "t:productCode")) == ("PENDING", "SANDBOX-FAST")
    assert loan.find("t:dueDate", NS) is None  # not disbursed yet
    other = CUSTOMERS[1]
    register_customer(other, svc.container.uow(), svc.container.cbs, svc.container.clock)
    default = svc.ok("SubmitLoan", fields.replace(CUSTOMERS[0], other)).find("t:loan", NS)
    assert text(default, "t:productCode") == "STANDARD"


def test_confirm_disbursement_sets_the_dates_and_charges_the_fee_once(svc):
    loan = approved_loan(svc, CUSTOMERS[0], MANUAL)
    fields = f"<tns:loanId>{loan.id}</tns:loanId><tns:reference>PAY-1</tns:reference>"
    first = svc.ok("ConfirmDisbursement", fields).find("t:loan", NS)
    again = svc.ok("ConfirmDisbursement", fields).find("t:loan", NS)
    for answer in (first, again):
        assert text(answer, "t:status") == "DISBURSED"
        assert text(answer, "t:outstanding") == "1075.00"  # 7.5 % fee
        assert (text(answer, "t:principalOutstanding"), text(answer, "t:feesOutstanding")) == ("1000.00", "75.00")
        assert text(answer, "t:disbursedAt") and text(answer, "t:dueDate")
    other = svc.call("ConfirmDisbursement", fields.replace("PAY-1", "PAY-2"))
    assert faultcode(other) == "Client.IdempotencyConflict"


def test_statement_write_off_recovery_and_portfolio(svc):
    clock = svc.container.clock
    loan = approved_loan(svc, CUSTOMERS[0], SANDBOX_FAST)
    clock.set(loan.due_date + SANDBOX_FAST.grace + timedelta(seconds=1))
    run_arrears(svc.container.uow(), clock)  # OVERDUE: 5 % penalty on 1000.00
    repay = f"<tns:loanId>{loan.id}</tns:loanId><tns:amount>80.00</tns:amount><tns:reference>R-1</tns:reference>"
    svc.ok("RepayLoan", repay)
    statement = svc.ok("GetLoanStatement", f"<tns:loanId>{loan.id}</tns:loanId>").find("t:statement", NS)
    assert text(statement, "t:loan/t:status") == "OVERDUE"
    assert text(statement, "t:allocationOrder") == "PENALTIES, FEES, PRINCIPAL"
    assert [(text(c, "t:type"), text(c, "t:amount")) for c in statement.findall("t:charges", NS)] == [
        ("FEE", "75.00"), ("PENALTY", "50.00")]
    (repayment,) = statement.findall("t:repayments", NS)
    assert [text(repayment, f"t:allocation/t:{k}") for k in ("penalty", "fee", "principal")] == \
        ["50.00", "30.00", "0.00"]
    assert text(repayment, "t:recovery") == "false"
    assert [text(statement, f"t:balances/t:{k}") for k in ("principalOutstanding", "feesOutstanding",
            "penaltiesOutstanding", "totalOutstanding", "recovered")] == \
        ["1000.00", "45.00", "0.00", "1045.00", "0.00"]

    write_off = f"<tns:loanId>{loan.id}</tns:loanId><tns:reason>UNREACHABLE</tns:reason>"
    assert faultcode(svc.call("WriteOffLoan", write_off, role="bank")) == "Client.NotAuthorized"
    written = svc.ok("WriteOffLoan", write_off, role="admin").find("t:loan", NS)
    assert (text(written, "t:status"), text(written, "t:statusReason")) == ("WRITTEN_OFF", "UNREACHABLE")
    svc.ok("RepayLoan", repay.replace("R-1", "R-2").replace("80.00", "45.00"))
    after = svc.ok("GetLoanStatement", f"<tns:loanId>{loan.id}</tns:loanId>").find("t:statement", NS)
    assert text(after.findall("t:repayments", NS)[1], "t:recovery") == "true"
    assert text(after, "t:balances/t:recovered") == "45.00"
    fields = f"<tns:customerNumber>{CUSTOMERS[0]}</tns:customerNumber><tns:amount>10.00</tns:amount>"
    assert faultcode(svc.call("SubmitLoan", fields)) == "Client.CustomerInArrears"

    other = approved_loan(svc, CUSTOMERS[1], SANDBOX_FAST)  # DISBURSED, due in 20 s
    assert faultcode(svc.call("GetPortfolioReport", role="bank")) == "Client.NotAuthorized"
    report = svc.ok("GetPortfolioReport", role="admin").find("t:report", NS)
    lines = {text(s, "t:status"): (text(s, "t:count"), text(s, "t:totalOutstanding"))
             for s in report.findall("t:statuses", NS)}
    assert lines == {"DISBURSED": ("1", "1075.00"), "WRITTEN_OFF": ("1", "1000.00")}
    assert text(report, "t:bookPrincipal") == "1000.00" and other.status is LoanStatus.DISBURSED
    assert [(text(p, "t:days"), text(p, "t:ratio")) for p in report.findall("t:par", NS)] == [
        ("1", "0.0000"), ("30", "0.0000"), ("90", "0.0000")]
    later = (clock.now() + timedelta(days=2)).isoformat()
    aged = svc.ok("GetPortfolioReport", f"<tns:asOf>{later}</tns:asOf>", role="admin").find("t:report", NS)
    assert text(aged.findall("t:par", NS)[0], "t:ratio") == "1.0000"  # the DISBURSED loan, 2 days late


def test_an_unknown_loan_is_loan_not_found(svc):
    fields = "<tns:loanId>LNNOSUCH</tns:loanId>"
    assert faultcode(svc.call("GetLoanStatement", fields)) == "Client.LoanNotFound"
    assert faultcode(svc.call("WriteOffLoan", fields + "<tns:reason>x</tns:reason>", role="admin")) == \
        "Client.LoanNotFound"


def test_an_indented_empty_request_is_accepted(svc):
    """SoapUI and other indenting clients put whitespace in ListProducts' empty wrapper."""
    body = envelope("ListProducts").replace(b"<tns:ListProducts></tns:ListProducts>",
                                            b"<tns:ListProducts>\n      </tns:ListProducts>")
    response = post(svc.url, body, svc.auth["bank"])
    assert response.status_code == 200, response.text
    validate_body(svc.wsdl, response.content)
