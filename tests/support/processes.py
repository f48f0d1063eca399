"""Real processes for end-to-end tests: the LMS under gunicorn and the scoring worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from lms_soap.config import Settings
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes load_settings() in a child process return `settings`."""
    from dataclasses import fields

    env = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is not None:
            env[f.metadata["env"]] = str(value)
    return env


def _child_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **settings_env(settings), **(extra or {})}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def wait_http(url: str, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    # Children run in their own session (start_new_session=True), so the group holds gunicorn's
    # workers and RQ's scheduler process too: none may outlive the test.
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def stop(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    _signal_group(process, signal.SIGKILL)  # whatever of the group is left


class Gunicorn:
    """`gunicorn lms_soap.wsgi:application` with the given settings (its public URL is rewritten
    to the port it binds)."""

    def __init__(self, settings: Settings, workers: int = 2, threads: int = 1, port: int | None = None,
                 extra_env: dict[str, str] | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.replace(public_url=self.url)
        self.workers, self.threads, self.extra_env = workers, threads, extra_env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        cmd = [sys.executable, "-m", "gunicorn", "lms_soap.wsgi:application", "--bind",
               f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads", str(self.threads),
               "--no-control-socket", "--timeout", "30", "--graceful-timeout", "5"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=_child_env(self.settings, self.extra_env),
                                        stdout=subprocess.DEVNULL, stderr=None, start_new_session=True)
        wait_http(f"{self.url}/healthz", process=self.process)
        return self

    def __exit__(self, *exc) -> None:
        stop(self.process)


class Worker:
    """`lms-soap worker` (RQ SimpleWorker with scheduler and reconciler) as a child process."""

    def __init__(self, settings: Settings, reconcile_interval: float = 1.0):
        self.settings = settings.replace(reconcile_interval=reconcile_interval)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Worker":
        self.process = subprocess.Popen([sys.executable, "-m", "lms_soap.cli", "worker"], cwd=ROOT,
                                        env=_child_env(self.settings), stdout=subprocess.DEVNULL,
                                        stderr=None, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its scheduler process: a crash, not a shutdown."""
        if self.process is not None:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(5)

    def __exit__(self, *exc) -> None:
        stop(self.process)
