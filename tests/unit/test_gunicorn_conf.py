"""gunicorn's settings come from one place, lms_soap/gunicorn_conf.py, which reads lms_soap.config:
`lms-soap serve`, `lms-soap simulate`, the sandbox, the e2e tests and the bench all run
`gunicorn --config python:lms_soap.gunicorn_conf` and differ only through settings."""
from __future__ import annotations

import importlib
import os

import pytest
from gunicorn.app.base import Application
from gunicorn.config import Config

from lms_soap import cli
from lms_soap.config import load_settings


def _gunicorn_config(monkeypatch, environ: dict[str, str]) -> Config:
    """What gunicorn makes of the conf module in a process with this environment."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    importlib.reload(importlib.import_module("lms_soap.gunicorn_conf"))
    app = Application.__new__(Application)  # just its config loader, no command line parsed
    app.cfg = Config()
    app.load_config_from_module_name_or_filename(cli.GUNICORN_CONF)
    return app.cfg


@pytest.fixture(autouse=True)
def _clean_serve_environment(monkeypatch):
    for name in ("LMS_BIND", "WEB_CONCURRENCY", "LMS_THREADS", "LMS_TIMEOUT", "LMS_GRACEFUL_TIMEOUT",
                 "LMS_KEEPALIVE", "LMS_MAX_REQUESTS", "LMS_MAX_REQUESTS_JITTER", "DB_POOL_SIZE"):
        monkeypatch.delenv(name, raising=False)


def test_the_production_defaults(monkeypatch):
    cfg = _gunicorn_config(monkeypatch, {})
    assert cfg.bind == ["0.0.0.0:8000"] and (cfg.workers, cfg.threads) == (2, 4)
    assert cfg.worker_class_str == "lms_soap.web.balanced_worker.BalancedThreadWorker"
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (60, 20, 5)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (20000, 2000)
    assert cfg.accesslog is None  # the LMS writes its own JSON access line (app.py)
    assert cfg.control_socket_disable is True


def test_every_value_is_a_setting(monkeypatch):
    cfg = _gunicorn_config(monkeypatch, {
        "LMS_BIND": "127.0.0.1:9123", "WEB_CONCURRENCY": "3", "LMS_THREADS": "1", "LMS_TIMEOUT": "30",
        "LMS_GRACEFUL_TIMEOUT": "5", "LMS_KEEPALIVE": "2", "LMS_MAX_REQUESTS": "0",
        "LMS_MAX_REQUESTS_JITTER": "0"})
    assert cfg.bind == ["127.0.0.1:9123"] and (cfg.workers, cfg.threads) == (3, 1)
    assert cfg.worker_class_str == "sync"
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (30, 5, 2)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (0, 0)


def test_every_gunicorn_is_started_with_the_conf_and_nothing_else():
    argv = cli.gunicorn_argv("lms_soap.wsgi:application")
    assert argv[1:] == ["-m", "gunicorn", "--config", "python:lms_soap.gunicorn_conf",
                        "lms_soap.wsgi:application"]
    # Another app (a simulator) has no access line of its own: gunicorn's, on stdout.
    assert cli.gunicorn_argv("lms_soap.sandbox.cbs_simulator:create_app_from_env()")[1:] == [
        "-m", "gunicorn", "--config", "python:lms_soap.gunicorn_conf", "--access-logfile", "-",
        "lms_soap.sandbox.cbs_simulator:create_app_from_env()"]


class _Exec(Exception):
    pass


def test_serve_passes_its_options_to_gunicorn_as_settings_without_touching_its_own_environment(monkeypatch):
    calls = []

    def execve(path, argv, env):
        calls.append((argv, env))
        raise _Exec

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("LMS_SECRET_KEY", "a-key-of-this-test-not-the-development-one")
    before = dict(os.environ)
    with pytest.raises(_Exec):
        cli.main(["serve", "--bind", "127.0.0.1:9124", "--workers", "3", "--threads", "8"])
    assert dict(os.environ) == before
    argv, env = calls[0]
    assert argv == cli.gunicorn_argv("lms_soap.wsgi:application")
    served = load_settings(env)  # what the conf and the app's workers read
    assert (served.serve_bind, served.serve_workers, served.serve_threads) == ("127.0.0.1:9124", 3, 8)
    assert served.db_pool_size == 8  # one pooled connection per gunicorn thread


def test_the_database_pool_follows_the_threads_unless_set():
    assert load_settings({"LMS_THREADS": "6"}).db_pool_size == 6
    assert load_settings({"LMS_THREADS": "1"}).db_pool_size == 2
    assert load_settings({"LMS_THREADS": "6", "DB_POOL_SIZE": "3"}).db_pool_size == 3


def test_every_gunicorn_started_here_limits_the_allocators_arenas_unless_told_otherwise():
    env = cli.serve_environment({"PATH": "/bin"}, "127.0.0.1:9000", 2, 4)
    assert env["MALLOC_ARENA_MAX"] == "2" and env["PATH"] == "/bin"
    assert (env["LMS_BIND"], env["WEB_CONCURRENCY"], env["LMS_THREADS"]) == ("127.0.0.1:9000", "2", "4")
    assert cli.serve_environment({"MALLOC_ARENA_MAX": "8"}, "x:1", 1, 1)["MALLOC_ARENA_MAX"] == "8"


def test_the_lms_worker_takes_its_gil_switch_interval_from_the_settings(tmp_path):
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/lms.db", "LMS_ALLOW_DEV_KEY": "1",
           "REDIS_URL": "", "LOG_LEVEL": "ERROR"}
    probe = "import sys, lms_soap.wsgi; print(sys.getswitchinterval())"
    for given, expected in ((None, 0.001), ("0.0025", 0.0025)):
        if given is not None:
            env["LMS_SWITCH_INTERVAL"] = given
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                             check=True, cwd=tmp_path).stdout
        assert float(out.split()[-1]) == pytest.approx(expected)
