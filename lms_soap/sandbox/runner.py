"""`lms-soap sandbox`: the LMS, the CBS simulator, the scoring simulator and a worker on one machine.

Start-up, in order:
1. the state directory (lms_soap.sandbox.state): secret key, SQLite file, credentials, logs;
2. the database: DATABASE_URL when set, else `sqlite:///<state>/lms.db`, migrated to head;
3. Redis: REDIS_URL when it answers, else an embedded redis-server (lms_soap.sandbox.embedded_redis);
4. both simulators (gunicorn, one worker each: the scoring simulator keeps its state in memory);
5. the LMS registers with the scoring simulator (new memory at every start) and the sandbox's API
   clients get their passwords (kept across restarts, re-hashed with the current secret key);
6. the LMS (gunicorn `lms_soap.wsgi:application`) and the worker (`lms-soap worker`);
7. the URLs and credentials are printed and written to <state>/credentials.json.

Every child gets its settings through the environment (lms_soap.config) and runs in its own process
group (lms_soap.sandbox.processes, the launcher the tests and the bench use too); every gunicorn runs
with lms_soap/gunicorn_conf.py like `lms-soap serve`, with a shorter graceful timeout
(SANDBOX_DEFAULTS). Ctrl-C, SIGTERM or SIGHUP stops them all, then Redis.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from lms_soap.cli import gunicorn_argv, serve_environment
from lms_soap.config import Settings, load_settings

from .embedded_redis import EmbeddedRedis, EmbeddedRedisError
from .processes import ChildFailed, Children, http_probe, port_open
from .state import StateDir
from .supervisor import SandboxError, StopRequested, StopSignals

#: Settings the sandbox picks for quick demos, unless the environment sets them.
SANDBOX_DEFAULTS = {
    "SCORING_BACKOFF_BASE": "0.5",  # seconds before the first queryScore retry
    "SCORING_BACKOFF_MAX": "4",
    "RECONCILE_INTERVAL": "5",  # seconds between reconciler passes
    "RECONCILE_GRACE": "2",
    "SCORING_SIM_NOT_READY_POLLS": "2",  # "not ready" answers before a score
    "ARREARS_INTERVAL": "2",  # seconds: SANDBOX-FAST's arrears path is watched in a minute
    "OUTBOX_INTERVAL": "1",  # seconds between deliveries of the bank's notifications
    "LOG_LEVEL": "INFO",
    "LMS_GRACEFUL_TIMEOUT": "5",  # gunicorn's: a quick Ctrl-C (production: 20 s)
}
#: The API clients of the sandbox: credentials.json key -> (username, role).
SANDBOX_CLIENTS = {"bank": ("sandbox-bank", "bank"), "scoring": ("sandbox-scoring", "scoring"),
                   "admin": ("sandbox-admin", "admin")}
#: Seconds each group of children gets to answer its health check.
READY_TIMEOUT_SECONDS = 30.0
#: Seconds between two looks at the children while the sandbox runs.
WATCH_INTERVAL_SECONDS = 0.5
LMS_THREADS = 4
#: Port of the sandbox's bank callback receiver (`--bank-port`).
DEFAULT_BANK_PORT = 8095
SIMULATOR_THREADS = 16


def run_sandbox(args: Any) -> int:
    if "LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.WARNING)  # the terminal shows the banner, logs go to files
    state = StateDir(args.state_dir)
    other = state.running_sandbox()
    if other:
        print(f"error: a sandbox (pid {other}) already runs on {state.path}", file=sys.stderr)
        return 1
    url_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    ports = [args.lms_port, args.cbs_port, args.scoring_port]
    if not os.environ.get("BANK_CALLBACK_URL"):  # the sandbox's own bank receiver listens too
        ports.append(getattr(args, "bank_port", None) or DEFAULT_BANK_PORT)
    busy = [p for p in ports if port_open(url_host, p)]
    if busy:
        hint = f" (a killed sandbox's processes are listed in {state.record_path})" if state.record() else ""
        print(f"error: port(s) {', '.join(map(str, busy))} on {url_host} already in use; pick others with "
              f"--lms-port/--cbs-port/--scoring-port{hint}", file=sys.stderr)
        return 1
    state.create()

    signals = StopSignals()
    supervisor: Children | None = None
    redis: EmbeddedRedis | None = None
    code = 0
    try:
        database_url = os.environ.get("DATABASE_URL") or state.database_url
        _migrate(load_settings({**os.environ, "DATABASE_URL": database_url}))
        redis_url = load_settings().redis_url
        if not _redis_answers(redis_url):
            with signals.deferred():
                redis = EmbeddedRedis(folder=state.path).start()
            redis_url = redis.url
        env = _child_env(args, url_host, database_url, redis_url, state.secret_key())
        # The sandbox's own bank receiver, unless the environment names a bank to call.
        own_receiver = not os.environ.get("BANK_CALLBACK_URL")
        bank_port = getattr(args, "bank_port", None) or DEFAULT_BANK_PORT
        if own_receiver:
            env["BANK_CALLBACK_URL"] = f"http://{url_host}:{bank_port}/callback"
            env["BANK_RECEIVER_EVENTS"] = str(state.path / "bank-events.jsonl")
        # A queue of its own: two sandboxes sharing one Redis must not take each other's jobs.
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", _fresh_metrics_dir(state.path))
        env.setdefault("QUEUE_NAME", f"lms-sandbox-{hashlib.sha1(str(state.path).encode()).hexdigest()[:8]}")
        settings = load_settings(env)
        supervisor = Children(state.log_dir, env)
        record = {"runner_pid": os.getpid(), "started_at": datetime.now(timezone.utc).isoformat(),
                  "redis_pid": redis.pid if redis else None, "children": {}}

        def gunicorn(name: str, spec: str, port: int, workers: int, threads: int, ready):
            return supervisor.spawn(name, gunicorn_argv(spec), ready,
                                    serve_environment(env, f"{args.host}:{port}", workers, threads))

        with signals.deferred():
            sims = [
                gunicorn("cbs-simulator", "lms_soap.sandbox.cbs_simulator:create_app_from_env()", args.cbs_port,
                         1, SIMULATOR_THREADS, http_probe(f"{settings.cbs_customer_url}?wsdl")),
                gunicorn("scoring-simulator", "lms_soap.sandbox.scoring_simulator:create_app_from_env()",
                         args.scoring_port, 1, SIMULATOR_THREADS,
                         http_probe(f"{settings.scoring_base_url}/_sim/health")),
            ]
            if own_receiver:  # one process: it keeps the events in memory too
                sims.append(gunicorn("bank-receiver", "lms_soap.sandbox.bank_receiver:create_app_from_env()",
                                     bank_port, 1, SIMULATOR_THREADS,
                                     http_probe(settings.bank_callback_url)))
            state.write_record({**record, "children": supervisor.pids()})
        supervisor.wait_ready(sims, READY_TIMEOUT_SECONDS)
        credentials = _register_and_create_clients(settings, state)

        with signals.deferred():
            lms = [
                gunicorn("lms", "lms_soap.wsgi:application", args.lms_port, args.workers, LMS_THREADS,
                         http_probe(f"{settings.public_url}/healthz", f"{settings.public_url}/readyz")),
                supervisor.spawn("worker", [sys.executable, "-m", "lms_soap.cli", "worker"],
                                 _worker_probe(settings)),
            ]
            state.write_record({**record, "children": supervisor.pids()})
        supervisor.wait_ready(lms, READY_TIMEOUT_SECONDS)

        state.write_credentials(credentials)
        _print_banner(state, settings, credentials, redis is not None)
        while True:
            supervisor.check_running()
            time.sleep(WATCH_INTERVAL_SECONDS)
    except StopRequested:
        signals.ignore()  # a second Ctrl-C must not cut the clean-up short
        print("\nstopping the sandbox...", flush=True)
    except (SandboxError, ChildFailed, EmbeddedRedisError) as exc:
        signals.ignore()
        print(f"error: {exc}", file=sys.stderr, flush=True)
        code = 1
    except Exception:  # noqa: BLE001 - whatever failed, the children are stopped below
        signals.ignore()
        traceback.print_exc()
        code = 1
    finally:
        signals.ignore()
        stopping = time.monotonic()
        try:
            if supervisor is not None:
                supervisor.stop()
            if redis is not None:
                redis.stop()
        finally:
            signals.restore()
    print(f"sandbox stopped in {time.monotonic() - stopping:.1f} s (state kept in {state.path})", flush=True)
    return code


def _migrate(settings: Settings) -> None:
    from lms_soap.models import migrate
    from lms_soap.models.db import build_engine

    engine = build_engine(settings)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _redis_answers(url: str) -> bool:
    if not url:
        return False
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def _fresh_metrics_dir(state_path) -> str:
    """/metrics sums the request counters of every gunicorn worker through prometheus_client's
    multiprocess files; they start empty at each sandbox start."""
    folder = Path(state_path) / "prometheus"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return str(folder)


def _child_env(args: Any, url_host: str, database_url: str, redis_url: str, secret_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SCORING_TRANSACTIONS_URL", None)  # the simulator must fetch from this LMS
    for name, value in SANDBOX_DEFAULTS.items():
        env.setdefault(name, value)
    lms, cbs = f"http://{url_host}:{args.lms_port}", f"http://{url_host}:{args.cbs_port}"
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LMS_SECRET_KEY": os.environ.get("LMS_SECRET_KEY") or secret_key,
        "LMS_PUBLIC_URL": lms,
        "CBS_CUSTOMER_URL": f"{cbs}/service/customer",
        "CBS_TRANSACTIONS_URL": f"{cbs}/service/transaction-data",
        "SCORING_BASE_URL": f"http://{url_host}:{args.scoring_port}",
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": ",".join(filter(None, [env.get("NO_PROXY", ""), "127.0.0.1,localhost", url_host])),
    })
    settings = load_settings(env)  # the CBS simulator accepts the credentials the LMS presents
    env.update({"CBS_SIM_USERNAME": settings.cbs_username, "CBS_SIM_PASSWORD": settings.cbs_password,
                "CBS_SIM_AUTH_MODE": settings.cbs_auth_mode})
    return env


def _worker_probe(settings: Settings):
    """Ready once RQ lists a worker with the child's pid on the sandbox's queue."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    queue = Queue(settings.queue_name, connection=redis)

    def probe(child) -> bool:
        try:
            return any(w.pid == child.pid for w in Worker.all(connection=redis, queue=queue))
        except RedisError:
            return False

    return probe


