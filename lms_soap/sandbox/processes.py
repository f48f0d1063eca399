"""The one launcher of child processes for the development tools: the sandbox, the tests (tests/support)
and the bench (bench/stack.py, bench/soak). The service itself never imports it.

- spawn() starts a child as the leader of a new session (start_new_session=True), its output
  appended to a log file: a Ctrl-C in the terminal reaches only the parent, which stops its
  children in order;
- wait_ready() returns once each child's probe answers (http_probe: URLs answering 200), and fails
  as soon as one of the children exits, or when it is late, with the end of that child's log;
- stop_all() signals whole process groups (os.killpg): SIGTERM, then SIGKILL after a timeout, so
  gunicorn's workers and RQ's scheduler process go with their parent and nothing is orphaned.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import requests

LOOPBACK = "127.0.0.1"
#: Seconds children get, together, to exit after SIGTERM before their groups are killed.
STOP_TIMEOUT_SECONDS = 10.0
#: Seconds between two readiness probes.
PROBE_INTERVAL_SECONDS = 0.1
#: Lines of a child's log shown when it fails to start or dies.
LOG_TAIL_LINES = 20


class ChildFailed(RuntimeError):
    """A child exited, or did not answer in time."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def http_probe(*urls: str) -> Callable[["Child"], bool]:
    """A readiness probe: every URL answers 200."""
    return lambda _child: all(http_ok(url) for url in urls)


def group_alive(pgid: int) -> bool:
    """True while any process of that process group exists."""
    return _exists(os.killpg, pgid)


def process_alive(pid: int) -> bool:
    """True while that process exists (ours or another user's)."""
    return _exists(os.kill, pid)


def _exists(signal_call: Callable[[int, int], None], target: int) -> bool:
    try:
        signal_call(target, 0)  # signal 0: nothing is sent, only the existence is checked
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists; it is not ours
    return True


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


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
    process: subprocess.Popen = field(repr=False)
    log_path: Path | None = None
    #: A probe returning True once the child serves (None: ready as soon as it runs).
    ready: Callable[["Child"], bool] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def failure(self, what: str) -> ChildFailed:
        if self.log_path is None:
            return ChildFailed(f"{self.name} {what}")
        return ChildFailed(f"{self.name} {what}; the end of {self.log_path}:\n{log_tail(self.log_path)}")


def spawn(name: str, argv: list[str], env: Mapping[str, str] | None, *, log_path: Path | None = None,
          cwd: Path | None = None, ready: Callable[[Child], bool] | None = None) -> Child:
    """Start `argv` in a session of its own. env None: this process's environment. log_path None:
    stdout discarded and stderr this process's own (pytest shows it with a failing test)."""
    if log_path is None:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   start_new_session=True)
        return Child(name, argv, process, None, ready)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    return Child(name, argv, process, log_path, ready)


def _check_running(children: Iterable[Child]) -> None:
    for child in children:
        if not child.running():
            raise child.failure(f"exited with status {child.process.returncode} while starting")


def wait_ready(children: list[Child], timeout: float) -> None:
    """Return once every child's probe succeeds; raise ChildFailed as soon as one of them exits,
    or when one is still not ready after `timeout` seconds."""
    pending = [c for c in children if c.ready is not None]
    deadline = time.monotonic() + timeout
    while True:
        _check_running(children)
        pending = [c for c in pending if not c.ready(c)]
        if not pending:
            break
        if time.monotonic() > deadline:
            raise pending[0].failure(f"did not answer within {timeout:g} s")
        time.sleep(PROBE_INTERVAL_SECONDS)
    _check_running(children)


def stop_all(children: list[Child], timeout: float = STOP_TIMEOUT_SECONDS,
             term_again_after: float | None = None) -> None:
    """SIGTERM every child's group (last started first), wait for them together (a second SIGTERM
    after `term_again_after` seconds, which RQ takes as a cold shutdown), then SIGKILL the groups of
    the late ones and whatever member was left behind (a worker whose master died)."""
    children = list(reversed(children))
    for child in children:
        if child.running():
            signal_group(child.pid, signal.SIGTERM)
    started = time.monotonic()
    if term_again_after is not None:
        _wait_all(children, started + min(term_again_after, timeout))
        for child in children:
            if child.running():
                signal_group(child.pid, signal.SIGTERM)
    _wait_all(children, started + timeout)
    for child in children:
        if child.running():
            print(f"{child.name} did not stop within {timeout:g} s: killing it", file=sys.stderr)
        signal_group(child.pid, signal.SIGKILL)
        if child.running():
            child.process.wait(5)


def _wait_all(children: list[Child], deadline: float) -> None:
    for child in children:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass


class Children:
    """The children one tool started, each logging to <log_dir>/<name>.log; stopped together."""

    def __init__(self, log_dir: Path | None, env: Mapping[str, str] | None = None, cwd: Path | None = None):
        self.log_dir, self.env, self.cwd = log_dir, env, cwd
        self.children: list[Child] = []

    def spawn(self, name: str, argv: list[str], ready: Callable[[Child], bool] | None = None,
              env: Mapping[str, str] | None = None) -> Child:
        log_path = self.log_dir / f"{name}.log" if self.log_dir is not None else None
        child = spawn(name, argv, env if env is not None else self.env, log_path=log_path, cwd=self.cwd,
                      ready=ready)
        self.children.append(child)
        return child

    def wait_ready(self, children: list[Child] | None = None, timeout: float = 30.0) -> None:
        wait_ready(self.children if children is None else children, timeout)

    def named(self, name: str) -> Child | None:
        return next((c for c in self.children if c.name == name), None)

    def first_dead(self) -> Child | None:
        return next((c for c in self.children if not c.running()), None)

    def check_running(self) -> None:
        """Raise ChildFailed (with the end of its log) if one of the children has exited."""
        dead = self.first_dead()
        if dead is not None:
            raise dead.failure(f"exited with status {dead.process.returncode}")

    def pids(self) -> dict[str, int]:
        return {c.name: c.pid for c in self.children}

    def stop(self, children: list[Child] | None = None, timeout: float = STOP_TIMEOUT_SECONDS,
             term_again_after: float | None = None) -> None:
        """Stop these children (default: all of them) and forget them."""
        chosen = list(self.children if children is None else children)
        try:
            stop_all(chosen, timeout, term_again_after)
        finally:
            self.children = [c for c in self.children if c not in chosen]
