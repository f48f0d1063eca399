"""The scoring pipeline (lending.scoring.advance_scoring) and the reconciler, driven step by step
the way the worker's jobs drive them, with a fake engine, queue and clock."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from lms_soap.lending import errors
from lms_soap.lending.loans import cancel_loan
from lms_soap.lending.model import LoanStatus as S
from lms_soap.lending.scoring import ReconcileReport, ScoringPolicy, advance_scoring, run_due_steps

from .fakes import score
from .world import CUSTOMER, OTHER, World

DOWN = errors.ScoringEngineUnavailable("HTTP 503 from the engine")


@pytest.fixture
def world() -> World:
    w = World()
    w.register(CUSTOMER)
    w.register(OTHER)
    w.register_scoring()
    return w


def seconds_until_next(world: World, loan_id: str) -> float:
    return (world.loan(loan_id).next_attempt_at - world.clock.now()).total_seconds()


def test_a_pending_loan_gets_a_score_token_and_its_first_poll_is_scheduled(world):
    loan = world.submit("1000.00")
    assert world.step(loan.id) is S.SCORING
    stored = world.loan(loan.id)
    assert stored.scoring_token == "score-token-1" and stored.status_reason == "SCORING_STARTED"
    assert world.engine.initiate_calls == [(CUSTOMER, "client-token-1")]  # the decrypted client-token
    assert 1.0 <= seconds_until_next(world, loan.id) <= 1.2
    assert world.queue.scheduled[-1] == (loan.id, stored.next_attempt_at)
    assert stored.events[-1].from_status is S.PENDING and stored.decided_at is None


def test_initiate_failures_back_off_then_fail_the_loan_as_unavailable(world):
    world.engine.unavailable = True
    loan = world.submit()
    waits = []
    for attempt in (1, 2):
        assert world.step_when_due(loan.id) is S.PENDING
        assert world.loan(loan.id).initiate_attempts == attempt
        waits.append(seconds_until_next(world, loan.id))
        assert world.queue.scheduled[-1] == (loan.id, world.loan(loan.id).next_attempt_at)
    # the first retry waits the base (1 s), then it doubles; jitter adds at most 20 %
    assert 1.0 <= waits[0] <= 1.2 and 2.0 <= waits[1] <= 2.4
    scheduled = len(world.queue.scheduled)
    assert world.step_when_due(loan.id) is S.FAILED
    stored = world.loan(loan.id)
    assert (stored.status_reason, stored.decided_at, stored.next_attempt_at) == (
        "SCORING_UNAVAILABLE", world.clock.now(), None)
    assert len(world.queue.scheduled) == scheduled  # nothing more to do
    assert world.submit("500.00").status is S.PENDING  # the customer may apply again


def test_initiate_recovers_after_a_failure(world):
    world.engine.initiate_answers[:] = [DOWN, "tok-A"]
    loan = world.submit()
    assert world.step_when_due(loan.id) is S.PENDING
    assert world.step_when_due(loan.id) is S.SCORING
    assert world.loan(loan.id).scoring_token == "tok-A"


def test_polls_that_are_not_ready_count_then_fail_the_loan_as_timed_out(world):
    loan = world.scoring_loan()
    for attempt in range(1, 4):
        assert world.step_when_due(loan.id) is S.SCORING
        assert world.loan(loan.id).scoring_attempts == attempt
    assert world.step_when_due(loan.id) is S.FAILED
    stored = world.loan(loan.id)
    assert (stored.status_reason, stored.scoring_attempts, stored.next_attempt_at) == (
        "SCORING_TIMEOUT", 4, None)
    assert world.engine.query_calls == [("score-token-1", "client-token-1")] * 4
    world.clock.advance(1)
    assert world.submit("1000.00").status is S.PENDING


def test_a_result_within_the_limit_approves_and_standard_disburses_with_the_whole_amount_outstanding(world):
    """Release 1.1: STANDARD says autoDisburse, so the approval and the disbursement are one step."""
    loan = world.scoring_loan("1500.00")
    world.engine.query_answers.append(score(score=710, limit="2000.00"))
    scheduled = len(world.queue.scheduled)
    assert world.step_when_due(loan.id) is S.DISBURSED
    stored = world.loan(loan.id)
    assert (stored.status_reason, stored.outstanding, stored.score, stored.limit_amount,
            stored.exclusion) == ("AUTO_DISBURSED", Decimal("1500.00"), 710, Decimal("2000.00"), "No Exclusion")
    assert [(e.to_status, e.reason) for e in stored.events[-2:]] == [
        (S.APPROVED, "WITHIN_LIMIT"), (S.DISBURSED, "AUTO_DISBURSED")]
    assert stored.due_date == world.clock.now() + timedelta(days=30)
    assert stored.decided_at == world.clock.now() and stored.scoring_attempts == 1
    assert len(world.queue.scheduled) == scheduled


@pytest.mark.parametrize("result, min_score, reason", [
    (score(limit="1000.00"), None, "AMOUNT_ABOVE_LIMIT"),
    (score(limit=None), None, "AMOUNT_ABOVE_LIMIT"),
    (score(exclusion="Blacklisted", reason="Bureau listing"), None, "EXCLUDED"),
    (score(score=400), 500, "SCORE_BELOW_MINIMUM"),
])
def test_a_result_outside_the_rules_rejects_with_the_reason(world, result, min_score, reason):
    world.scoring_policy = replace(world.scoring_policy, min_score=min_score)
    loan = world.scoring_loan("1500.00")
    world.engine.query_answers.append(result)
    assert world.step_when_due(loan.id) is S.REJECTED
    stored = world.loan(loan.id)
    assert (stored.status_reason, stored.outstanding) == (reason, None)
    assert (stored.exclusion, stored.exclusion_reason, stored.score) == (
        result.exclusion, result.exclusion_reason, result.score)


def test_a_step_that_is_not_due_yet_does_nothing(world):
    loan = world.scoring_loan()
    before, scheduled = world.loan(loan.id), list(world.queue.scheduled)
    assert world.step(loan.id) is None
    assert world.loan(loan.id) == before and world.queue.scheduled == scheduled
    assert world.engine.query_calls == []


def test_a_job_a_little_early_still_counts_as_due(world):
    loan = world.scoring_loan()
    world.clock.set(world.loan(loan.id).next_attempt_at - timedelta(milliseconds=200))
    assert world.step(loan.id) is S.SCORING and world.loan(loan.id).scoring_attempts == 1


def test_a_duplicate_job_polls_once(world):
    loan = world.scoring_loan()
    world.clock.set(world.loan(loan.id).next_attempt_at)
    assert world.step(loan.id) is S.SCORING
    assert world.step(loan.id) is None  # the same job delivered twice
    assert world.loan(loan.id).scoring_attempts == 1 and len(world.engine.query_calls) == 1


def test_a_cancelled_loan_is_left_alone(world):
    loan = world.scoring_loan()
    cancel_loan(loan.id, None, world.uow, world.clock)
    world.clock.advance(60)
    assert world.step(loan.id) is None
    assert world.loan(loan.id).status is S.CANCELLED and world.engine.query_calls == []


def test_a_loan_cancelled_while_the_engine_answers_stays_cancelled(world):
    loan = world.scoring_loan()

    def cancel_meanwhile():
        cancel_loan(loan.id, "too slow", world.uow.sibling(), world.clock)
        return score()

    world.engine.query_answers.append(cancel_meanwhile)
    scheduled = list(world.queue.scheduled)
    assert world.step_when_due(loan.id) is None
    stored = world.loan(loan.id)
    assert (stored.status, stored.status_reason, stored.outstanding) == (S.CANCELLED, "too slow", None)
    assert world.queue.scheduled == scheduled


def test_engine_errors_while_polling_count_as_attempts(world):
    loan = world.scoring_loan()
    world.engine.query_answers[:] = [DOWN, DOWN, score()]
    assert world.step_when_due(loan.id) is S.SCORING
    assert world.step_when_due(loan.id) is S.SCORING
    assert world.loan(loan.id).scoring_attempts == 2
    assert world.step_when_due(loan.id) is S.DISBURSED


def test_an_engine_failing_on_every_poll_times_the_loan_out(world):
    loan = world.scoring_loan()
    world.engine.unavailable = True
    statuses = [world.step_when_due(loan.id) for _ in range(4)]
    assert statuses == [S.SCORING] * 3 + [S.FAILED]
    assert world.loan(loan.id).status_reason == "SCORING_TIMEOUT"


def test_without_a_scoring_registration_every_step_is_a_failure():
    world = World()
    world.register(CUSTOMER)
    loan = world.submit()
    statuses = [world.step_when_due(loan.id) for _ in range(3)]
    assert statuses == [S.PENDING, S.PENDING, S.FAILED]
    assert world.loan(loan.id).status_reason == "SCORING_UNAVAILABLE"
    assert world.engine.initiate_calls == []


def test_an_unknown_loan_is_nothing_to_do(world):
    assert world.step("LN-NOT-THERE") is None


# --- back-off ---------------------------------------------------------------------------
def test_back_off_doubles_and_is_capped_without_jitter():
    policy = ScoringPolicy(backoff_base=1.5, backoff_max=10.0, jitter=0.0)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [1.5, 3.0, 6.0, 10.0, 10.0, 10.0]


def test_jitter_adds_at_most_its_fraction_and_is_reproducible_with_a_seed():
    policy = ScoringPolicy(backoff_base=1.0, backoff_max=8.0, jitter=0.2)
    rng = random.Random(99)
    delays = [policy.delay(n % 5 + 1, rng).total_seconds() for n in range(200)]
    for n, delay in enumerate(delays):
        plain = min(2 ** (n % 5), 8)
        assert plain <= delay <= min(plain * 1.2, 8)  # the cap holds, jitter included
    assert len({round(d, 9) for d in delays}) > 100  # it does vary
    again = random.Random(99)
    assert delays == [policy.delay(n % 5 + 1, again).total_seconds() for n in range(200)]


def test_the_waits_between_polls_grow_until_the_cap(world):
    world.scoring_policy = replace(world.scoring_policy, max_attempts=8, jitter=0.0)
    loan = world.scoring_loan()
    waits = [seconds_until_next(world, loan.id)]
    for _ in range(6):
        world.step_when_due(loan.id)
        waits.append(seconds_until_next(world, loan.id))
        assert world.queue.scheduled[-1] == (loan.id, world.loan(loan.id).next_attempt_at)
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]


def test_a_step_with_the_queue_down_is_kept_and_found_again_by_the_reconciler(world):
    loan = world.scoring_loan()
    world.queue.unavailable = True
    assert world.step_when_due(loan.id) is S.SCORING
    assert world.loan(loan.id).scoring_attempts == 1  # the step itself is committed
    world.queue.unavailable = False
    world.queue.scheduled.clear()
    world.clock.set(world.loan(loan.id).next_attempt_at + timedelta(seconds=11))
    assert world.reconcile(grace_seconds=10).requeued == 1
    assert world.queue.scheduled == [(loan.id, None)]
    world.engine.query_answers.append(score())
    assert world.step(loan.id) is S.DISBURSED


# --- reconcile ----------------------------------------------------------------------------
def test_reconcile_requeues_only_loans_overdue_past_the_grace(world):
    pending = world.submit("1000.00", CUSTOMER)  # due at submission
    scoring = world.scoring_loan("1000.00", OTHER)  # first poll due in ~1 s
    world.queue.scheduled.clear()
    world.clock.advance(5)
    assert world.reconcile(grace_seconds=10).requeued == 0
    world.clock.advance(6)  # pending is 11 s overdue, scoring ~10 s
    report = world.reconcile(grace_seconds=10)
    assert (report.requeued, report.failed, report.queue_down) == (1, 0, False)
    assert world.queue.scheduled == [(pending.id, None)]
    world.clock.advance(2)
    assert world.reconcile(grace_seconds=10).requeued == 2
    assert world.queue.scheduled[1:] == [(pending.id, None), (scoring.id, None)]  # oldest due first


def test_reconcile_leaves_decided_loans_alone(world):
    world.disbursed_loan()
    world.queue.scheduled.clear()
    world.clock.advance(hours=1)
    assert world.reconcile() == ReconcileReport(requeued=0, failed=0, queue_down=False)
    assert world.queue.scheduled == []


def test_reconcile_fails_loans_past_the_deadline_counted_from_their_first_attempt(world):
    world.engine.initiate_answers.append(DOWN)
    pending = world.submit("1000.00", CUSTOMER)
    assert world.step(pending.id) is S.PENDING  # the engine was asked once, and failed
    scoring = world.scoring_loan("1000.00", OTHER)
    world.queue.unavailable = True  # their jobs were lost
    world.clock.advance(seconds=601)
    report = world.reconcile()
    assert (report.failed, report.requeued) == (2, 0)
    failed = {loan_id: (world.loan(loan_id).status, world.loan(loan_id).status_reason)
              for loan_id in (pending.id, scoring.id)}
    assert failed == {pending.id: (S.FAILED, "SCORING_UNAVAILABLE"),
                      scoring.id: (S.FAILED, "SCORING_TIMEOUT")}
    assert world.loan(scoring.id).decided_at == world.clock.now()


def test_reconcile_reports_the_queue_down_and_loses_nothing(world):
    loan = world.submit()
    world.clock.advance(60)
    world.queue.unavailable = True
    report = world.reconcile()
    assert (report.requeued, report.queue_down) == (0, True)
    assert world.loan(loan.id).status is S.PENDING
    world.queue.unavailable = False
    assert world.reconcile().requeued == 1


# --- the limit: the engine's exact value decides ---------------------------------------------
@pytest.mark.parametrize("limit, status, shown", [
    ("999.995", S.REJECTED, "999.99"), ("1000.004999", S.DISBURSED, "1000.00"),
    ("999.999999", S.REJECTED, "999.99"), ("1000", S.DISBURSED, "1000.00"),
])
def test_the_decision_uses_the_exact_limit_and_the_stored_limit_is_rounded_down(world, limit, status, shown):
    """A limit a fraction of a cent below the amount rejects it; what is stored (and shown in
    limitAmount, 2 fraction digits) never exceeds the engine's limit."""
    loan = world.scoring_loan("1000.00")
    world.engine.query_answers.append(score(limit=limit))
    assert world.step_when_due(loan.id) is status
    stored = world.loan(loan.id)
    assert str(stored.limit_amount) == shown and stored.limit_amount <= Decimal(limit)


