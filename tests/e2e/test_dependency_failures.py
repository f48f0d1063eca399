"""Failing dependencies against real processes: the CBS, the scoring engine, Redis and PostgreSQL
going away (behind TCP proxies we cut), answering slowly, garbage, HTML 500s or SOAP faults.

One gunicorn LMS serves the whole module (starting one costs seconds); every dependency it uses
sits behind a switch the tests control:

    LMS --> TcpProxy --> CbsSwitch (the CBS simulator, healthy or built with a failure knob)
        --> TcpProxy --> EngineFront (the scoring simulator; chosen calls of chosen customers fail)
        --> TcpProxy --> the test Redis
        --> TcpProxy --> the test PostgreSQL (only when the test database is PostgreSQL)

Scoring runs in a real worker process (tests.support.processes.Worker) that reaches the engine
through the same proxy and the database and Redis directly. Each test restores every dependency
when it ends, and checks that every loan it got accepted ends in a final state, exactly once.
"""
from __future__ import annotations

import contextlib
import time

import pytest
import requests

# The checks of dependency_stack fail with pytest's detailed assertion messages, as if written here.
pytest.register_assert_rewrite("tests.e2e.dependency_stack")

from tests.e2e.dependency_stack import (TIMEOUT, assert_each_accepted_loan_settled_once,  # noqa: E402
                                        assert_fault, customer, field, readyz, register, rest_transactions,
                                        running_rig, status_of, submit, submit_fields, wait_final, wait_until)


@pytest.fixture(scope="module")
def rig(database_url, redis_url):
    with running_rig(database_url, redis_url) as rig:
        yield rig


@pytest.fixture(autouse=True)
def healthy(rig):
    """Every dependency healthy before and after each test, whatever the test did."""
    yield
    rig.restore()


# --- the Core Banking System ------------------------------------------------------------------
CBS_FAILURES = ("down", "slow", "garbage", "http500", "fault")


