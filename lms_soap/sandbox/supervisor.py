"""Child processes of the sandbox: start each in its own process group with its output in a log
file, wait until it answers, notice when one dies, and stop them all without leaving orphans.

Each child is the leader of a new session (start_new_session=True), so:
- a Ctrl-C in the terminal reaches only the sandbox runner, which stops the children in order;
- stopping a child signals its whole group (os.killpg): gunicorn's workers and RQ's scheduler
  process go with their parent, and a SIGKILL after STOP_TIMEOUT_SECONDS sweeps whatever is left.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import requests

#: Seconds the children get, together, to exit after SIGTERM before their groups are killed.
STOP_TIMEOUT_SECONDS = 10.0
#: Seconds between two readiness probes.
PROBE_INTERVAL_SECONDS = 0.1
#: Lines of a child's log shown when it fails to start or dies.
LOG_TAIL_LINES = 20


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
    """The sandbox could not start, or one of its processes died."""


def gunicorn_argv(app_spec: str, bind: str, workers: int, threads: int) -> list[str]:
    """gunicorn for a sandbox child: access log to stdout (the child's log file), short graceful
    shutdown so that Ctrl-C is quick."""
    return [sys.executable, "-m", "gunicorn", app_spec, "--bind", bind, "--workers", str(workers),
            "--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync",
            "--timeout", "60", "--graceful-timeout", "5", "--keep-alive", "5",
            "--access-logfile", "-", "--no-control-socket"]


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    #: A probe returning True once the child serves (None: ready as soon as it runs).
    ready: Callable[["Child"], bool] | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def failure(self, what: str) -> SandboxError:
        tail = log_tail(self.log_path)
        return SandboxError(f"{self.name} {what}; the end of {self.log_path}:\n{tail}")


class Supervisor:
    """Starts, watches and stops the sandbox's children (see the module docstring)."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.children: list[Child] = []

    def spawn(self, name: str, argv: list[str], ready: Callable[[Child], bool] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name, argv, self.log_dir / f"{name}.log", ready)
        with open(child.log_path, "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
            log.flush()
            child.process = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(child)
        return child

    def wait_ready(self, children: list[Child], timeout: float) -> None:
        """Return once every child's probe succeeds; raise SandboxError if one exits or is late."""
        pending = [c for c in children if c.ready is not None]
        deadline = time.monotonic() + timeout
        while pending:
            for child in list(pending):
                if not child.running():
                    raise child.failure(f"exited with status {child.process.returncode} while starting")
                if child.ready(child):
                    pending.remove(child)
            if pending and time.monotonic() > deadline:
                raise pending[0].failure(f"did not answer within {timeout:.0f} s")
            if pending:
                time.sleep(PROBE_INTERVAL_SECONDS)
        for child in children:
            if not child.running():
                raise child.failure(f"exited with status {child.process.returncode} while starting")

    def first_dead(self) -> Child | None:
        return next((c for c in self.children if not c.running()), None)

    def pids(self) -> dict[str, int]:
        return {c.name: c.pid for c in self.children if c.process is not None}

    def stop_all(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM every child's group (newest first), wait for them together, then SIGKILL the
        groups of the late ones and of any member left behind."""
        children = [c for c in reversed(self.children) if c.process is not None]
        for child in children:
            if child.running():
                _signal_group(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{child.name} did not stop within {timeout:.0f} s: killing it", file=sys.stderr)
        for child in children:
            _signal_group(child.pid, signal.SIGKILL)  # stragglers (a worker whose master died)
            if child.process.poll() is None:
                child.process.wait(5)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """True while any process of that process group exists."""
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
