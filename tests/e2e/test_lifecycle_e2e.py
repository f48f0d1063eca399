"""The loan after approval through gunicorn, a real worker (its arrears and outbox threads), the CBS
and scoring simulators and a bank receiver at BANK_CALLBACK_URL: a fast product's loan goes
DISBURSED -> OVERDUE -> DEFAULTED -> WRITTEN_OFF in real time, and the bank is told each step.

The loan's product is a test-only copy of SANDBOX-FAST's shape with a shorter timetable (tenor
4 s, grace 1 s, default 3 s, write-off 6 s), so the walk takes seconds; SANDBOX-FAST itself is
checked to carry the contract's terms."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
import zeep.exceptions

from lms_soap.lending.lifecycle import ensure_product
from lms_soap.lending.products import SANDBOX_FAST
from lms_soap.sandbox.bank_receiver import BankReceiver
from tests.conftest import make_settings
from tests.support.servers import serve_wsgi

FAST = replace(SANDBOX_FAST, code="E2E-FAST", name="e2e fast arrears", tenor=timedelta(seconds=4),
               grace=timedelta(seconds=1), default_after=timedelta(seconds=3),
               write_off_after=timedelta(seconds=6), approval_validity=timedelta(seconds=30))
BORROWER, OTHER = "234774784", "397178638"  # both approved by the scoring simulator
WALK = ["APPROVED", "DISBURSED", "OVERDUE", "DEFAULTED", "WRITTEN_OFF"]


@pytest.fixture
def bank():
    receiver = BankReceiver()
    with serve_wsgi(receiver) as url:
        receiver.url = f"{url}/bank"
        yield receiver


@pytest.fixture
def e2e_settings(db, flushed_redis, cbs_url, scoring_sim, bank):
    """conftest's, with a 1 s arrears job, a quick outbox and the receiver as the bank."""
    return make_settings(db, flushed_redis, cbs_customer_url=f"{cbs_url}/service/customer",
                         cbs_transactions_url=f"{cbs_url}/service/transaction-data",
                         scoring_base_url=scoring_sim.url, arrears_interval=1.0, outbox_interval=0.5,
                         outbox_backoff_base=0.5, outbox_backoff_max=2.0, bank_callback_url=bank.url)


def fault_of(exc_info) -> str:
    return exc_info.value.code.split(":", 1)[-1]