# --- the deadline counts what the engine was given, not our own outage ----------------------
def test_a_loan_that_waited_through_our_outage_is_scored_when_we_are_back(world):
    """Redis or the worker down for longer than the deadline: the loan never reached the engine,
    so the first reconcile after the outage queues it instead of failing it."""
    world.queue.unavailable = True
    loan = world.submit()
    world.clock.advance(seconds=world.scoring_policy.deadline * 3)
    world.queue.unavailable = False
    report = world.reconcile()
    assert (report.failed, report.requeued) == (0, 1)
    assert world.step(loan.id) is S.SCORING
    world.engine.query_answers.append(score())
    assert world.step_when_due(loan.id) is S.DISBURSED


def test_the_deadline_runs_from_the_first_attempt_at_the_engine(world):
    world.clock.advance(seconds=5000)  # long after submission...
    loan = world.submit()
    world.clock.advance(seconds=5000)  # ...and a long wait for a worker
    world.engine.unavailable = True
    assert world.step(loan.id) is S.PENDING
    first_attempt = world.clock.now()
    assert world.loan(loan.id).first_attempt_at == first_attempt
    world.clock.set(first_attempt + timedelta(seconds=world.scoring_policy.deadline - 1))
    world.queue.unavailable = True  # its retry job was lost: only the deadline can end it
    assert world.reconcile().failed == 0
    assert world.step(loan.id) is S.PENDING and world.loan(loan.id).first_attempt_at == first_attempt
    world.clock.set(first_attempt + timedelta(seconds=world.scoring_policy.deadline + 1))
    assert world.reconcile().failed == 1
    assert (world.loan(loan.id).status, world.loan(loan.id).status_reason) == (S.FAILED, "SCORING_UNAVAILABLE")