def _register_and_create_clients(settings: Settings, state: StateDir) -> dict[str, Any]:
    """createClient at the scoring simulator, then the bank/scoring/admin API clients (their
    passwords kept from credentials.json when present). Returns the new credentials.json content."""
    from lms_soap.bootstrap import build_container
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.errors import LendingError
    from lms_soap.lending.model import Role
    from lms_soap.lending.registration import register_with_scoring_engine

    previous = state.credentials()
    credentials: dict[str, Any] = {
        "lms_url": settings.public_url, "wsdl_url": f"{settings.soap_url}?wsdl",
        "cbs_url": settings.cbs_customer_url.rsplit("/service/", 1)[0],
        "scoring_url": settings.scoring_base_url,
    }
    c = build_container(settings)
    try:
        from lms_soap.lending.lifecycle import ensure_product
        from lms_soap.lending.products import SANDBOX_FAST

        ensure_product(SANDBOX_FAST, c.uow())  # idempotent: kept across restarts
        try:
            register_with_scoring_engine(settings.scoring_client_name, settings.transactions_url, c.uow(),
                                         c.scoring_engine, c.box, c.clock, generate_secret)
        except LendingError as exc:
            raise SandboxError(f"registration with the scoring simulator failed: {exc.message}") from None
        for key, (username, role) in SANDBOX_CLIENTS.items():
            old = previous.get(key) if isinstance(previous.get(key), dict) else {}
            kept = old.get("password") if old.get("username") == username else None
            _, password = add_client(username, Role(role), c.uow(), c.box, c.clock,
                                     (lambda: kept) if kept else generate_secret,
                                     description=f"sandbox {role} client", rotate=True)
            credentials[key] = {"username": username, "password": password}
    finally:
        c.close()
    return credentials


