"""The loan journey through gunicorn, a worker process, the CBS simulator and the scoring simulator."""
from __future__ import annotations

import concurrent.futures
from decimal import Decimal

import pytest
import zeep.exceptions
from redis import Redis
from sqlalchemy import create_engine, func, select

from lms_soap.models.tables import customers, loans, repayments
from tests.e2e.conftest import FINAL
from tests.support.processes import Worker
from tests.support.soap import basic, envelope, fault_detail, faultcode, post


def count(settings, table, *where) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        value = conn.execute(select(func.count()).select_from(table).where(*where)).scalar()
    engine.dispose()
    return value


def fault_of(exc_info) -> str:
    return exc_info.value.code.split(":", 1)[-1]


EXPECTED = {
    "234774784": ("DISBURSED", "AUTO_DISBURSED"),
    "318411216": ("REJECTED", "AMOUNT_ABOVE_LIMIT"),
    "340397370": ("REJECTED", "EXCLUDED"),
    "366585630": ("FAILED", "SCORING_TIMEOUT"),
    "397178638": ("DISBURSED", "AUTO_DISBURSED"),
}


def test_every_test_customer_reaches_its_decision(stack, worker):
    bank = stack.zeep("bank")
    submitted = {}
    for number in EXPECTED:
        bank.service.RegisterCustomer(customerNumber=number)
        submitted[number] = bank.service.SubmitLoan(customerNumber=number, amount=Decimal("1000.00"),
                                                    requestId=f"e2e-{number}").loanId
    final = stack.wait_final(bank, submitted.values())
    for number, loan_id in submitted.items():
        loan = final[loan_id]
        assert (loan.status, loan.statusReason) == EXPECTED[number], number
        if loan.status == "DISBURSED":
            assert loan.limitAmount >= loan.amount and loan.outstanding == Decimal("1000.00")
            assert loan.exclusion == "No Exclusion"
        if loan.status == "REJECTED":
            assert loan.score is not None
    # history: every transition, oldest first
    approved = final[submitted["234774784"]]
    assert [(e.fromStatus, e.toStatus) for e in approved.history] == [
        (None, "PENDING"), ("PENDING", "SCORING"), ("SCORING", "APPROVED"), ("APPROVED", "DISBURSED")]
    assert approved.outstanding == Decimal("1000.00")  # STANDARD: no fee
    failed = final[submitted["366585630"]]
    assert failed.scoringAttempts == stack.settings.scoring_max_attempts
    # after FAILED the customer may apply again
    again = bank.service.SubmitLoan(customerNumber="366585630", amount=Decimal("10.00"))
    assert again.status == "PENDING"


def test_one_ongoing_loan_cancel_and_repayment_free_the_customer(stack, worker):
    bank = stack.zeep("bank")
    bank.service.RegisterCustomer(customerNumber="234774784")
    first = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("300.00"))
    response = post(stack.url, envelope("SubmitLoan", "<tns:customerNumber>234774784</tns:customerNumber>"
                                        "<tns:amount>5.00</tns:amount>"), basic(*stack.creds["bank"]))
    assert faultcode(response) == "Client.LoanInProgress"
    assert fault_detail(response)["loanId"] == first.loanId
    cancelled = bank.service.CancelLoan(loanId=first.loanId, reason="customer changed their mind")
    assert cancelled.status == "CANCELLED"
    with pytest.raises(zeep.exceptions.Fault) as exc:
        bank.service.CancelLoan(loanId=first.loanId)
    assert fault_of(exc) == "Client.InvalidLoanState"

    second = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("300.00"))
    approved = stack.wait_final(bank, [second.loanId])[second.loanId]
    assert approved.status == "DISBURSED"
    with pytest.raises(zeep.exceptions.Fault) as exc:
        bank.service.RepayLoan(loanId=second.loanId, amount=Decimal("300.01"), reference="R-X")
    assert fault_of(exc) == "Client.AmountExceedsOutstanding"
    part = bank.service.RepayLoan(loanId=second.loanId, amount=Decimal("100.00"), reference="R-1")
    assert part.status == "DISBURSED" and part.outstanding == Decimal("200.00")
    repeat = bank.service.RepayLoan(loanId=second.loanId, amount=Decimal("100.00"), reference="R-1")
    assert repeat.outstanding == Decimal("200.00")  # same reference: idempotent
    closed = bank.service.RepayLoan(loanId=second.loanId, amount=Decimal("200.00"), reference="R-2")
    assert closed.status == "CLOSED" and closed.outstanding == Decimal("0.00")
    history = bank.service.GetLoanStatus(loanId=second.loanId).history
    assert [e.toStatus for e in history] == ["PENDING", "SCORING", "APPROVED", "DISBURSED", "CLOSED"]
    assert bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("50.00")).status == "PENDING"
    listed = bank.service.ListLoans(customerNumber="234774784", limit=2)
    assert listed.total == 3 and len(listed.loans) == 2
    assert bank.service.ListLoans(customerNumber="234774784", status="CANCELLED").total == 1


