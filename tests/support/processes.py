"""Real processes for end-to-end tests: the LMS under gunicorn and the scoring worker."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from lms_soap.cli import gunicorn_argv
from lms_soap.config import Settings, environ_for
from lms_soap.sandbox.processes import Child, free_port, http_probe, signal_group, spawn, stop_all, wait_ready

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a child gets to answer its health check.
START_TIMEOUT_SECONDS = 20.0


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes load_settings() in a child process return `settings`."""
    from dataclasses import asdict

    return environ_for(**asdict(settings))


def _child_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **settings_env(settings), **(extra or {})}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def _start(name: str, argv: list[str], env: dict[str, str], ready=None) -> Child:
    """The child in its own process group (stdout discarded, stderr the test's), once it answers;
    none may outlive the test, nor a failed start."""
    child = spawn(name, argv, env, cwd=ROOT, ready=ready)
    try:
        wait_ready([child], START_TIMEOUT_SECONDS)
    except BaseException:
        stop_all([child])
        raise
    return child


class Gunicorn:
    """`lms_soap.wsgi:application` under the production gunicorn conf, with the given settings (its
    public URL is rewritten to the port it binds; a short graceful timeout for quick tests)."""

    def __init__(self, settings: Settings, workers: int = 2, threads: int = 1, port: int | None = None,
                 extra_env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.replace(public_url=self.url, serve_bind=f"127.0.0.1:{self.port}",
                                         serve_workers=workers, serve_threads=threads, serve_timeout=30,
                                         serve_graceful_timeout=5)
        self.extra_env = extra_env
        self.child: Child | None = None

    def __enter__(self) -> "Gunicorn":
        self.child = _start("gunicorn", gunicorn_argv("lms_soap.wsgi:application"),
                            _child_env(self.settings, self.extra_env), http_probe(f"{self.url}/healthz"))
        return self

    def __exit__(self, *exc) -> None:
        if self.child is not None:
            stop_all([self.child])


class Worker:
    """`lms-soap worker` (RQ SimpleWorker with scheduler and reconciler) as a child process."""

    def __init__(self, settings: Settings, reconcile_interval: float = 1.0):
        self.settings = settings.replace(reconcile_interval=reconcile_interval)
        self.child: Child | None = None

    def __enter__(self) -> "Worker":
        self.child = _start("worker", [sys.executable, "-m", "lms_soap.cli", "worker"], _child_env(self.settings))
        return self

    @property
    def process(self):
        return self.child.process if self.child is not None else None

    def kill(self) -> None:
        """SIGKILL the worker and its scheduler process: a crash, not a shutdown."""
        if self.child is not None:
            signal_group(self.child.pid, signal.SIGKILL)
            self.child.process.wait(5)

    def __exit__(self, *exc) -> None:
        if self.child is not None:
            stop_all([self.child])
