"""gunicorn's gthread worker, with its keep-alive connections spread over the workers (written
against gunicorn 27, checked by tests/unit/test_library_seams.py).

Every gthread worker polls the one listening socket and accepts whenever it wakes first. A client
that opens its keep-alive connections in a burst (an ESB's connection pool, wrk, SoapUI's load
tests) hands most of them to whichever worker woke first; they stay there for as long as they are
kept alive, so one process - one GIL, one core - serves them all while the others idle: measured
with 8 connections over 2 workers, the CPU shares read [0.0, 1.0] in most runs and GetLoanStatus
ran at half the throughput of a spread run (bench/README.md).

Here a worker that already holds at least one connection per thread stops accepting for
ACCEPT_PAUSE after each accept, so that a worker with room, if there is one, takes the next
connection (with one worker, or keep-alive off, it never pauses). Nothing is capped: when every
worker is that full, each still accepts after the pause (a new connection waits ACCEPT_PAUSE at
most, in the kernel's backlog), and `worker_connections` keeps its meaning.
"""
from __future__ import annotations

import time

from gunicorn.workers.gthread import ThreadWorker

#: Seconds a worker holding `threads` connections or more leaves the listening socket to the
#: others after accepting one: long enough for a sleeping worker to wake and accept, short against
#: a connection's set-up.
ACCEPT_PAUSE = 0.002


class BalancedThreadWorker(ThreadWorker):
    _paused_until = 0.0

    def accept(self, listener):
        super().accept(listener)
        # Alone (one worker) or without keep-alive there is nobody to leave the connection to,
        # or nothing that stays: no pause.
        if self.cfg.workers > 1 and self.cfg.keepalive and self.nr_conns >= self.cfg.threads:
            self._paused_until = time.monotonic() + ACCEPT_PAUSE
            super().set_accept_enabled(False)

    def set_accept_enabled(self, enabled):
        # The run loop re-enables accepting on every pass while below worker_connections.
        if enabled and time.monotonic() < self._paused_until:
            return
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        # Wake when the pause ends, not at the loop's one-second tick, to accept again.
        remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            timeout = min(timeout, remaining)
        super().wait_for_and_dispatch_events(timeout)
