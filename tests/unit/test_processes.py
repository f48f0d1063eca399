"""The one launcher of child processes (lms_soap/sandbox/processes.py) that the sandbox, the tests and
the bench share: a child runs in its own process group with its output in a log file, a failed
start says why with the end of that log, and stopping leaves nothing of the group behind."""
from __future__ import annotations

import socket
import sys
import textwrap
import time

import pytest

from lms_soap.sandbox import processes
from lms_soap.sandbox.processes import Children, ChildFailed, free_port, group_alive, spawn, stop_all, wait_ready

PY = sys.executable


def _python(code: str) -> list[str]:
    return [PY, "-c", textwrap.dedent(code)]


def test_a_child_that_exits_while_starting_fails_with_the_end_of_its_log(tmp_path):
    child = spawn("broken", _python("import sys; print('cannot bind: port taken'); sys.exit(3)"), None,
                  log_path=tmp_path / "broken.log", ready=lambda c: False)
    with pytest.raises(ChildFailed) as failure:
        wait_ready([child], timeout=30)
    message = str(failure.value)
    assert "broken exited with status 3" in message and "cannot bind: port taken" in message


def test_a_child_that_never_answers_fails_after_the_timeout(tmp_path):
    child = spawn("silent", _python("import time; print('still booting', flush=True); time.sleep(60)"), None,
                  log_path=tmp_path / "silent.log", ready=lambda c: False)
    try:
        with pytest.raises(ChildFailed, match="silent did not answer"):
            wait_ready([child], timeout=0.5)
    finally:
        stop_all([child], timeout=5)
    assert not child.running()


def test_an_http_probe_waits_until_the_url_answers(tmp_path):
    port = free_port()
    server = spawn("http", [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], None,
                   log_path=tmp_path / "http.log", ready=processes.http_probe(f"http://127.0.0.1:{port}/"))
    try:
        wait_ready([server], timeout=30)
        assert processes.http_ok(f"http://127.0.0.1:{port}/")
    finally:
        stop_all([server], timeout=5)
    assert not processes.port_open("127.0.0.1", port)


def test_stopping_takes_the_whole_group_even_a_member_that_ignores_sigterm(tmp_path):
    # The leader starts a grandchild that ignores SIGTERM (as a wedged gunicorn worker would).
    code = """
        import signal, subprocess, sys, time
        subprocess.Popen([sys.executable, "-c",
                          "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                          "print('member up', flush=True); time.sleep(120)"])
        time.sleep(120)
    """
    group = Children(tmp_path)
    leader = group.spawn("leader", _python(code), ready=lambda c: "member up" in (tmp_path / "leader.log").read_text())
    group.wait_ready([leader], timeout=30)
    assert group_alive(leader.pid)
    group.stop(timeout=0.5)
    deadline = time.monotonic() + 10
    while group_alive(leader.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not group_alive(leader.pid)
    assert group.first_dead() is None and group.children == []


def test_a_dead_child_is_noticed(tmp_path):
    group = Children(tmp_path)
    group.spawn("short", _python("print('bye')"))
    group.children[0].process.wait(30)
    assert group.first_dead().name == "short"
    assert "bye" in processes.log_tail(tmp_path / "short.log")
    group.stop()


def test_free_port_is_a_port_one_can_bind():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
