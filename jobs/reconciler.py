"""The reconciler: re-queues loans whose scoring step is overdue and fails those past the deadline.

Run by `lms-soap reconcile`, and every RECONCILE_INTERVAL seconds by the worker.
"""
from __future__ import annotations

import logging
import threading

from lms_soap.bootstrap import Container
from lms_soap.lending import errors
from lms_soap.lending.scoring import ReconcileReport, reconcile

log = logging.getLogger(__name__)


def run_once(container: Container) -> ReconcileReport:
    report = reconcile(container.uow(), container.queue, container.clock, container.scoring_policy,
                       container.reconcile_grace)
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
