"""The processes the soak test starts (simulators, gunicorn, a worker) on free loopback ports, each
logging to a file of its own, and stopped by pid at the end."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Children:
    """The processes this script started; stopped (by pid, SIGTERM then SIGKILL) at the end."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                log = self.log_dir / f"{name}.log"
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def wait_http(url: str, children: Children, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children.check_alive()
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def start_stack(children: Children, env: dict[str, str], *, lms_port: int, cbs_port: int, scoring_port: int,
                workers: int, threads: int) -> subprocess.Popen:
    """The simulators, gunicorn and a worker, once each answers; returns the gunicorn master."""
    children.start("cbs", ["lms_soap.cli", "simulate", "cbs", "--port", str(cbs_port)], env)
    children.start("scoring", ["lms_soap.cli", "simulate", "scoring", "--port", str(scoring_port)], env)
    gunicorn = children.start("gunicorn", ["lms_soap.cli", "serve", "--bind", f"127.0.0.1:{lms_port}",
                                           "--workers", str(workers), "--threads", str(threads)], env)
    children.start("worker", ["lms_soap.cli", "worker"], env)
    wait_http(f"http://127.0.0.1:{cbs_port}/service/customer?wsdl", children)
    wait_http(f"http://127.0.0.1:{scoring_port}/_sim/health", children)
    wait_http(f"http://127.0.0.1:{lms_port}/readyz", children)
    return gunicorn
