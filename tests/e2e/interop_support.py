"""Shared by the interoperability tests (test_interop_clients.py, test_soapui_project.py): a scoring
worker in a background thread, so that loans move from PENDING to a decision while a SOAP client
of another stack talks to the in-process LMS (the `lms` fixture)."""
from __future__ import annotations

import contextlib
import logging
import threading
from typing import Iterator
from unittest import mock

from lms_soap.config import Settings

log = logging.getLogger(__name__)

#: Seconds between two burst runs of the worker when the queue was empty.
IDLE_PAUSE = 0.05


@contextlib.contextmanager
def background_worker(settings: Settings) -> Iterator[threading.Event]:
    """Run `jobs.worker.run_worker(settings, burst=True)` in a loop in a daemon thread.

    A burst run re-queues overdue loans (reconciler), moves due scheduled jobs (scoring back-off)
    into the queue, drains it and returns; the loop starts the next one at once. Each run builds
    its own container, like a worker process. Yields the stop event."""
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    from jobs.worker import run_worker

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                run_worker(settings, burst=True)
            except Exception:  # noqa: BLE001 - keep polling; a failed run shows in the test's outcome
                log.exception("burst worker run failed")
            stop.wait(IDLE_PAUSE)

    # RQ installs SIGINT/SIGTERM handlers when work() starts and times jobs out with SIGALRM, and
    # Python allows signal handlers only in the main thread. A burst run needs no stop signal (it
    # returns when the queue is empty) and RQ's TimerDeathPenalty times jobs out without signals.
    with mock.patch.object(SimpleWorker, "_install_signal_handlers", lambda self: None), \
            mock.patch.object(SimpleWorker, "death_penalty_class", TimerDeathPenalty):
        thread = threading.Thread(target=loop, name="lms-burst-worker", daemon=True)
        thread.start()
        try:
            yield stop
        finally:
            stop.set()
            thread.join(timeout=15)
