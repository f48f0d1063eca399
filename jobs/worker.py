"""`lms-soap worker`: an RQ worker (with its scheduler) for the scoring queue, plus the reconciler.
Without REDIS_URL it polls the database for due scoring steps instead (jobs/poller.py).

It uses RQ's SimpleWorker: jobs run in the worker process itself, without a fork per job, so
the engine, the HTTP pools and the WSDLs are built once and reused (a fork per job would cost
more than the job).
"""
from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested

from lms_soap.bootstrap import build_container
from lms_soap.config import Settings

from . import context
from .periodic import run_lifecycle_once, start_lifecycle_tasks, stop_all
from .poller import run_polling_worker
from lms_soap.clients.rq_queue import RqJobQueue
from .reconciler import PeriodicReconciler, run_once
from .rq_compat import shutdown_requested

log = logging.getLogger(__name__)

#: Seconds the worker waits before starting RQ again after Redis went away (doubling, capped).
REDIS_RETRY_MIN_SECONDS = 1.0
REDIS_RETRY_MAX_SECONDS = 30.0


def run_worker(settings: Settings, *, burst: bool = False, with_scheduler: bool = True,
               reconcile_interval: float | None = None) -> bool:
    container = build_container(settings)
    context.install(container)
    interval = settings.reconcile_interval if reconcile_interval is None else reconcile_interval
    # Arrears and the bank's notifications run beside either mode (a burst worker: one pass each).
    lifecycle = [] if burst else start_lifecycle_tasks(container)
    try:
        if burst:
            try:
                run_lifecycle_once(container)
            except Exception:  # noqa: BLE001 - a burst still takes its scoring steps
                log.exception("arrears/outbox pass failed")
        return _run_mode(container, settings, burst, with_scheduler, interval)
    finally:
        stop_all(lifecycle)


def _run_mode(container, settings: Settings, burst: bool, with_scheduler: bool, interval: float) -> bool:
    queue = container.queue
    if not isinstance(queue, RqJobQueue):  # no REDIS_URL: the loan rows are the queue
        try:
            return run_polling_worker(container, settings.worker_poll_interval, interval, burst=burst)
        finally:
            container.close()
    reconciler = None
    try:
        run_once(container)  # first, pick up whatever was lost while no worker ran
    except Exception:  # noqa: BLE001 - the database may still be starting; the loop retries
        log.exception("initial reconcile failed")
    if not burst and interval > 0:
        reconciler = PeriodicReconciler(container, interval)
        reconciler.start()
    try:
        if burst:
            return SimpleWorker([queue.queue], connection=queue.redis).work(
                burst=True, with_scheduler=with_scheduler, logging_level=settings.log_level)
        _work_until_stopped(queue, with_scheduler, settings.log_level)
        return True
    finally:
        if reconciler:
            reconciler.stop()
        container.close()


def _work_until_stopped(queue: RqJobQueue, with_scheduler: bool, logging_level: str) -> None:
    """RQ's work loop quits when Redis times out or goes away. A worker that then exited would
    need someone to restart it; this one waits for Redis and starts a fresh RQ worker instead
    (the reconciler thread keeps re-queueing from the database meanwhile)."""
    pause = REDIS_RETRY_MIN_SECONDS
    while True:
        worker = None
        try:
            worker = SimpleWorker([queue.queue], connection=queue.redis)  # asks Redis too
            worker.work(burst=False, with_scheduler=with_scheduler, logging_level=logging_level)
        except RedisError as exc:  # Redis down while the worker started or registered itself
            log.warning("redis unavailable (%s); retrying in %.0f s", type(exc).__name__, pause)
        # RQ's loop also ends on a warm shutdown (SIGTERM/SIGINT): then we stop too.
        if worker is not None and shutdown_requested(worker):
            return
        log.warning("the RQ worker stopped (redis went away?); it restarts once redis answers")
        try:
            time.sleep(pause)
        except StopRequested:  # a signal while we wait (RQ's handlers are still installed)
            return
        pause = min(pause * 2, REDIS_RETRY_MAX_SECONDS)
        if _redis_answers(queue):
            pause = REDIS_RETRY_MIN_SECONDS


def _redis_answers(queue: RqJobQueue) -> bool:
    try:
        return bool(queue.redis.ping())
    except RedisError:
        return False
