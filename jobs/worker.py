"""`lms-soap worker`: an RQ worker (with its scheduler) for the scoring queue, plus the reconciler.

It uses RQ's SimpleWorker: jobs run in the worker process itself, without a fork per job, so
the engine, the HTTP pools and the WSDLs are built once and reused (a fork per job would cost
more than the job).
"""
from __future__ import annotations

import logging

from rq import SimpleWorker

from lms_soap.bootstrap import build_container
from lms_soap.config import Settings

from . import context
from .queue import RqJobQueue
from .reconciler import PeriodicReconciler, run_once

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, burst: bool = False, with_scheduler: bool = True,
               reconcile_interval: float | None = None) -> bool:
    container = build_container(settings)
    context.install(container)
    queue = container.queue
    if not isinstance(queue, RqJobQueue):
        raise SystemExit("the worker needs REDIS_URL")
    interval = settings.reconcile_interval if reconcile_interval is None else reconcile_interval
    reconciler = None
    try:
        run_once(container)  # first, pick up whatever was lost while no worker ran
    except Exception:  # noqa: BLE001 - the database may still be starting; the loop retries
        log.exception("initial reconcile failed")
    if not burst and interval > 0:
        reconciler = PeriodicReconciler(container, interval)
        reconciler.start()
    worker = SimpleWorker([queue.queue], connection=queue.redis)
    try:
        return worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=settings.log_level)
    finally:
        if reconciler:
            reconciler.stop()
        container.close()