def test_idempotent_request_id(stack):
    bank = stack.zeep("bank")
    bank.service.RegisterCustomer(customerNumber="397178638")
    first = bank.service.SubmitLoan(customerNumber="397178638", amount=Decimal("20.00"), requestId="abc-1")
    again = bank.service.SubmitLoan(customerNumber="397178638", amount=Decimal("20.00"), requestId="abc-1")
    assert again.loanId == first.loanId
    with pytest.raises(zeep.exceptions.Fault) as exc:
        bank.service.SubmitLoan(customerNumber="397178638", amount=Decimal("21.00"), requestId="abc-1")
    assert fault_of(exc) == "Client.IdempotencyConflict"
    assert count(stack.settings, loans) == 1


def test_a_killed_worker_or_a_flushed_redis_loses_no_loan(stack):
    bank = stack.zeep("bank")
    numbers = ["234774784", "397178638", "700000001", "700000002"]
    ids = []
    with Worker(stack.settings) as worker:
        for number in numbers:
            bank.service.RegisterCustomer(customerNumber=number)
            ids.append(bank.service.SubmitLoan(customerNumber=number, amount=Decimal("100.00")).loanId)
        worker.kill()  # mid-scoring: some loans SCORING, jobs scheduled in Redis
    Redis.from_url(stack.settings.redis_url).flushdb()  # and every queued job is gone
    pending = [bank.service.GetLoanStatus(loanId=i).status for i in ids]
    assert any(status not in FINAL for status in pending)
    with Worker(stack.settings, reconcile_interval=0.5):  # a new worker reconciles from the database
        final = stack.wait_final(bank, ids)
    assert all(loan.status in FINAL for loan in final.values()), {i: l.status for i, l in final.items()}


def test_submit_while_redis_is_down_is_accepted_and_scored_later(e2e_settings):
    from tests.e2e.conftest import Stack
    from tests.support.processes import Gunicorn
    from tests.support.servers import free_port

    down = e2e_settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with Gunicorn(down, workers=1) as gunicorn:
        stack = Stack(down, gunicorn)
        bank = stack.zeep("bank")
        bank.service.RegisterCustomer(customerNumber="234774784")
        loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("100.00"))
        assert loan.status == "PENDING"
        with Worker(e2e_settings.replace(public_url=gunicorn.url), reconcile_interval=0.5):
            final = stack.wait_final(bank, [loan.loanId])[loan.loanId]
        assert final.status == "DISBURSED"
        stack.container.close()


def test_concurrent_submits_for_one_customer_make_exactly_one_loan(stack):
    bank = stack.zeep("bank")
    bank.service.RegisterCustomer(customerNumber="234774784")
    body = envelope("SubmitLoan", "<tns:customerNumber>234774784</tns:customerNumber><tns:amount>100.00</tns:amount>")
    headers = basic(*stack.creds["bank"])
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: post(stack.url, body, headers), range(32)))
    codes = [faultcode(a) for a in answers]
    assert codes.count(None) == 1, codes
    assert set(codes) - {None} == {"Client.LoanInProgress"}
    assert count(stack.settings, loans) == 1


def test_concurrent_registrations_and_repayments_make_one_record(stack, worker):
    bank = stack.zeep("bank")
    headers = basic(*stack.creds["bank"])
    register = envelope("RegisterCustomer", "<tns:customerNumber>234774784</tns:customerNumber>")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(stack.url, register, headers), range(8)))
    assert all(a.status_code == 200 for a in answers), [faultcode(a) for a in answers]
    assert count(stack.settings, customers) == 1

    loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("100.00"))
    assert stack.wait_final(bank, [loan.loanId])[loan.loanId].status == "DISBURSED"
    repay = envelope("RepayLoan", f"<tns:loanId>{loan.loanId}</tns:loanId><tns:amount>10.00</tns:amount>"
                                  "<tns:reference>PAY-1</tns:reference>")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(stack.url, repay, headers), range(8)))
    assert all(a.status_code == 200 for a in answers), [faultcode(a) for a in answers]
    assert count(stack.settings, repayments) == 1
    assert bank.service.GetLoanStatus(loanId=loan.loanId).outstanding == Decimal("90.00")


def test_the_worker_survives_redis_going_away(stack):
    """RQ's own loop quits when Redis goes away; our worker waits for Redis and carries on."""
    import time

    from tests.support.tcp_proxy import TcpProxy

    host_port = stack.settings.redis_url.split("//", 1)[1].split("/", 1)
    host, port = host_port[0].split(":")
    with TcpProxy(host, int(port)) as proxy:
        via_proxy = stack.settings.replace(
            redis_url=f"redis://127.0.0.1:{proxy.port}/{host_port[1]}")
        with Worker(via_proxy, reconcile_interval=0.5) as worker:
            time.sleep(1.0)
            proxy.cut()
            time.sleep(2.5)  # RQ's loop notices and quits; ours must not
            proxy.restore()
            assert worker.process.poll() is None, "the worker exited when Redis went away"
            bank = stack.zeep("bank")
            bank.service.RegisterCustomer(customerNumber="234774784")
            loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("100.00"))
            assert stack.wait_final(bank, [loan.loanId])[loan.loanId].status == "DISBURSED"
