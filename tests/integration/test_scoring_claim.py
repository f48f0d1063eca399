"""Concurrent scoring steps against the real database: the claim (a conditional UPDATE on the
loan's id, status and version) lets exactly one of them call the engine."""
from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from lms_soap.bootstrap import build_container
from lms_soap.lending.customers import register_customer
from lms_soap.lending.loans import submit_loan
from lms_soap.lending.model import Caller, LoanStatus, Role
from lms_soap.lending.registration import register_with_scoring_engine
from lms_soap.lending.scoring import advance_scoring
from tests.conftest import make_settings
from tests.unit.fakes import FakeCoreBanking, FakeJobQueue, FakeScoringEngine, kyc

CUSTOMERS = ["234774784", "318411216", "340397370"]
STEPS = 6  # concurrent steps per loan


class SlowEngine(FakeScoringEngine):
    """Takes a moment per call, as a real engine does, so that the steps overlap."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def initiate(self, customer_number, client_token):
        with self.lock:
            token = super().initiate(customer_number, client_token)
        time.sleep(0.2)
        return token

    def query_score(self, score_token, client_token):
        with self.lock:
            result = super().query_score(score_token, client_token)
        time.sleep(0.2)
        return result


@pytest.fixture
def container(db):
    engine = SlowEngine()
    c = build_container(make_settings(db), cbs=FakeCoreBanking([kyc(n) for n in CUSTOMERS]),
                        scoring_engine=engine, queue=FakeJobQueue())
    register_with_scoring_engine("lms-test", "http://lms.test/tx", c.uow(), engine, c.box, c.clock,
                                 generate_secret=lambda: "s3cret-s3cret-s3cret")
    yield c
    c.close()


def race(container, loan_id: str) -> list:
    barrier = threading.Barrier(STEPS)
    results = []

    def step():
        barrier.wait()
        results.append(advance_scoring(loan_id, container.uow(), container.scoring_engine, container.queue,
                                       container.box, container.clock, container.scoring_policy))

    threads = [threading.Thread(target=step) for _ in range(STEPS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_steps_on_a_pending_loan_initiate_once(container):
    caller = Caller("bank-a", Role.BANK)
    loan_ids = []
    for number in CUSTOMERS:
        register_customer(number, container.uow(), container.cbs, container.clock)
        loan_ids.append(submit_loan(number, Decimal("100.00"), None, container.uow(), container.queue,
                                    container.clock, container.loan_policy, caller=caller).id)
    for loan_id in loan_ids:
        results = race(container, loan_id)
        assert sorted(results, key=str) == [LoanStatus.SCORING] + [None] * (STEPS - 1)
    assert sorted(n for n, _ in container.scoring_engine.initiate_calls) == sorted(CUSTOMERS)
    for loan_id in loan_ids:  # each loan holds the one token the engine gave out for it
        with container.uow() as uow:
            loan = uow.loans.get(loan_id)
            assert loan.status is LoanStatus.SCORING and loan.first_attempt_at is not None
            tokens = {f"score-token-{i + 1}" for i in range(len(CUSTOMERS))}
            assert loan.scoring_token in tokens


def test_concurrent_polls_of_a_loan_in_scoring_query_once(container):
    register_customer(CUSTOMERS[0], container.uow(), container.cbs, container.clock)
    loan = submit_loan(CUSTOMERS[0], Decimal("100.00"), None, container.uow(), container.queue,
                       container.clock, container.loan_policy, caller=Caller("bank-a", Role.BANK))
    assert race(container, loan.id).count(LoanStatus.SCORING) == 1
    with container.uow() as uow:
        due = uow.loans.get(loan.id).next_attempt_at
    while container.clock.now() < due:
        time.sleep(0.05)
    results = race(container, loan.id)
    assert results.count(None) == STEPS - 1 and len(container.scoring_engine.query_calls) == 1
    with container.uow() as uow:
        assert uow.loans.get(loan.id).scoring_attempts == 1


def test_of_two_claims_on_one_version_the_second_waits_and_loses(container):
    """The database's own answer, without the use case: the second conditional UPDATE waits for
    the first transaction and then finds the version moved on."""
    register_customer(CUSTOMERS[0], container.uow(), container.cbs, container.clock)
    loan = submit_loan(CUSTOMERS[0], Decimal("100.00"), None, container.uow(), container.queue,
                       container.clock, container.loan_policy, caller=Caller("bank-a", Role.BANK))
    now = container.clock.now()
    second = {}
    with container.uow() as first:
        assert first.loans.claim_step(loan.id, loan.version, LoanStatus.PENDING, now, now)

        def rival():
            with container.uow() as uow:
                second["won"] = uow.loans.claim_step(loan.id, loan.version, LoanStatus.PENDING, now, now)
                uow.commit()

        thread = threading.Thread(target=rival)
        thread.start()
        thread.join(0.5)  # it is blocked on the first transaction's row lock
        first.commit()
    thread.join(20)
    assert second == {"won": False}
    with container.uow() as uow:
        assert uow.loans.get(loan.id).version == loan.version + 1
