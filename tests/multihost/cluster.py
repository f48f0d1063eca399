"""The whole multi-host deployment: build it, drive it, inspect it, tear it down.

    db      PostgreSQL (own initdb) + PgBouncer (transaction mode)        .10
    redis   Redis primary :6379, replica :6380, Sentinels :26379-26381     .11
    sim     CBS simulator :8093, scoring simulator :8094                   .12
    app1-3  gunicorn :8000 (1 worker) + `lms-soap worker`                  .13-.15
    client  drives the load (tests/multihost/drive.py)                     .16

`with Cluster() as c:` stops every process and deletes every namespace and the temporary folder on
the way out, whatever happened (an exception, KeyboardInterrupt, SIGTERM turned into SystemExit).
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from lms_soap.config import load_settings

from .netns import Network
from .services import (CBS_PORT, SCORING_PORT, SENTINEL_MASTER, AppHost, Database, RedisGroup, python_argv,
                       start_simulators)

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout the hosts run from

APP_HOSTS = ("app1", "app2", "app3")
BANK_USER = "multihost-bank"
#: Settings every LMS host gets: quick scoring steps and reconciler passes, small pools.
FAST_SETTINGS = {
    "SCORING_BACKOFF_BASE": "0.3", "SCORING_BACKOFF_MAX": "1", "SCORING_BACKOFF_JITTER": "0.2",
    "RECONCILE_INTERVAL": "2", "RECONCILE_GRACE": "3", "REDIS_TIMEOUT": "1", "DB_CONNECT_TIMEOUT": "3",
    "LMS_THREADS": "4", "DB_POOL_SIZE": "4", "DB_POOL_MAX_OVERFLOW": "2", "WEB_CONCURRENCY": "1",
    "LOG_LEVEL": "INFO", "SCORING_SIM_NOT_READY_POLLS": "1", "QUEUE_NAME": "lms-multihost",
    # A killed host's claims lapse within the checks' waits (the production lease is 120 s).
    "SCORING_CALL_DEADLINE": "4", "SCORING_CLAIM_LEASE": "8",
}
#: A scoring decision's status: STANDARD disburses at approval, so an approved loan reads DISBURSED.
DECIDED = ("DISBURSED", "REJECTED")
#: LMS_MULTIHOST_NO_SENTINEL=1 gives the LMS hosts the primary's address only (REDIS_URL, no
#: REDIS_SENTINELS): the switch that shows the failover check failing without Sentinel support.
NO_SENTINEL = os.environ.get("LMS_MULTIHOST_NO_SENTINEL", "") == "1"


class Cluster:
    def __init__(self, keep_logs: bool = False):
        self.folder = Path(tempfile.mkdtemp(prefix="lms-multihost-"))
        self.folder.chmod(0o755)  # postgres must reach its data folder inside
        (self.folder / "logs").mkdir()
        self.keep_logs = keep_logs
        self.net = Network(self.folder / "logs")
        self.secret_key = secrets.token_urlsafe(32)
        self.bank_password = secrets.token_urlsafe(16)
        self.apps: dict[str, AppHost] = {}
        self._engine = None
        self._old_sigterm = None

    # --- life cycle -----------------------------------------------------------------------------
    def __enter__(self) -> "Cluster":
        self._old_sigterm = signal.signal(signal.SIGTERM, _sigterm_to_exit)
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        net = self.net.create()
        self.db_host, self.redis_host, self.sim_host = (net.add_host(r) for r in ("db", "redis", "sim"))
        app_hosts = [net.add_host(role) for role in APP_HOSTS]
        self.client_host = net.add_host("client")
        base = self.base_env()
        self.db = Database(self.db_host, self.folder, net.subnet)
        self.redis = RedisGroup(self.redis_host, self.folder)
        self.db.start(base)
        self.redis.start(base)
        start_simulators(self.sim_host, {**base, **self.simulator_env()})
        self._migrate_and_register()
        for host in app_hosts:
            self.apps[host.role] = AppHost(host, self.app_env(host)).start()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self.net.destroy()
        if self.keep_logs:
            print(f"multihost: logs kept in {self.folder / 'logs'}", flush=True)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self._old_sigterm is not None:
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None

    # --- settings -------------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        keep = ("PATH", "LANG", "LC_ALL", "HOME", "VIRTUAL_ENV", "PYTHONPATH")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update({"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT)})
        return env

    def simulator_env(self) -> dict[str, str]:
        settings = load_settings({})
        return {"CBS_SIM_USERNAME": settings.cbs_username, "CBS_SIM_PASSWORD": settings.cbs_password,
                "CBS_SIM_AUTH_MODE": settings.cbs_auth_mode, "SCORING_SIM_NOT_READY_POLLS": "1"}

    def lms_env(self, public_url: str, database_url: str) -> dict[str, str]:
        sim = self.sim_host.address
        env = {**FAST_SETTINGS, "DATABASE_URL": database_url, "LMS_SECRET_KEY": self.secret_key,
               "LMS_PUBLIC_URL": public_url,
               "CBS_CUSTOMER_URL": f"http://{sim}:{CBS_PORT}/service/customer",
               "CBS_TRANSACTIONS_URL": f"http://{sim}:{CBS_PORT}/service/transaction-data",
               "SCORING_BASE_URL": f"http://{sim}:{SCORING_PORT}"}
        if NO_SENTINEL:
            env.update({"REDIS_URL": f"redis://{self.redis_host.address}:6379/0", "REDIS_SENTINELS": ""})
        else:
            env.update({"REDIS_URL": "redis:///0", "REDIS_SENTINELS": self.redis.sentinels,
                        "REDIS_SENTINEL_MASTER": SENTINEL_MASTER})
        return env

    def app_env(self, host) -> dict[str, str]:
        metrics = self.folder / f"prometheus-{host.role}"
        metrics.mkdir(exist_ok=True)
        return {**self.base_env(), **self.lms_env(f"http://{host.address}:8000", self.db.pooled_url),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics)}

    def _migrate_and_register(self) -> None:
        """Migrations and set-up from the harness (as a deploy's migration job would): schema, the
        scoring engine registration (its data URL is app1's), the bank's API client."""
        from lms_soap.bootstrap import build_container
        from lms_soap.lending.api_clients import add_client
        from lms_soap.lending.model import Role
        from lms_soap.lending.registration import register_with_scoring_engine
        from lms_soap.crypto import generate_secret

        env = {**self.lms_env(f"http://{self.net.hosts['app1'].address}:8000", self.db.direct_url), "REDIS_URL": "",
               "REDIS_SENTINELS": ""}
        subprocess.run(python_argv("db", "upgrade"), env={**self.base_env(), **env}, check=True,
                       capture_output=True, timeout=120)
        settings = load_settings(env)
        c = build_container(settings)
        try:
            with _no_proxy_env():
                register_with_scoring_engine(settings.scoring_client_name, settings.transactions_url, c.uow(),
                                             c.scoring_engine, c.box, c.clock, generate_secret)
            add_client(BANK_USER, Role.BANK, c.uow(), c.box, c.clock, lambda: self.bank_password,
                       description="multi-host harness bank client")
        finally:
            c.close()

    # --- driving and inspecting -----------------------------------------------------------------
    @property
    def engine(self):
        """SQLAlchemy engine straight to PostgreSQL (not through PgBouncer), for inspection."""
        if self._engine is None:
            self._engine = create_engine(self.db.inspect_url, pool_size=2, pool_pre_ping=True)
        return self._engine

    def query(self, sql: str, **params) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def drive(self, plan: dict[str, Any], timeout: float = 120.0) -> list[dict[str, Any]]:
        """Run tests/multihost/drive.py on the client host with this plan; its results."""
        result = self.client_host.run_input(
            [sys.executable, "-m", "tests.multihost.drive"], json.dumps(plan), timeout, self.base_env())
        return json.loads(result)

    def drive_async(self, plan: dict[str, Any]) -> subprocess.Popen:
        return self.client_host.popen_input([sys.executable, "-m", "tests.multihost.drive"], json.dumps(plan),
                                            self.base_env())

    def soap(self, role: str, operation: str, fields: str = "", header: str = "") -> dict[str, Any]:
        """A request for drive(): `operation` on app host `role`, as the bank (HTTP Basic unless
        `header` carries a WS-Security header)."""
        from tests.support.soap import basic, envelope

        return {"url": f"{self.apps[role].url}/soap", "body": envelope(operation, fields, header).decode(),
                "headers": {} if header else basic(BANK_USER, self.bank_password)}

    def submit(self, role: str, customer: str, request_id: str, amount: str = "1000.00") -> dict[str, Any]:
        return self.soap(role, "SubmitLoan", f"<tns:customerNumber>{customer}</tns:customerNumber>"
                         f"<tns:amount>{amount}</tns:amount><tns:requestId>{request_id}</tns:requestId>")

    def sim_state(self) -> dict[str, Any]:
        import requests

        session = requests.Session()
        session.trust_env = False
        return session.get(f"http://{self.sim_host.address}:{SCORING_PORT}/_sim/state", timeout=5).json()

    def wait_decided(self, loan_ids: list[str], timeout: float = 120.0) -> dict[str, str]:
        """Loan id -> status once none is PENDING/SCORING, or at the timeout (the caller asserts)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = dict(self.query("SELECT id, status FROM loans WHERE id = ANY(:ids)", ids=list(loan_ids)))
            if all(rows.get(i) not in (None, "PENDING", "SCORING") for i in loan_ids) \
                    or time.monotonic() > deadline:
                return rows
            time.sleep(0.5)

    def decisions(self, loan_ids: list[str]) -> dict[str, int]:
        """Loan id -> how many times it was decided (loan_events into APPROVED/REJECTED/FAILED)."""
        rows = self.query("SELECT loan_id, count(*) FROM loan_events WHERE loan_id = ANY(:ids) "
                          "AND to_status IN ('APPROVED','REJECTED','FAILED') GROUP BY loan_id", ids=list(loan_ids))
        return {loan_id: 0 for loan_id in loan_ids} | dict(rows)

    def register_customers(self, first: int, count: int) -> list[str]:
        from bench.data import preregister

        preregister(self.engine, first, count)
        return [str(n) for n in range(first, first + count)]

    def restart_app(self, role: str) -> None:
        app = self.apps[role]
        app.kill()
        app.start()


def _sigterm_to_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through Cluster.__exit__: everything is cleaned up


class _no_proxy_env:
    """The harness's own HTTP calls never go through a proxy of the environment."""

    NAMES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")

    def __enter__(self):
        self.saved = {n: os.environ.pop(n) for n in self.NAMES if n in os.environ}

    def __exit__(self, *exc):
        os.environ.update(self.saved)
