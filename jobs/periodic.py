"""The worker's periodic duties of release 1.1, in both worker modes (RQ, or polling the database):
the arrears pass (lending.lifecycle.run_arrears, every ARREARS_INTERVAL seconds) and the delivery of
the bank's notifications from the outbox (lending.notifications.deliver_notifications, every
OUTBOX_INTERVAL seconds). Both are idempotent and safe on every host at once, so each worker runs
them; `lms-soap arrears run` runs the first by hand.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from lms_soap.bootstrap import Container
from lms_soap.lending import errors
from lms_soap.lending.lifecycle import ArrearsReport, run_arrears
from lms_soap.lending.notifications import DeliveryReport, deliver_notifications

log = logging.getLogger(__name__)


def arrears_once(container: Container) -> ArrearsReport:
    return run_arrears(container.uow(), container.clock)


def outbox_once(container: Container) -> DeliveryReport:
    report = deliver_notifications(container.uow(), container.notifier, container.clock,
                                   container.delivery_policy)
    if report.delivered or report.failed:
        log.info("outbox: delivered=%d failed=%d", report.delivered, report.failed)
    return report


class PeriodicTask(threading.Thread):
    """A daemon thread running `task` every `interval` seconds (first run at once); a pass that
    fails is logged and the next one runs on time."""

    def __init__(self, name: str, interval: float, task: Callable[[], object]):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.task = task
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.task()
            except errors.ServiceUnavailable as exc:
                log.warning("%s skipped: %s", self.name, exc)
            except Exception:  # noqa: BLE001 - keep running whatever one pass hit
                log.exception("%s pass failed", self.name)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()


def start_lifecycle_tasks(container: Container) -> list[PeriodicTask]:
    """Start the arrears and outbox threads (an interval of 0 or less turns one off)."""
    s = container.settings
    if container.notifier is None:
        log.info("worker: BANK_CALLBACK_URL is unset; loan events are marked not sent")
    tasks = [PeriodicTask("arrears", s.arrears_interval, lambda: arrears_once(container)),
             PeriodicTask("outbox", s.outbox_interval, lambda: outbox_once(container))]
    started = [t for t in tasks if t.interval > 0]
    for task in started:
        task.start()
    return started


def run_lifecycle_once(container: Container) -> None:
    """One pass of each (a burst worker's), in order: arrears first, so its events are sent too."""
    arrears_once(container)
    outbox_once(container)


def stop_all(tasks: list[PeriodicTask]) -> None:
    for task in tasks:
        task.stop()