def test_core_banking_failures_store_nothing_and_loans_keep_working(rig):
    known = "700000101"
    register(rig, known)
    refreshed = rig.customer_row(known).kyc_refreshed_at
    accepted: dict[str, list[str]] = {}
    newcomers = {mode: f"7000002{i:02d}" for i, mode in enumerate(CBS_FAILURES)}
    for mode, newcomer in newcomers.items():
        outage = rig.cbs_proxy.down(refuse=True) if mode == "down" else contextlib.nullcontext()
        rig.cbs.mode = None if mode == "down" else mode
        with outage:
            started = time.monotonic()
            assert_fault(rig, rig.call("bank", "RegisterCustomer", customer(newcomer)),
                         "Server.CoreBankingUnavailable")
            assert time.monotonic() - started < 5 * TIMEOUT + 2, f"{mode}: the CBS timeout was not applied"
            # a registered customer's refresh fails the same way and keeps the stored snapshot
            assert_fault(rig, rig.call("bank", "RegisterCustomer", customer(known)),
                         "Server.CoreBankingUnavailable")
            assert_fault(rig, rig.call("scoring", "GetTransactions", customer(known)),
                         "Server.CoreBankingUnavailable")
            rest = rest_transactions(rig, known)
            assert rest.status_code == 503, (mode, rest.status_code, rest.text[:300])
            assert rest.headers["Content-Type"] == "application/json"
            assert rest.json()["faultcode"] == "Server.CoreBankingUnavailable"
            if mode == "down":
                # SubmitLoan works from the stored KYC snapshot: the CBS is not needed
                loan_id = submit(rig, known, accepted, request_id="cbs-down-1")
                assert field(rig.ok("bank", "GetCustomer", customer(known)), "loanId") == loan_id
                assert field(rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),
                             "status") == "PENDING"
        rig.cbs.mode = None
        assert rig.customer_row(newcomer) is None, f"{mode}: a customer was stored from a failed KYC call"
        assert rig.customer_row(known).kyc_refreshed_at == refreshed, f"{mode}: the KYC snapshot changed"

    # the CBS is back: the same calls succeed, without restarting anything
    # (on a loaded machine a healthy CBS may still answer past 0.5 s once: such a call is retried)
    response = rig.ok("bank", "RegisterCustomer", customer(newcomers["down"]), cbs_retries=2)
    assert field(response, "alreadyRegistered") == "false"
    response = rig.ok("bank", "RegisterCustomer", customer(known), cbs_retries=2)
    assert field(response, "alreadyRegistered") == "true"
    assert rig.customer_row(known).kyc_refreshed_at > refreshed
    rig.ok("scoring", "GetTransactions", customer(known), cbs_retries=2)
    rest = rest_transactions(rig, known, cbs_retries=2)
    assert rest.status_code == 200 and isinstance(rest.json(), list) and rest.json()
    # no worker ran: settle the loan ourselves
    rig.ok("bank", "CancelLoan", f"<tns:loanId>{accepted[known][0]}</tns:loanId>")
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- the scoring engine ---------------------------------------------------------------------------
def test_scoring_engine_down_fails_loans_cleanly_and_recovery_scores_them(rig):
    lost_early, held, recovers, later = "700000301", "700000302", "700000303", "700000304"
    register(rig, lost_early, held, recovers, later)
    accepted: dict[str, list[str]] = {}
    with rig.worker():
        # `held` gets its score token, then the engine keeps saying "not ready"
        rig.engine.rules[held] = ("query", "notready")
        held_loan = submit(rig, held, accepted)
        wait_until(lambda: rig.loan_row(held_loan).scoring_attempts >= 1, 15, "the first poll")

        with rig.engine_proxy.down():  # the engine goes away mid-scoring
            never_initiated = submit(rig, lost_early, accepted)
            rows = wait_final(rig, [never_initiated, held_loan])
            assert (status_of(rows[never_initiated]), rows[never_initiated].status_reason) == (
                "FAILED", "SCORING_UNAVAILABLE")
            assert rows[never_initiated].initiate_attempts == rig.stack.settings.scoring_max_initiate_attempts
            assert (status_of(rows[held_loan]), rows[held_loan].status_reason) == (
                "FAILED", "SCORING_TIMEOUT")
            assert rows[held_loan].scoring_attempts == rig.stack.settings.scoring_max_attempts

            # a loan whose first initiate fails, and the engine comes back before its last one
            midway = submit(rig, recovers, accepted)
            wait_until(lambda: rig.loan_row(midway).initiate_attempts >= 1, 15, "a failed initiate")
            assert status_of(rig.loan_row(midway)) == "PENDING"
        rig.engine.rules.clear()
        row = wait_final(rig, [midway])[midway]
        assert (status_of(row), row.status_reason) == ("DISBURSED", "AUTO_DISBURSED")
        history = rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{midway}</tns:loanId>")
        assert "SCORING_STARTED" in history.text

        # the engine is back: new loans, including those of customers whose loan failed, are approved
        again = [submit(rig, number, accepted) for number in (lost_early, held, later)]
        rows = wait_final(rig, again)
        assert all(status_of(r) == "DISBURSED" for r in rows.values()), {
            i: (status_of(r), r.status_reason) for i, r in rows.items()}
    assert_each_accepted_loan_settled_once(rig, accepted)


ENGINE_FAILURES = {  # customer -> (the call that fails, how), and the loan's expected end
    "700000401": (("initiate", "slow"), "SCORING_UNAVAILABLE"),
    "700000402": (("initiate", "garbage"), "SCORING_UNAVAILABLE"),
    "700000403": (("initiate", "http500"), "SCORING_UNAVAILABLE"),
    "700000404": (("query", "slow"), "SCORING_TIMEOUT"),
    "700000405": (("query", "garbage"), "SCORING_TIMEOUT"),
    "700000406": (("query", "http500"), "SCORING_TIMEOUT"),
}