def _print_banner(state: StateDir, settings: Settings, credentials: dict[str, Any], embedded: bool) -> None:
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    redis = make_url(settings.redis_url).render_as_string(hide_password=True)
    lines = [
        "",
        f"LMS sandbox ready (state in {state.path}, logs in {state.log_dir})",
        "",
        f"  LMS                {credentials['lms_url']}   (health: /healthz, /readyz; /metrics: admin client)",
        f"  WSDL               {credentials['wsdl_url']}",
        f"  CBS simulator      {settings.cbs_customer_url}?wsdl  "
        f"(WS-Security {settings.cbs_username}/{settings.cbs_password})",
        f"  Scoring simulator  {credentials['scoring_url']}   (counters: /_sim/state)",
        f"  Database           {database}",
        f"  Redis              {redis}{' (embedded)' if embedded else ''}, queue {settings.queue_name}",
        f"  Bank callback      {settings.bank_callback_url or '(BANK_CALLBACK_URL unset: not sent)'}"
        f"   (NotifyLoanEvent; the sandbox's receiver logs each in {state.log_dir}/bank-receiver.log)",
        "",
        "  API clients (HTTP Basic, or a WS-Security UsernameToken):",
        *(f"    {key:8} {credentials[key]['username']:18} {credentials[key]['password']}"
          for key in SANDBOX_CLIENTS),
        f"  Saved in {state.credentials_path}",
        "",
        f"  Walk the journey:  lms-soap demo --state-dir {state.path}",
        "  Stop: Ctrl-C (the state directory is reused at the next start)",
        "",
    ]
    print("\n".join(lines), flush=True)
