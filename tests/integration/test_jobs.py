"""The scoring jobs against real Redis and the database: each step schedules the next one and no
step is lost, whatever the back-off (no reconciler in these tests: the queue alone must carry)."""
from __future__ import annotations

import time
from decimal import Decimal

from rq import SimpleWorker

import lms_soap.clients.rq_queue as rq_queue
from jobs import context

FINAL = {"APPROVED", "DISBURSED", "REJECTED", "FAILED"}


def drain(container, seconds: float, loan_id: str) -> str:
    """Run burst workers (with RQ's scheduler) until the loan is decided or time runs out."""
    deadline = time.monotonic() + seconds
    queue = container.queue
    while time.monotonic() < deadline:
        SimpleWorker([queue.queue], connection=queue.redis).work(burst=True, with_scheduler=True)
        with container.uow() as uow:
            status = uow.loans.get(loan_id).status.value
        if status in FINAL:
            return status
        time.sleep(0.2)
    return status


def test_a_step_scheduled_by_a_running_job_outlives_that_job(flushed_redis):
    """The next poll is queued by the job that is still running. When that job finishes, RQ
    rewrites its record as FINISHED and lets it expire after RESULT_TTL_SECONDS; if both shared
    one id, a back-off longer than that TTL would silently lose the next poll."""
    from datetime import datetime, timedelta, timezone

    from redis import Redis
    from rq.job import Job

    redis = Redis.from_url(flushed_redis)
    queue = rq_queue.RqJobQueue(redis, "lms-test-ids")
    queue.schedule_scoring("LN1")  # the running step
    running = queue.queue.job_ids[0]
    later = datetime.now(timezone.utc) + timedelta(seconds=90)
    queue.schedule_scoring("LN1", later)  # queued by it, for after the TTL
    scheduled = queue.queue.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1 and scheduled[0] != running
    redis.delete(Job.key_for(running))  # the finished record of the running job expires
    assert Job.fetch(scheduled[0], connection=redis).args == ("LN1",)


def test_duplicate_jobs_for_one_loan_make_one_decision(lms):
    from lms_soap.bootstrap import build_container

    container = build_container(lms.settings)
    context.install(container)
    try:
        lms.register_scoring()
        bank = lms.zeep("bank")
        bank.service.RegisterCustomer(customerNumber="234774784")
        loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("10.00"))
        for _ in range(5):  # a reconciler gone wild
            container.queue.schedule_scoring(loan.loanId)
        assert drain(container, 20, loan.loanId) == "DISBURSED"
        history = bank.service.GetLoanStatus(loanId=loan.loanId).history
        assert [e.toStatus for e in history] == ["PENDING", "SCORING", "APPROVED", "DISBURSED"]
    finally:
        context.install(None)
        container.close()


def test_the_reconciler_queues_a_lost_step_again_but_not_one_still_waiting_in_the_queue(lms):
    """A backlog must not grow: a loan whose job waits behind others in RQ's queue is overdue
    too, and queueing it again would make the worker run it twice (each pass, for every loan
    waiting). A loan whose job is gone is queued again."""
    from lms_soap.bootstrap import build_container

    from jobs.reconciler import run_once

    container = build_container(lms.settings.replace(reconcile_grace=0.0))  # every PENDING loan is due
    try:
        bank = lms.zeep("bank")
        bank.service.RegisterCustomer(customerNumber="234774784")
        loan = bank.service.SubmitLoan(customerNumber="234774784", amount=Decimal("10.00"))
        queue = container.queue.queue
        waiting = queue.job_ids
        assert len(waiting) == 1  # SubmitLoan queued the first step; no worker runs
        time.sleep(0.01)  # its next_attempt_at is now in the past

        run_once(container)
        assert queue.job_ids == waiting  # still one job for the loan

        container.queue.redis.delete(queue.key)  # the job is lost (Redis flushed, say)
        report = run_once(container)
        assert report.requeued == 1 and len(queue.job_ids) == 1
        assert queue.fetch_job(queue.job_ids[0]).args == (loan.loanId,)
    finally:
        container.close()
