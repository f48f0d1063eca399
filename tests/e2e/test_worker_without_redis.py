"""REDIS_URL empty: gunicorn and `lms-soap worker` share only the database, and loans are scored
(the worker takes due steps straight from the loan rows), also with several workers at once."""
from __future__ import annotations

from decimal import Decimal

from tests.e2e.conftest import Stack
from tests.support.processes import Gunicorn, Worker

EXPECTED = {"234774784": ("DISBURSED", "AUTO_DISBURSED"), "318411216": ("REJECTED", "AMOUNT_ABOVE_LIMIT"),
            "700000001": ("DISBURSED", "AUTO_DISBURSED"), "700000002": ("DISBURSED", "AUTO_DISBURSED")}


def test_without_redis_the_worker_scores_loans_from_the_database(e2e_settings, scoring_sim):
    no_redis = e2e_settings.replace(redis_url="", worker_poll_interval=0.2)
    with Gunicorn(no_redis, workers=1) as gunicorn:
        stack = Stack(no_redis, gunicorn)
        try:
            bank = stack.zeep("bank")
            bank.service.RegisterCustomer(customerNumber="234774784")
            loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("1000.00"))
            assert loan.status == "PENDING"
            with Worker(stack.settings):
                final = stack.wait_final(bank, [loan.loanId])[loan.loanId]
            assert (final.status, final.statusReason) == ("DISBURSED", "AUTO_DISBURSED")
            assert [e.toStatus for e in final.history] == ["PENDING", "SCORING", "APPROVED", "DISBURSED"]
            assert gunicorn.child.process.poll() is None
        finally:
            stack.container.close()


def test_several_workers_without_redis_initiate_each_loan_once(e2e_settings, scoring_sim):
    no_redis = e2e_settings.replace(redis_url="", worker_poll_interval=0.1)
    with Gunicorn(no_redis, workers=1) as gunicorn:
        stack = Stack(no_redis, gunicorn)
        try:
            bank = stack.zeep("bank")
            initiations = scoring_sim.app.state()["initiations"]
            submitted = {}
            for number in EXPECTED:
                bank.service.RegisterCustomer(customerNumber=number)
                submitted[number] = bank.service.SubmitLoan(customerNumber=number,
                                                            amount=Decimal("1000.00")).loanId
            with Worker(stack.settings), Worker(stack.settings), Worker(stack.settings):
                final = stack.wait_final(bank, submitted.values())
            for number, loan_id in submitted.items():
                loan = final[loan_id]
                assert (loan.status, loan.statusReason) == EXPECTED[number], number
                assert [e.toStatus for e in loan.history].count("SCORING") == 1
            assert scoring_sim.app.state()["initiations"] - initiations == len(EXPECTED)
        finally:
            stack.container.close()