# --- one step at a time: the claim ------------------------------------------------------------
def test_two_concurrent_steps_on_a_pending_loan_initiate_once(world):
    """The rival step claims the loan first (it commits while this one is about to claim): this
    one returns without calling the engine, so no score token is orphaned."""
    loan = world.submit()
    rival = {}
    world.uow.interleave(lambda other: rival.setdefault("status", advance_scoring(
        loan.id, other, world.engine, world.queue, world.box, world.clock, world.scoring_policy)))
    assert world.step(loan.id) is None
    assert rival["status"] is S.SCORING
    assert len(world.engine.initiate_calls) == 1
    assert world.loan(loan.id).scoring_token == "score-token-1"


def test_two_concurrent_polls_query_once(world):
    loan = world.scoring_loan()
    world.clock.set(world.loan(loan.id).next_attempt_at)
    world.uow.interleave(lambda other: advance_scoring(
        loan.id, other, world.engine, world.queue, world.box, world.clock, world.scoring_policy))
    assert world.step(loan.id) is None
    assert len(world.engine.query_calls) == 1 and world.loan(loan.id).scoring_attempts == 1


def test_a_step_started_while_another_holds_the_claim_does_nothing(world):
    loan = world.submit()
    seen = {}

    def meanwhile():  # a second job for the loan runs while the engine works for the first
        seen["status"] = advance_scoring(loan.id, world.uow.sibling(), world.engine, world.queue,
                                         world.box, world.clock, world.scoring_policy)
        return "tok-1"

    world.engine.initiate_answers.append(meanwhile)
    assert world.step(loan.id) is S.SCORING
    assert seen["status"] is None and len(world.engine.initiate_calls) == 1


