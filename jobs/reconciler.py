"""The reconciler: re-queues loans whose scoring step is overdue and fails those past the deadline.

Run by `lms-soap reconcile`, and every RECONCILE_INTERVAL seconds by the worker.
"""
from __future__ import annotations

import logging
import threading

from lms_soap.bootstrap import Container
from lms_soap.lending import errors
from lms_soap.lending.scoring import ReconcileReport, reconcile

from lms_soap.clients.rq_queue import RqJobQueue

log = logging.getLogger(__name__)


class _SkipWaiting:
    """The queue as one reconciler pass uses it. A loan whose step waits in RQ's queue behind
    others is overdue too, but not lost: queued again, the worker would run it twice, and under a
    backlog longer than RECONCILE_GRACE every pass did so for every waiting loan (the sandbox's
    worker ran 7-15 jobs per loan instead of 4). Those are skipped; a lost step is queued again."""

    def __init__(self, queue):
        self.queue = queue
        self.waiting = queue.waiting_loan_ids() if isinstance(queue, RqJobQueue) else set()

    def schedule_scoring(self, loan_id: str, at=None) -> None:
        if at is None and loan_id in self.waiting:
            return
        self.queue.schedule_scoring(loan_id, at)


def run_once(container: Container) -> ReconcileReport:
    report = reconcile(container.uow(), _SkipWaiting(container.queue), container.clock,
                       container.scoring_policy, container.reconcile_grace)
    if report.requeued or report.failed or report.queue_down:
        log.info("reconcile: requeued=%d failed=%d queue_down=%s", report.requeued, report.failed,
                 report.queue_down)
    return report


class PeriodicReconciler(threading.Thread):
    """A daemon thread of the worker process; stops with it."""

    def __init__(self, container: Container, interval: float):
        super().__init__(name="reconciler", daemon=True)
        self.container = container
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                run_once(self.container)
            except errors.ServiceUnavailable as exc:
                log.warning("reconcile skipped: %s", exc)
            except Exception:  # noqa: BLE001 - keep reconciling whatever one pass hit
                log.exception("reconcile pass failed")

    def stop(self) -> None:
        self.stopped.set()
