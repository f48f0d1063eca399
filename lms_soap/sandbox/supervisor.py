"""The sandbox runner's signals: Ctrl-C, SIGTERM and SIGHUP stop the sandbox, but never while a child
is being spawned (a child started then would escape the list of those to stop). Its children are
started, watched and stopped by the shared launcher, lms_soap.sandbox.processes."""
from __future__ import annotations

import contextlib
import signal
from typing import Any, Iterator


class StopRequested(Exception):
    """A stop signal arrived."""


class StopSignals:
    """SIGINT/SIGTERM/SIGHUP raise StopRequested in the main thread, except inside `deferred()` (while a
    child is being spawned, so that no child escapes the supervisor's list)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: int | None = None
        self._deferred = False
        self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}

    def _handle(self, signum: int, _frame: Any) -> None:
        self.received = signum
        if not self._deferred:
            raise StopRequested(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
        if self.received is not None:
            raise StopRequested(self.received)

    def ignore(self) -> None:
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_IGN)

    def restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


class SandboxError(RuntimeError):
    """The sandbox could not start."""