class Crash(BaseException):
    """The worker dies mid-step (SIGKILL, out of memory): nothing after it runs."""


def test_a_crashed_claimer_blocks_the_loan_only_until_its_lease_ends(world):
    loan = world.submit()

    def crash():
        raise Crash()

    world.engine.initiate_answers.append(crash)
    with pytest.raises(Crash):
        world.step(loan.id)
    lease_end = world.loan(loan.id).next_attempt_at
    assert lease_end == world.clock.now() + timedelta(seconds=world.scoring_policy.claim_lease)
    world.queue.scheduled.clear()
    assert world.step(loan.id) is None  # claimed: a duplicate job finds nothing to do
    assert world.reconcile(grace_seconds=10).requeued == 0
    world.clock.set(lease_end + timedelta(seconds=11))
    assert world.reconcile(grace_seconds=10).requeued == 1  # the reconciler picks it up
    assert world.step(loan.id) is S.SCORING
    assert len(world.engine.initiate_calls) == 2


# --- without a queue: the worker takes due steps from the database -----------------------------
def test_run_due_steps_steps_every_due_loan_once_and_leaves_the_others(world):
    pending = world.submit("1000.00", CUSTOMER)  # due now
    polling = world.scoring_loan("1000.00", OTHER)  # first poll due in about a second
    world.engine.initiate_calls.clear()
    due = run_due_steps(world.uow, world.engine, world.queue, world.box, world.clock, world.scoring_policy)
    assert due == 1 and world.loan(pending.id).status is S.SCORING
    assert world.engine.query_calls == [] and len(world.engine.initiate_calls) == 1
    world.clock.advance(seconds=2)  # both first polls are due now
    world.engine.query_answers[:] = [score(), score()]
    assert run_due_steps(world.uow, world.engine, world.queue, world.box, world.clock,
                         world.scoring_policy) == 2
    assert {world.loan(i).status for i in (pending.id, polling.id)} == {S.DISBURSED}
    assert len(world.engine.query_calls) == 2
