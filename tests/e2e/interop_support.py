"""Shared by the interoperability tests: a scoring worker in a background thread, so that loans
move from PENDING to a decision while a SOAP client of another stack talks to the in-process LMS."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import Iterator

from lms_soap.config import Settings

log = logging.getLogger(__name__)

#: Seconds between two burst runs of the worker when the queue was empty.
IDLE_PAUSE = 0.05


@contextlib.contextmanager
def background_worker(settings: Settings) -> Iterator[threading.Event]:
    """Run `jobs.worker.run_worker(settings, burst=True)` in a loop in a daemon thread.

    A burst run drains the queue and moves due scheduled jobs (scoring back-off) into it, then
    returns; the loop starts the next one at once. Yields the stop event."""
    from jobs.worker import run_worker

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_worker(settings, burst=True)
            except Exception:  # noqa: BLE001 - keep polling; a failed run shows in the test's outcome
                log.exception("burst worker run failed")
            stop.wait(IDLE_PAUSE)

    thread = threading.Thread(target=loop, name="lms-burst-worker", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=15)