def test_scoring_engine_slow_garbage_or_500_fails_loans_then_scores_new_ones(rig):
    control = "700000408"  # no failure: scored while the others' calls fail
    register(rig, control, *ENGINE_FAILURES)
    accepted: dict[str, list[str]] = {}
    for number, (rule, _) in ENGINE_FAILURES.items():
        rig.engine.rules[number] = rule
    with rig.worker():
        first = {number: submit(rig, number, accepted, request_id=f"eng-{number}-1")
                 for number in (*ENGINE_FAILURES, control)}
        rows = wait_final(rig, first.values(), timeout=45)
        for number, (rule, reason) in ENGINE_FAILURES.items():
            row = rows[first[number]]
            assert (status_of(row), row.status_reason) == ("FAILED", reason), (number, rule)
            if reason == "SCORING_UNAVAILABLE":
                assert row.initiate_attempts == rig.stack.settings.scoring_max_initiate_attempts
                assert row.scoring_attempts == 0
            else:
                assert row.scoring_attempts == rig.stack.settings.scoring_max_attempts
        assert status_of(rows[first[control]]) == "DISBURSED"
        # a repeated requestId answers the same (failed) loan: nothing is submitted twice
        repeat = rig.ok("bank", "SubmitLoan", submit_fields("700000401", request_id="eng-700000401-1"))
        assert field(repeat, "loanId") == first["700000401"] and field(repeat, "status") == "FAILED"

        rig.engine.rules.clear()  # the engine behaves again
        second = [submit(rig, number, accepted, request_id=f"eng-{number}-2") for number in ENGINE_FAILURES]
        rows = wait_final(rig, second)
        assert all(status_of(r) == "DISBURSED" for r in rows.values()), {
            i: (status_of(r), r.status_reason) for i, r in rows.items()}
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- Redis ------------------------------------------------------------------------------------
def test_redis_down_during_submit_accepts_the_loan_and_scores_it_once_back(rig):
    number = "700000501"
    register(rig, number)
    accepted: dict[str, list[str]] = {}
    assert readyz(rig).status_code == 200
    with rig.redis_proxy.down():
        ready = readyz(rig)
        assert ready.status_code == 503 and "redis: down" in ready.text, ready.text
        started = time.monotonic()
        loan_id = submit(rig, number, accepted, request_id="redis-down-1")
        assert time.monotonic() - started < 5, "SubmitLoan waited on the dead Redis"
        again = rig.ok("bank", "SubmitLoan", submit_fields(number, request_id="redis-down-1"))
        assert field(again, "loanId") == loan_id
    ready = readyz(rig)
    assert ready.status_code == 200, ready.text
    assert status_of(rig.loan_row(loan_id)) == "PENDING"  # its job was never queued: no one scored it
    with rig.worker():  # the reconciler finds the overdue loan and queues it
        row = wait_final(rig, [loan_id])[loan_id]
    assert status_of(row) == "DISBURSED"
    assert_each_accepted_loan_settled_once(rig, accepted)


# --- PostgreSQL -------------------------------------------------------------------------------
def test_postgresql_restart_answers_service_unavailable_then_recovers(rig):
    if rig.db_proxy is None:
        pytest.skip("the test database is SQLite (LMS_TEST_DB=sqlite or no PostgreSQL on :5432): "
                    "there is no database server to take away")
    number, other = "700000601", "700000602"
    register(rig, number, other)
    accepted: dict[str, list[str]] = {}
    loan_id = submit(rig, number, accepted)
    # pooled connections in every gunicorn worker
    for _ in range(4):
        rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")

    with rig.db_proxy.down():  # PostgreSQL "restarts": every connection dropped, none accepted
        # REST first: these credentials were last used long before (not in the 5 s cache)
        rest = requests.get(f"{rig.url}/api/v1/transactions/{number}", auth=rig.stack.creds["scoring"],
                            timeout=10)
        assert rest.status_code == 503 and rest.json()["faultcode"] == "Server.ServiceUnavailable", rest.text
        for role, operation, fields in (
                ("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>"),  # credentials cached
                ("bank", "ListLoans", customer(number)),
                ("bank", "SubmitLoan", submit_fields(other)),
                ("admin", "GetCustomer", customer(number)),  # credentials read from the database
                ("bank", "CancelLoan", f"<tns:loanId>{loan_id}</tns:loanId>")):
            started = time.monotonic()
            assert_fault(rig, rig.call(role, operation, fields), "Server.ServiceUnavailable")
            assert time.monotonic() - started < 5, f"{operation} waited on the dead database"
        ready = readyz(rig)
        assert ready.status_code == 503 and "database: down" in ready.text, ready.text

    # back, without restarting gunicorn: the very next requests succeed (pool_pre_ping)
    for _ in range(4):
        response = rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")
        assert field(response, "status") == "PENDING"
    assert readyz(rig).status_code == 200
    rig.ok("admin", "GetCustomer", customer(number))

    # a drop no request saw: the pooled connections die while idle, the server is back at once
    rig.db_proxy.cut()
    rig.db_proxy.restore()
    for _ in range(4):
        rig.ok("bank", "GetLoanStatus", f"<tns:loanId>{loan_id}</tns:loanId>")
    rig.ok("bank", "CancelLoan", f"<tns:loanId>{loan_id}</tns:loanId>")
    assert rig.loan_rows([other]) == []  # the SubmitLoan of the outage stored nothing
    assert_each_accepted_loan_settled_once(rig, accepted)