def wait_for(read, done, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_a_fast_loan_walks_to_write_off_and_the_bank_is_told_each_step(stack, worker, bank):
    for product in (SANDBOX_FAST, FAST):
        ensure_product(product, stack.container.uow())
    client, admin = stack.zeep("bank"), stack.zeep("admin")

    sandbox = {p.code: p for p in client.service.ListProducts()}["SANDBOX-FAST"]
    assert (sandbox.tenor, sandbox.fee, sandbox.latePenalty, sandbox.graceDays, sandbox.defaultAfter,
            sandbox.writeOffAfter, sandbox.autoDisburse) == (
        timedelta(seconds=20), Decimal("7.5"), Decimal("5"), timedelta(seconds=5), timedelta(seconds=15),
        timedelta(seconds=60), True)  # the contract's terms

    for number in (BORROWER, OTHER):
        client.service.RegisterCustomer(customerNumber=number)
    loan_id = client.service.SubmitLoan(customerNumber=BORROWER, amount=Decimal("1000.00"),
                                        productCode="E2E-FAST").loanId

    def status():
        return client.service.GetLoanStatus(loanId=loan_id)

    disbursed = wait_for(status, lambda loan: loan.status not in ("PENDING", "SCORING", "APPROVED"))
    assert (disbursed.status, disbursed.productCode) == ("DISBURSED", "E2E-FAST")
    assert disbursed.dueDate - disbursed.disbursedAt == FAST.tenor
    with pytest.raises(zeep.exceptions.Fault) as refused:  # ongoing until written off
        client.service.SubmitLoan(customerNumber=BORROWER, amount=Decimal("10.00"))
    assert fault_of(refused) == "Client.LoanInProgress"

    overdue = wait_for(status, lambda loan: loan.status != "DISBURSED", timeout=20)
    assert overdue.status in ("OVERDUE", "DEFAULTED")
    charges = [(c.type, c.amount) for c in client.service.GetLoanStatement(loanId=loan_id).charges]
    assert charges == [("FEE", Decimal("75.00")), ("PENALTY", Decimal("50.00"))]  # 7.5 %, then 5 %
    client.service.RepayLoan(loanId=loan_id, amount=Decimal("60.00"), reference="PART-1")
    statement = client.service.GetLoanStatement(loanId=loan_id)
    part = statement.repayments[0].allocation
    assert (part.penalty, part.fee, part.principal) == (Decimal("50.00"), Decimal("10.00"), Decimal("0.00"))
    assert statement.allocationOrder == "PENALTIES, FEES, PRINCIPAL"
    assert statement.balances.totalOutstanding == Decimal("1065.00")

    written_off = wait_for(status, lambda loan: loan.status == "WRITTEN_OFF", timeout=20)
    assert written_off.status == "WRITTEN_OFF"
    assert [e.toStatus for e in written_off.history][-3:] == ["OVERDUE", "DEFAULTED", "WRITTEN_OFF"]
    client.service.RepayLoan(loanId=loan_id, amount=Decimal("100.00"), reference="RECOVERY-1")
    after = client.service.GetLoanStatement(loanId=loan_id)
    assert after.repayments[-1].recovery is True and after.balances.recovered == Decimal("100.00")
    with pytest.raises(zeep.exceptions.Fault) as in_arrears:
        client.service.SubmitLoan(customerNumber=BORROWER, amount=Decimal("10.00"))
    assert fault_of(in_arrears) == "Client.CustomerInArrears"

    standard = client.service.SubmitLoan(customerNumber=OTHER, amount=Decimal("500.00")).loanId
    other = wait_for(lambda: client.service.GetLoanStatus(loanId=standard), lambda loan: loan.status == "DISBURSED")
    assert (other.status, other.productCode) == ("DISBURSED", "STANDARD")
    assert other.dueDate - other.disbursedAt == timedelta(days=30)

    report = admin.service.GetPortfolioReport()
    lines = {line.status: line for line in report.statuses}
    assert set(lines) == {"DISBURSED", "WRITTEN_OFF"}
    assert (lines["DISBURSED"].count, lines["DISBURSED"].totalOutstanding) == (1, Decimal("500.00"))
    assert (lines["WRITTEN_OFF"].count, lines["WRITTEN_OFF"].totalOutstanding) == (
        1, after.balances.totalOutstanding)
    assert report.totalOutstanding == after.balances.totalOutstanding + Decimal("500.00")
    assert report.bookPrincipal == Decimal("500.00")
    assert [(p.days, p.ratio) for p in report.par] == [(1, 0), (30, 0), (90, 0)]
    with pytest.raises(zeep.exceptions.Fault) as bank_may_not:
        client.service.GetPortfolioReport()
    assert fault_of(bank_may_not) == "Client.NotAuthorized"

    def told(loan):
        return [e["status"] for e in bank.events if e["loanId"] == loan]

    assert wait_for(lambda: told(loan_id), lambda seen: len(seen) >= len(WALK), timeout=20) == WALK
    assert wait_for(lambda: told(standard), lambda seen: len(seen) >= 2, timeout=20) == ["APPROVED", "DISBURSED"]
    ids = [e["eventId"] for e in bank.events]
    assert len(ids) == len(set(ids)) == len(WALK) + 2  # one message per transition (duplicates dropped)
    last = [e for e in bank.events if e["loanId"] == loan_id][-1]
    assert (last["previousStatus"], last["loan"]["productCode"]) == ("DEFAULTED", "E2E-FAST")


def test_the_demos_lifecycle_part_walks_a_fast_loan_to_its_recovery(stack, worker, capsys):
    """`lms-soap demo`'s lifecycle steps (sandbox/demo_lifecycle.py), here on the faster product."""
    from lms_soap.sandbox.demo import DemoError, _say, _step
    from lms_soap.sandbox.demo_lifecycle import CUSTOMER, walk_lifecycle

    ensure_product(FAST, stack.container.uow())
    soap = stack.zeep("bank").service
    walk_lifecycle(soap, "e2e-demo", _step, _say, DemoError, product=FAST.code)
    out = capsys.readouterr().out
    for line in ("DISBURSED", "OVERDUE", "DEFAULTED", "WRITTEN_OFF", "charges FEE 75.00, PENALTY 50.00",
                 "repayment e2e-demo-part 100.00: penalty 50.00, fee 50.00, principal 0.00",
                 "Client.CustomerInArrears", f"customer {CUSTOMER} may borrow again"):
        assert line in out, out
    walk_lifecycle(soap, "e2e-demo-again", _step, _say, DemoError, product=FAST.code)  # it can run again
