"""`lms-soap sandbox` and `lms-soap demo` as a user runs them: real processes on free loopback
ports, a SQLite file in a temporary state directory, and the embedded Redis (REDIS_URL points at a
port nobody listens on). Then SIGTERM: every process gone, every port free; and a second start on
the same state directory finds the data and the credentials of the first."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.support.servers import free_port
from tests.support.soap import TNS, basic, envelope, faultcode, post

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LMS_SOAP = [sys.executable, "-m", "lms_soap.cli"]
CUSTOMER = "234774784"
EXPECTED_KEYS = {"lms_url", "wsdl_url", "cbs_url", "scoring_url", "bank", "scoring", "admin"}
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "LMS_SECRET_KEY", "LMS_PUBLIC_URL", "SCORING_TRANSACTIONS_URL")}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nobody answers: the sandbox starts its own Redis
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def _distinct_free_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


class Sandbox:
    """One `lms-soap sandbox` run on a state directory and three ports."""

    def __init__(self, state: Path, ports: list[int], output: Path):
        self.state, self.output = state, output
        self.lms_port, self.cbs_port, self.scoring_port, self.bank_port = ports
        self.process: subprocess.Popen | None = None
        self.record: dict = {}

    def start(self) -> dict:
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [*LMS_SOAP, "sandbox", "--state-dir", str(self.state), "--lms-port", str(self.lms_port),
                 "--cbs-port", str(self.cbs_port), "--scoring-port", str(self.scoring_port), "--bank-port", str(self.bank_port),
                 "--workers", "1"],
                cwd=ROOT, env=_child_env(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while "sandbox ready" not in self.output.read_text():
            if self.process.poll() is not None:
                pytest.fail(f"the sandbox exited with {self.process.returncode}:\n{self.output.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the sandbox was not ready within {START_TIMEOUT} s:\n{self.output.read_text()}")
            time.sleep(0.1)
        self.record = json.loads((self.state / "sandbox.json").read_text())
        assert self.record["runner_pid"] == self.process.pid
        return json.loads((self.state / "credentials.json").read_text())

    def pids(self) -> list[int]:
        return [*self.record.get("children", {}).values(), *filter(None, [self.record.get("redis_pid")])]

    def stop(self) -> float:
        """SIGTERM the runner; the seconds it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(STOP_TIMEOUT)
        return time.monotonic() - started

    def kill_leftovers(self) -> None:
        """Test clean-up after a failure: the runner and the groups it recorded."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        for pgid in self.pids():
            if not _group_gone(pgid):
                os.killpg(pgid, signal.SIGKILL)


def _get_customer(lms_url: str, username: str, password: str) -> requests.Response:
    body = envelope("GetCustomer", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>")
    return post(lms_url, body, basic(username, password))


def _assert_stopped_cleanly(sandbox: Sandbox) -> None:
    elapsed = sandbox.stop()
    assert sandbox.process.returncode == 0, sandbox.output.read_text()
    assert elapsed < STOP_TIMEOUT
    assert "sandbox stopped" in sandbox.output.read_text()
    # the simulators, the bank receiver, the LMS and the worker
    assert len(sandbox.record["children"]) == 5 and sandbox.record["redis_pid"]
    leftovers = [pid for pid in sandbox.pids() if not _group_gone(pid)]
    assert leftovers == [], f"process groups left behind: {leftovers}"
    busy = [p for p in (sandbox.lms_port, sandbox.cbs_port, sandbox.scoring_port, sandbox.bank_port)
            if not _port_free(p)]
    assert busy == [], f"ports still in use: {busy}"


def test_sandbox_runs_the_journey_stops_cleanly_and_restarts_on_its_state(tmp_path):
    state = tmp_path / "state"
    ports = _distinct_free_ports(4)
    first = Sandbox(state, ports, tmp_path / "first.out")
    second = Sandbox(state, ports, tmp_path / "second.out")
    try:
        credentials = first.start()
        assert set(credentials) == EXPECTED_KEYS
        for role in ("bank", "scoring", "admin"):
            assert set(credentials[role]) == {"username", "password"}
            assert credentials[role]["password"] in first.output.read_text()  # printed for humans
        assert credentials["scoring"]["username"] != "scoring-engine"  # the engine's own user is apart
        assert (state / "lms.db").exists()
        assert requests.get(credentials["wsdl_url"], timeout=5).status_code == 200
        assert requests.get(f"{credentials['scoring_url']}/_sim/health", timeout=5).status_code == 200
        assert requests.get(f"{credentials['cbs_url']}/service/customer?wsdl", timeout=5).status_code == 200

        # The bank credential works: the answer is about the customer, not about who asks.
        bank = credentials["bank"]
        assert faultcode(_get_customer(credentials["lms_url"], bank["username"], bank["password"])) \
            == "Client.CustomerNotRegistered"
        assert faultcode(_get_customer(credentials["lms_url"], bank["username"], "wrong")) \
            == "Client.AuthenticationFailed"

        # The lifecycle part waits ~90 s in real time: tests/e2e/test_lifecycle_e2e.py runs it on
        # a faster product.
        demo = subprocess.run([*LMS_SOAP, "demo", "--state-dir", str(state), "--no-lifecycle"], cwd=ROOT,
                              env=_child_env(), capture_output=True, text=True, timeout=60)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        for line in ("APPROVED", "transaction records fetched", "Client.LoanInProgress", "CLOSED",
                     "demo complete"):
            assert line in demo.stdout, demo.stdout

        # the sandbox's bank receiver was told of the demo loan's every notified transition
        events_file = state / "bank-events.jsonl"
        deadline = time.monotonic() + 20
        statuses: list[str] = []
        while "CLOSED" not in statuses and time.monotonic() < deadline:
            time.sleep(0.2)
            statuses = [json.loads(line)["status"] for line in events_file.read_text().splitlines()] \
                if events_file.exists() else []
        assert statuses[-3:] == ["APPROVED", "DISBURSED", "CLOSED"], statuses

        # /metrics (admin credentials) counts what the demo did, summed over the LMS's gunicorn workers
        assert requests.get(f"{credentials['lms_url']}/metrics", timeout=5).status_code == 401
        admin = (credentials["admin"]["username"], credentials["admin"]["password"])
        metrics = requests.get(f"{credentials['lms_url']}/metrics", auth=admin, timeout=5).text
        for sample in ('lms_soap_requests_total{faultcode="OK",operation="RepayLoan"} 2.0',
                       'lms_soap_requests_total{faultcode="Client.LoanInProgress",operation="SubmitLoan"} 1.0',
                       'lms_loans{status="CLOSED"} 1.0'):
            assert sample in metrics, metrics

        _assert_stopped_cleanly(first)

        not_running = subprocess.run([*LMS_SOAP, "demo", "--state-dir", str(state)], cwd=ROOT,
                                     env=_child_env(), capture_output=True, text=True, timeout=30)
        assert not_running.returncode != 0
        assert "not running" in not_running.stderr

        again = second.start()
        assert {role: again[role]["username"] for role in ("bank", "scoring", "admin")} == \
            {role: credentials[role]["username"] for role in ("bank", "scoring", "admin")}
        bank = again["bank"]
        answer = _get_customer(again["lms_url"], bank["username"], bank["password"])
        assert faultcode(answer) is None, answer.text  # registered by the first run's demo
        assert etree.fromstring(answer.content).findtext(f".//{{{TNS}}}customer/{{{TNS}}}customerNumber") \
            == CUSTOMER
        _assert_stopped_cleanly(second)
    finally:
        first.kill_leftovers()
        second.kill_leftovers()
