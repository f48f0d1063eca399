"""The scoring pipeline: one step at a time, driven by jobs (and re-driven by the reconciler).

A step reads the loan and, if it is due, claims it in the database (a conditional update on the
loan's id, status and version that bumps the version and moves next_attempt_at to the end of a
lease), so of two concurrent steps exactly one calls the engine. It calls the engine outside any
transaction, then writes the outcome only if the loan has not moved on since its claim (a
cancellation meanwhile wins). The attempt counters and the next poll time live on the loan row,
so a lost job or a restarted worker loses nothing: the reconciler finds the overdue loan (a
crashed claimer's loan once its lease ends) and queues it again, and a duplicate job finds nothing
to do.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import errors
from . import servicing
from .decision import decide
from .loans import schedule_quietly
from .model import IN_SCORING, Loan, LoanStatus, cents_down
from .ports import Clock, JobQueue, ScoreResult, ScoringEngine, SecretBox, UnitOfWork
from .products import require_product

log = logging.getLogger(__name__)

#: A job that runs this early (clock skew between the scheduler and us) still counts as due.
DUE_TOLERANCE = timedelta(milliseconds=500)


@dataclass(frozen=True)
class ScoringPolicy:
    max_attempts: int = 8
    max_initiate_attempts: int = 5
    backoff_base: float = 1.0  # seconds
    backoff_max: float = 60.0  # seconds
    jitter: float = 0.2  # fraction of the delay added at random
    deadline: float = 1800.0  # seconds from the first attempt at the engine
    min_score: int | None = None
    #: Seconds a claimed step holds the loan: longer than any step can take (RQ kills a job after
    #: lms_soap.clients.rq_queue.JOB_TIMEOUT_SECONDS), so only a crashed claimer's loan is ever taken over.
    claim_lease: float = 120.0

    def delay(self, retry: int, rng: random.Random | None = None) -> timedelta:
        """Wait before retry number `retry` (1, 2, ...): base * 2**(retry-1) plus up to `jitter`
        more (so parallel loans spread out), never more than backoff_max."""
        seconds = self.backoff_base * (2 ** max(retry - 1, 0))
        seconds *= 1 + self.jitter * (rng or random).random()
        return timedelta(seconds=min(seconds, self.backoff_max))


@dataclass(frozen=True)
class _Outcome:
    score_token: str | None = None
    result: ScoreResult | None = None
    failure: str | None = None


def advance_scoring(loan_id: str, uow: UnitOfWork, engine: ScoringEngine, queue: JobQueue,
                    box: SecretBox, clock: Clock, policy: ScoringPolicy,
                    rng: random.Random | None = None) -> LoanStatus | None:
    """Run the loan's next scoring step if it is due. Returns the loan's status after the step,
    or None when there was nothing to do (not due, already moved on, or a concurrent step won)."""
    with uow:
        state = uow.loans.scoring_state(loan_id)
        if state is None or state.status not in IN_SCORING:
            return None
        now = clock.now()
        if state.next_attempt_at is not None and state.next_attempt_at > now + DUE_TOLERANCE:
            return None  # scheduled for later, or claimed by a running step: a duplicate
        status = state.status
        score_token, customer_number = state.scoring_token, state.customer_number
        registration = uow.registrations.get()
        client_token = box.decrypt(registration.token_ciphertext) if registration else None
        lease_end = now + timedelta(seconds=policy.claim_lease)
        if not uow.loans.claim_step(loan_id, state.version, status, lease_end, now):
            return None  # a concurrent step claimed it first
        claimed_version = state.version + 1
        try:
            uow.commit()
        except errors.Conflict:
            return None

    outcome = _call_engine(engine, status, customer_number, score_token, client_token)

    with uow:
        loan = uow.loans.get(loan_id)
        if loan is None or loan.version != claimed_version:
            return None  # moved on since the claim (cancelled, or failed past the deadline)
        now = clock.now()
        _apply(loan, outcome, now, policy, rng)
        if loan.status is LoanStatus.APPROVED:
            # In the decision's transaction: an autoDisburse product's loan is DISBURSED at once.
            servicing.approved(loan, require_product(uow, loan.product_code), now)
        try:
            uow.commit()
        except errors.Conflict:
            return None
    if loan.status in IN_SCORING:
        schedule_quietly(queue, loan.id, loan.next_attempt_at)
    return loan.status


def _call_engine(engine: ScoringEngine, status: LoanStatus, customer_number: str,
                 score_token: str | None, client_token: str | None) -> _Outcome:
    if client_token is None:
        return _Outcome(failure="the LMS is not registered with the scoring engine (ScoringRegister)")
    try:
        if status is LoanStatus.PENDING:
            return _Outcome(score_token=engine.initiate(customer_number, client_token))
        assert score_token is not None
        return _Outcome(result=engine.query_score(score_token, client_token))
    except errors.ScoringEngineUnavailable as exc:
        return _Outcome(failure=str(exc))


def _apply(loan: Loan, outcome: _Outcome, now: datetime, policy: ScoringPolicy,
           rng: random.Random | None) -> None:
    loan.updated_at = now
    if loan.status is LoanStatus.PENDING:
        if outcome.score_token:
            loan.scoring_token = outcome.score_token
            loan.transition(LoanStatus.SCORING, "SCORING_STARTED", now)
            loan.next_attempt_at = now + policy.delay(1, rng)  # the first poll
            return
        loan.initiate_attempts += 1
        log.info("loan %s: initiate failed (%d/%d): %s", loan.id, loan.initiate_attempts,
                 policy.max_initiate_attempts, outcome.failure)
        if loan.initiate_attempts >= policy.max_initiate_attempts:
            loan.transition(LoanStatus.FAILED, "SCORING_UNAVAILABLE", now)
        else:
            loan.next_attempt_at = now + policy.delay(loan.initiate_attempts, rng)
        return

    loan.scoring_attempts += 1
    if outcome.result is not None:
        status, reason = decide(loan.amount, outcome.result, policy.min_score)
        loan.score = outcome.result.score
        # decide() saw the engine's exact limit; the column (and limitAmount) keeps it rounded
        # DOWN to cents, so what is shown never exceeds what the engine granted.
        limit = outcome.result.limit_amount
        loan.limit_amount = None if limit is None else cents_down(limit)
        loan.exclusion = outcome.result.exclusion
        loan.exclusion_reason = outcome.result.exclusion_reason
        loan.transition(status, reason, now)
        return
    if outcome.failure:
        log.info("loan %s: queryScore failed (%d/%d): %s", loan.id, loan.scoring_attempts,
                 policy.max_attempts, outcome.failure)
    if loan.scoring_attempts >= policy.max_attempts:
        loan.transition(LoanStatus.FAILED, "SCORING_TIMEOUT", now)
    else:
        loan.next_attempt_at = now + policy.delay(loan.scoring_attempts + 1, rng)


@dataclass(frozen=True)
class ReconcileReport:
    requeued: int
    failed: int
    queue_down: bool = False


def reconcile(uow: UnitOfWork, queue: JobQueue, clock: Clock, policy: ScoringPolicy,
              grace: timedelta, batch: int = 500) -> ReconcileReport:
    """Fail loans past the overall deadline, then queue again every loan whose next step is overdue
    (its job was lost: Redis down or flushed, a worker killed, a claimer crashed)."""
    failed = fail_expired(uow, clock, policy, batch)
    with uow:
        due = [loan.id for loan in uow.loans.due_for_scoring(clock.now() - grace, batch)]
    requeued = 0
    for loan_id in due:
        try:
            queue.schedule_scoring(loan_id)
        except errors.QueueUnavailable:
            return ReconcileReport(requeued, failed, queue_down=True)
        requeued += 1
    return ReconcileReport(requeued, failed)


def fail_expired(uow: UnitOfWork, clock: Clock, policy: ScoringPolicy, batch: int = 500) -> int:
    """FAIL the loans still in scoring SCORING_DEADLINE after their first attempt at the engine.

    The deadline counts what the engine was given, not how long the loan waited for us: a loan
    that never reached the engine (Redis or every worker down) has no deadline running yet.
    Returns how many loans it failed."""
    now = clock.now()
    failed = 0
    with uow:
        expired = [loan.id for loan in
                   uow.loans.first_attempted_before(now - timedelta(seconds=policy.deadline), batch)]
    for loan_id in expired:
        with uow:
            loan = uow.loans.get(loan_id)
            if loan is None or loan.status not in IN_SCORING:
                continue
            reason = "SCORING_UNAVAILABLE" if loan.status is LoanStatus.PENDING else "SCORING_TIMEOUT"
            loan.transition(LoanStatus.FAILED, reason, clock.now())
            try:
                uow.commit()
                failed += 1
            except errors.Conflict:
                pass  # a step finished it meanwhile; the next pass sees the truth
    return failed


def run_due_steps(uow: UnitOfWork, engine: ScoringEngine, queue: JobQueue, box: SecretBox,
                  clock: Clock, policy: ScoringPolicy, batch: int = 100) -> int:
    """Take the next step of every loan due now, straight from the database (no job queue: the
    loan rows are the queue). Safe with several workers polling at once: each step claims its loan,
    so a loan another worker took is skipped. Returns how many loans were due."""
    with uow:
        due = [loan.id for loan in uow.loans.due_for_scoring(clock.now() + DUE_TOLERANCE, batch)]
    for loan_id in due:
        advance_scoring(loan_id, uow, engine, queue, box, clock, policy)
    return len(due)
