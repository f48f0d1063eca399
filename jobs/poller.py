"""`lms-soap worker` without REDIS_URL: scoring steps taken straight from the database.

The loan rows are the queue: every WORKER_POLL_INTERVAL seconds the worker asks for the loans
whose next step is due and runs each (lending.scoring.run_due_steps, the same advance_scoring the
RQ jobs run), and every RECONCILE_INTERVAL seconds it fails the loans past SCORING_DEADLINE (the
reconciler's other duty; re-queueing has no meaning without a queue). Several such workers may
run against one database: each step claims its loan first, so a loan is stepped by one of them.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

from lms_soap.bootstrap import Container
from lms_soap.lending import errors
from lms_soap.lending.scoring import fail_expired, run_due_steps

log = logging.getLogger(__name__)

#: Loans stepped per pass; a full batch is followed by another pass at once.
POLL_BATCH = 100


class DatabasePoller:
    def __init__(self, container: Container, poll_interval: float, reconcile_interval: float):
        self.container = container
        self.poll_interval = poll_interval
        self.reconcile_interval = reconcile_interval
        self.stopped = threading.Event()
        self._last_reconcile: float | None = None

    def run_once(self) -> int:
        """One pass: the deadline (when its interval is up), then every due step. Returns how many
        loans were due."""
        c = self.container
        now = time.monotonic()
        if self._last_reconcile is None or now - self._last_reconcile >= self.reconcile_interval:
            self._last_reconcile = now
            failed = fail_expired(c.uow(), c.clock, c.scoring_policy)
            if failed:
                log.info("poller: %d loan(s) failed past the scoring deadline", failed)
        return run_due_steps(c.uow(), c.scoring_engine, c.queue, c.box, c.clock, c.scoring_policy,
                             POLL_BATCH)

    def run(self, *, burst: bool = False) -> None:
        """Poll until stop() (or, with burst, until no loan is due)."""
        while not self.stopped.is_set():
            try:
                due = self.run_once()
            except errors.ServiceUnavailable as exc:
                log.warning("poll skipped: %s", exc)
                due = 0
            except Exception:  # noqa: BLE001 - keep polling whatever one pass hit
                log.exception("poll pass failed")
                due = 0
            if burst and due == 0:
                return
            if due < POLL_BATCH:
                self.stopped.wait(self.poll_interval)

    def stop(self, *_signal_args) -> None:
        self.stopped.set()


def run_polling_worker(container: Container, poll_interval: float, reconcile_interval: float, *,
                       burst: bool = False) -> bool:
    poller = DatabasePoller(container, poll_interval, reconcile_interval)
    # SIGTERM/SIGINT end the loop after the current step (a killed step is safe too: its claim's
    # lease runs out and the loan is stepped again).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, poller.stop)
    log.info("worker: no REDIS_URL; polling the database every %.1f s for due scoring steps",
             poll_interval)
    poller.run(burst=burst)
    return True
