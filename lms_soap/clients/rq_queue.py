"""The RQ side of the JobQueue port: queue the next scoring step of a loan, now or later."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

from redis import Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ReadOnlyError, RedisError
from redis.retry import Retry
from redis.sentinel import Sentinel
from rq import Queue

from lms_soap import correlation
from lms_soap.config import Settings
from lms_soap.lending import errors

log = logging.getLogger(__name__)

#: Seconds a scoring step may run before RQ kills it (covers the engine's connect + read timeouts).
JOB_TIMEOUT_SECONDS = 60
#: Seconds RQ keeps a finished job's result (the outcome that matters is the loan row).
RESULT_TTL_SECONDS = 60
#: Seconds a failed job stays in RQ's failed registry, for inspection only.
FAILURE_TTL_SECONDS = 24 * 3600
ADVANCE_JOB = "jobs.scoring.advance"
#: Retries of a Redis command that failed on a connection error when Sentinel is used (see build_redis).
SENTINEL_RETRIES = 1


def job_id_for(loan_id: str, at: datetime | None) -> str:
    """One id per loan and step time.

    Immediate re-queues of a loan (submit, reconciler passes) share one id, so they share one job
    record while no worker runs (each run after the first finds the loan not due: a no-op).
    A scheduled step gets its own id: it is
    queued by the job that is still running, and a shared id would let RQ overwrite it with the
    running job's FINISHED record (which expires after RESULT_TTL_SECONDS, before a long
    back-off ends), silently dropping the next poll.
    """
    if at is None:
        return f"scoring-{loan_id}-now"
    return f"scoring-{loan_id}-{int(at.timestamp() * 1000)}"


def loan_id_of(job_id: str) -> str | None:
    """The loan of a job id made by job_id_for, else None."""
    prefix, _, rest = job_id.partition("-")
    loan_id, _, _step = rest.rpartition("-")
    return loan_id if prefix == "scoring" and loan_id else None


class RqJobQueue:
    """Implements lending.ports.JobQueue on an RQ queue."""

    def __init__(self, redis: Redis, queue_name: str):
        self.redis = redis
        self.queue = Queue(queue_name, connection=redis)

    def schedule_scoring(self, loan_id: str, at: datetime | None = None) -> None:
        kwargs = dict(job_id=job_id_for(loan_id, at), job_timeout=JOB_TIMEOUT_SECONDS,
                      result_ttl=RESULT_TTL_SECONDS, failure_ttl=FAILURE_TTL_SECONDS)
        request_id = correlation.current()
        if request_id:  # the step runs under the correlation id of the request (or step) queueing it
            kwargs["request_id"] = request_id
        try:
            # One MULTI/EXEC for the whole enqueue: without a pipeline RQ's enqueue makes two
            # round-trips (the queue registry, then the job); the commands are the same.
            with self.redis.pipeline() as pipe:
                if at is None or at <= datetime.now(timezone.utc):
                    self.queue.enqueue(ADVANCE_JOB, loan_id, pipeline=pipe, **kwargs)
                else:
                    self.queue.enqueue_at(at, ADVANCE_JOB, loan_id, pipeline=pipe, **kwargs)
                pipe.execute()
        except RedisError as exc:
            raise errors.QueueUnavailable(f"redis: {type(exc).__name__}") from None

    def waiting_loan_ids(self) -> set[str]:
        """The loans with a step waiting in the queue (queued, no worker has taken it yet): one
        LRANGE. Empty when Redis does not answer (the enqueue that follows then says so)."""
        try:
            ids = self.queue.get_job_ids()
        except RedisError:
            return set()
        return {loan_id for loan_id in map(loan_id_of, ids) if loan_id}

    def depth(self) -> int:
        try:
            return self.queue.count + self.queue.scheduled_job_registry.count
        except RedisError:
            return -1


class NoJobQueue:
    """REDIS_URL is empty: there is no queue, and nothing needs one. The loan row already says when
    its next step is due (next_attempt_at, written before this is called), and `lms-soap worker`
    polls the database for due steps (jobs/poller.py). So scheduling is a no-op, not a failure."""

    def schedule_scoring(self, loan_id: str, at: datetime | None = None) -> None:
        return None

    def depth(self) -> int:
        return -1


def build_redis(settings: Settings) -> Redis:
    """A Redis client for REDIS_URL, or, when REDIS_SENTINELS is set, for the primary the
    Sentinels name (re-asked after every connection error, so a failover is followed)."""
    timeouts = dict(socket_connect_timeout=settings.redis_timeout, socket_timeout=settings.redis_timeout)
    if not settings.sentinel_addresses:
        return Redis.from_url(settings.redis_url, health_check_interval=30, **timeouts)
    return _sentinel_primary(settings, timeouts)


def _sentinel_primary(settings: Settings, timeouts: dict) -> Redis:
    url = urlsplit(settings.redis_url or "redis://")
    db = int(url.path.strip("/") or 0)
    # A Sentinel that does not answer is skipped at once (redis-py would retry each one with
    # back-off, for seconds per Sentinel, inside every retry of the command).
    sentinel = Sentinel(settings.sentinel_addresses, sentinel_kwargs={**timeouts, "retry": Retry(NoBackoff(), 0)},
                        **timeouts)
    # One retry of a failed command: after a failover the first command meets the old primary
    # (gone, or demoted: redis-py turns its READONLY answer into a ConnectionError and drops the
    # connection); the retry asks the Sentinels again and reaches the new primary.
    return sentinel.master_for(settings.redis_sentinel_master, db=db, password=url.password,
                               username=url.username, health_check_interval=30,
                               retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), SENTINEL_RETRIES),
                               retry_on_error=[ReadOnlyError], **timeouts)


def build_job_queue(settings: Settings) -> tuple[RqJobQueue | NoJobQueue, Redis | None]:
    if not settings.redis_url and not settings.sentinel_addresses:
        return NoJobQueue(), None
    redis = build_redis(settings)
    return RqJobQueue(redis, settings.queue_name), redis
