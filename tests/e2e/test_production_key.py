"""The committed development LMS_SECRET_KEY does not run production (issue 10, defect 9).

`gunicorn lms_soap.wsgi:application` (as the README shows), `lms-soap serve`, `lms-soap worker`,
`lms-soap clients add` and `lms-soap scoring register` refuse to start on it, with a message naming
LMS_ALLOW_DEV_KEY; with LMS_ALLOW_DEV_KEY=1 they run. (The sandbox generates its own key:
tests/e2e/test_sandbox.py.)
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from lms_soap.config import DEV_SECRET_KEY
from tests.conftest import make_settings
from lms_soap.sandbox.processes import http_probe, spawn, stop_all, wait_ready
from tests.support.processes import ROOT, _child_env
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "lms_soap.cli"]
REFUSAL_TIMEOUT = 60.0


def _env(database_url: str, redis_url: str = "", **extra: str) -> dict[str, str]:
    """The child's environment on the development key (LMS_ALLOW_DEV_KEY unset unless given)."""
    env = _child_env(make_settings(database_url, redis_url, secret_key=DEV_SECRET_KEY))
    env.pop("LMS_ALLOW_DEV_KEY", None)
    env.update(extra)
    return env


def _assert_refused(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=REFUSAL_TIMEOUT)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "LMS_SECRET_KEY" in result.stderr and "LMS_ALLOW_DEV_KEY=1" in result.stderr, result.stderr


def _serves(argv: list[str], env: dict[str, str], port: int) -> None:
    child = spawn("server", argv, env, cwd=ROOT, ready=http_probe(f"http://127.0.0.1:{port}/healthz"))
    try:
        wait_ready([child], 30)
    finally:
        stop_all([child])


def _gunicorn(port: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "lms_soap.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--no-control-socket"]


def _serve(port: int) -> list[str]:
    return [*CLI, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1"]


@pytest.mark.parametrize("command", [_gunicorn, _serve], ids=["gunicorn lms_soap.wsgi", "lms-soap serve"])
def test_the_server_refuses_the_development_key_unless_allowed(db, command):
    port = free_port()
    _assert_refused(command(port), _env(db))
    _serves(command(port), _env(db, LMS_ALLOW_DEV_KEY="1"), port)


def test_the_worker_refuses_the_development_key_unless_allowed(db, flushed_redis):
    _assert_refused([*CLI, "worker", "--burst"], _env(db, flushed_redis))
    allowed = subprocess.run([*CLI, "worker", "--burst"], cwd=ROOT,
                             env=_env(db, flushed_redis, LMS_ALLOW_DEV_KEY="1"),
                             capture_output=True, text=True, timeout=REFUSAL_TIMEOUT)
    assert allowed.returncode == 0, allowed.stderr


def test_clients_add_refuses_the_development_key_and_stores_nothing(db):
    from sqlalchemy import create_engine, text

    _assert_refused([*CLI, "clients", "add", "bank-one", "--role", "bank"], _env(db))
    _assert_refused([*CLI, "scoring", "register"], _env(db))
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM api_clients")).scalar() == 0
    finally:
        engine.dispose()
    allowed = subprocess.run([*CLI, "clients", "add", "bank-one", "--role", "bank"], cwd=ROOT,
                             env=_env(db, LMS_ALLOW_DEV_KEY="1"), capture_output=True, text=True,
                             timeout=REFUSAL_TIMEOUT)
    assert allowed.returncode == 0 and '"username": "bank-one"' in allowed.stdout, allowed.stderr
