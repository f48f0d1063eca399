"""BalancedThreadWorker's accept rule (lms_soap/web/balanced_worker.py), on gunicorn's own
ThreadWorker with its accept and poller stubbed: the spread itself is measured end to end in
tests/e2e/test_connection_spread.py."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from lms_soap.web import balanced_worker
from lms_soap.web.balanced_worker import BalancedThreadWorker


class Clock:
    now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(balanced_worker.time, "monotonic", c.monotonic)
    return c


def _worker(monkeypatch, *, workers=2, threads=2, keepalive=5) -> BalancedThreadWorker:
    def accept(self, _listener):
        self.nr_conns += 1

    def set_accept_enabled(self, enabled):
        self._accepting = enabled

    waits = []
    monkeypatch.setattr(ThreadWorker, "accept", accept)
    monkeypatch.setattr(ThreadWorker, "set_accept_enabled", set_accept_enabled)
    monkeypatch.setattr(ThreadWorker, "wait_for_and_dispatch_events", lambda self, timeout: waits.append(timeout))
    worker = BalancedThreadWorker.__new__(BalancedThreadWorker)
    worker.cfg = SimpleNamespace(workers=workers, threads=threads, keepalive=keepalive)
    worker.nr_conns, worker._accepting, worker.waits = 0, True, waits
    return worker


def test_a_worker_with_a_connection_per_thread_leaves_the_next_one_to_the_others(monkeypatch, clock):
    worker = _worker(monkeypatch)
    worker.accept(None)
    assert worker._accepting  # one connection, two threads: room left
    worker.accept(None)
    assert not worker._accepting  # full: the listener is the other workers' for the pause
    worker.set_accept_enabled(True)  # the run loop's next pass
    assert not worker._accepting
    worker.wait_for_and_dispatch_events(1.0)
    assert worker.waits[-1] == pytest.approx(balanced_worker.ACCEPT_PAUSE)  # wakes when it ends
    clock.now += balanced_worker.ACCEPT_PAUSE
    worker.set_accept_enabled(True)
    assert worker._accepting  # and accepts again: nothing is capped
    worker.wait_for_and_dispatch_events(1.0)
    assert worker.waits[-1] == 1.0


@pytest.mark.parametrize("settings", [{"workers": 1}, {"keepalive": 0}])
def test_alone_or_without_keep_alive_it_never_pauses(monkeypatch, clock, settings):
    worker = _worker(monkeypatch, **settings)
    for _ in range(5):
        worker.accept(None)
    assert worker._accepting and worker.nr_conns == 5


def test_stopping_is_never_delayed(monkeypatch, clock):
    worker = _worker(monkeypatch)
    worker.accept(None)
    worker.accept(None)
    worker._accepting = True  # e.g. re-enabled after the pause, then the worker is told to stop
    worker.set_accept_enabled(False)
    assert not worker._accepting
