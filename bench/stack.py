"""The processes of one benchmark run, all on this machine and on loopback ports:

- a PostgreSQL database of its own (dropped and migrated afresh) and a Redis database (flushed);
- the CBS and scoring simulators under gunicorn (the scoring one answers at once by default);
- the LMS (`lms_soap.wsgi:application`) and the bare-Spyne baseline (`bench.baseline_app`), each
  under the production gunicorn conf of `lms-soap serve` (lms_soap.cli.gunicorn_argv and
  serve_environment, lms_soap/gunicorn_conf.py) with the same workers and threads;
- N scoring workers (`bench.pipeline_worker`: the production `lms-soap worker` plus timers).

With `db` set ("sqlite" or "postgresql", `python -m bench.run --db ...`) the LMS is served as
`lms-soap sandbox` serves it: the sandbox's timers and log level (SANDBOX_DEFAULTS), request
counters in prometheus_client's multiprocess files, `lms-soap worker` running beside it from the
start, and on "sqlite" a fresh database file (the sandbox's embedded default).

Every child leads its own process group and is stopped with it (lms_soap.sandbox.processes, the
launcher of the sandbox and the tests); nothing else is touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from lms_soap.cli import gunicorn_argv, serve_environment
from lms_soap.sandbox.processes import Child, Children, free_port, http_probe
from lms_soap.sandbox.runner import SANDBOX_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
BENCH_SECRET_KEY = "lms-bench-secret-key-not-for-production"
#: Seconds the servers get to answer their health checks.
START_TIMEOUT_SECONDS = 60.0



def exit_on_sigterm() -> None:
    """SIGTERM (kill, a CI timeout) ends the run as Ctrl-C does: through the `finally` that stops
    every child process. Without it the interpreter died at once and left them running."""
    def stop(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop)


@dataclass
class StackConfig:
    workers: int = 2  # gunicorn workers, LMS and baseline alike
    threads: int = 4  # per gunicorn worker: >1 is gthread (keep-alive), 1 is sync
    rq_workers: int = 2
    pg_admin_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    database: str = "lms_bench"
    redis_url: str = "redis://127.0.0.1:6379/9"
    log_dir: Path = Path("/tmp/lms-bench")
    sim_threads: int = 8
    lms_app: str = "lms_soap.wsgi:application"  # another WSGI entry point, for experiments
    env: dict[str, str] = field(default_factory=dict)  # extra settings for the LMS and the workers
    #: None: the web tier alone (PostgreSQL, scoring workers started by the harness). "sqlite" or
    #: "postgresql": the LMS served as the sandbox serves it (see AS_SERVED).
    db: str | None = None

    @property
    def served(self) -> bool:
        return self.db is not None

    @property
    def database_url(self) -> str:
        if self.db == "sqlite":
            return f"sqlite:///{self.log_dir / 'lms.db'}"
        return make_url(self.pg_admin_url).set(database=self.database).render_as_string(hide_password=False)

    @property
    def worker_class(self) -> str:
        return "gthread" if self.threads > 1 else "sync"


def _cpu(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def _tree_cpu(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    return sum(_cpu(p.pid) for p in procs)


def cpu_delta(before: dict[str, float], after: dict[str, float], per: float) -> dict[str, float]:
    """Milliseconds of CPU per unit (request, loan) by process, and their total."""
    per = per or 1
    out = {k: round(1000 * (after.get(k, 0.0) - v) / per, 3) for k, v in before.items()}
    out["total"] = round(sum(out.values()), 3)
    return out


class Stack:
    def __init__(self, cfg: StackConfig):
        self.cfg = cfg
        cfg.log_dir.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("lms", "baseline", "cbs", "scoring")}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.processes = Children(cfg.log_dir, cwd=ROOT)
        self.worker_stats: list[Path] = []
        self._pg_pids: set[int] = set()
        self.env = self._environment()

    # --- environment -------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        cbs = self.urls["cbs"]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "NO_PROXY": "127.0.0.1,localhost",
            "DATABASE_URL": self.cfg.database_url,
            "REDIS_URL": self.cfg.redis_url,
            "LMS_PUBLIC_URL": self.urls["lms"],
            "LMS_SECRET_KEY": BENCH_SECRET_KEY,
            "CBS_CUSTOMER_URL": f"{cbs}/service/customer",
            "CBS_TRANSACTIONS_URL": f"{cbs}/service/transaction-data",
            "SCORING_BASE_URL": self.urls["scoring"],
            "SCORING_SIM_NOT_READY_POLLS": "0",  # the engine answers at once
            "RECONCILE_INTERVAL": "3600",  # the harness queues every job itself
            "QUEUE_NAME": "lms-bench-scoring",
            # Production gunicorn settings, minus the periodic worker restart: a restart inside a 5 s
            # measurement would stall a worker for its boot, and the RSS read after the run would be a
            # fresh one's.
            "LMS_MAX_REQUESTS": "0",
        }
        env.pop("SCORING_TRANSACTIONS_URL", None)
        if self.cfg.served:
            # What `lms-soap sandbox` gives its children: its timers and log level, request
            # counters shared through prometheus_client's multiprocess files.
            env.update(SANDBOX_DEFAULTS)
            metrics = self.cfg.log_dir / "prometheus"
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
            env["QUEUE_NAME"] = "lms-bench-served"
        env.update(self.cfg.env)
        from lms_soap.config import load_settings

        settings = load_settings(env)
        env.update({"CBS_SIM_USERNAME": settings.cbs_username, "CBS_SIM_PASSWORD": settings.cbs_password,
                    "CBS_SIM_AUTH_MODE": settings.cbs_auth_mode})
        return env

    def pg_sessions(self) -> int:
        """Connections ever opened to the benchmark's database (PostgreSQL >= 14)."""
        if self.cfg.db == "sqlite":
            return -1
        engine = create_engine(self.cfg.database_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT sessions FROM pg_stat_database "
                                             "WHERE datname = current_database()")).scalar() or 0)
        except Exception:  # noqa: BLE001 - older PostgreSQL: no figure
            return -1
        finally:
            engine.dispose()

    def settings(self):
        from lms_soap.config import load_settings

        return load_settings(self.env)

    # --- backends ----------------------------------------------------------------------------
    def prepare_backends(self) -> None:
        """A fresh schema in the benchmark's own database, and an empty Redis database."""
        from redis import Redis

        from lms_soap.models import migrate

        Redis.from_url(self.cfg.redis_url).flushdb()
        if self.cfg.db == "sqlite":  # the sandbox's embedded default: a fresh file, migrated
            from lms_soap.models.db import build_engine

            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.cfg.log_dir / 'lms.db'}{suffix}").unlink(missing_ok=True)
            engine = build_engine(self.settings())
            migrate.upgrade(engine)
            engine.dispose()
            return
        admin = create_engine(self.cfg.pg_admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": self.cfg.database}).scalar():
                conn.execute(text(f'CREATE DATABASE "{self.cfg.database}"'))
        admin.dispose()
        engine = create_engine(self.cfg.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(engine)
        engine.dispose()

    # --- processes ---------------------------------------------------------------------------
    @property
    def children(self) -> dict[str, Child]:
        return {c.name: c for c in self.processes.children}

    def _gunicorn(self, name: str, spec: str, workers: int, threads: int, health: str) -> Child:
        # The LMS's workers size their database pool to the threads, as under `lms-soap serve`.
        env = serve_environment(self.env, f"127.0.0.1:{self.ports[name]}", workers, threads)
        return self.processes.spawn(name, gunicorn_argv(spec), http_probe(f"{self.urls[name]}{health}"), env)

    def start_simulators(self) -> None:
        t = self.cfg.sim_threads
        started = [
            self._gunicorn("cbs", "lms_soap.sandbox.cbs_simulator:create_app_from_env()", 1, t,
                           "/service/customer?wsdl"),
            self._gunicorn("scoring", "lms_soap.sandbox.scoring_simulator:create_app_from_env()", 1, t,
                           "/_sim/health"),
        ]
        self.processes.wait_ready(started, START_TIMEOUT_SECONDS)

    def start_servers(self, baseline: bool = True) -> None:
        started = [self._gunicorn("lms", self.cfg.lms_app, self.cfg.workers, self.cfg.threads, "/readyz")]
        if baseline:
            started.append(self._gunicorn("baseline", "bench.baseline_app:application", self.cfg.workers,
                                          self.cfg.threads, "/soap?wsdl"))
        if self.cfg.served:  # the worker beside it, as in the sandbox: `lms-soap worker`, from the start
            self.processes.spawn("worker-served", [sys.executable, "-m", "lms_soap.cli", "worker"],
                                 env=self.env)
        self.processes.wait_ready(started, START_TIMEOUT_SECONDS)
        if self.cfg.served:
            self.wait_workers_ready()

    def start_workers(self, count: int | None = None) -> None:
        self.worker_stats = []
        for index in range(count if count is not None else self.cfg.rq_workers):
            stats = self.cfg.log_dir / f"worker-{index}.stats.json"
            stats.unlink(missing_ok=True)
            self.worker_stats.append(stats)
            self.processes.spawn(f"worker-{index}", [sys.executable, "-m", "bench.pipeline_worker"],
                                 env={**self.env, "BENCH_WORKER_STATS": str(stats)})
        self.wait_workers_ready()

    def wait_workers_ready(self, timeout: float = 60.0) -> None:
        from redis import Redis
        from rq import Queue, Worker

        redis = Redis.from_url(self.cfg.redis_url)
        queue = Queue(self.env["QUEUE_NAME"], connection=redis)
        wanted = {p.pid for n, p in self.children.items() if n.startswith("worker-")}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if {w.pid for w in Worker.all(connection=redis, queue=queue)} >= wanted:
                return
            time.sleep(0.2)
        raise RuntimeError("the scoring workers did not register with RQ in time")

    def stop_workers(self) -> None:
        # A second SIGTERM after a few seconds: an RQ worker takes it as a cold shutdown.
        self.processes.stop([c for c in self.processes.children if c.name.startswith("worker-")],
                            timeout=25.0, term_again_after=5.0)

    def stop(self) -> None:
        self.processes.stop(timeout=25.0, term_again_after=5.0)

    # --- inspection --------------------------------------------------------------------------
    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each of our process trees, and by the
        PostgreSQL backends connected to the benchmark's database."""
        out: dict[str, float] = {}
        for name, process in self.children.items():
            key = "worker" if name.startswith("worker-") else name
            out[key] = out.get(key, 0.0) + _tree_cpu(process.pid)
        if self.cfg.db == "sqlite":
            return out
        try:
            engine = create_engine(self.cfg.database_url)
            with engine.connect() as conn:
                pids = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = "
                                              "current_database() AND pid <> pg_backend_pid()")).scalars())
            engine.dispose()
        except Exception:  # noqa: BLE001
            pids = []
        self._pg_pids.update(pids)
        out["postgres"] = sum(_cpu(pid) for pid in self._pg_pids)
        return out

    def gunicorn_worker_cpu(self, name: str) -> dict[int, float]:
        """CPU seconds of each gunicorn worker: how evenly the keep-alive connections spread."""
        process = self.children.get(name)
        if process is None:
            return {}
        return {child.pid: _cpu(child.pid) for child in psutil.Process(process.pid).children()}

    def gunicorn_worker_memory(self, name: str) -> list[dict[str, float]]:
        """RSS (and PSS, the fair share of pages shared with the master) of each worker, in MB."""
        process = self.children.get(name)
        if process is None:
            return []
        figures = []
        for child in psutil.Process(process.pid).children():
            try:
                full = child.memory_full_info()
            except psutil.Error:
                continue
            figures.append({"pid": child.pid, "rss_mb": round(full.rss / 2**20, 1),
                            "pss_mb": round(getattr(full, "pss", 0) / 2**20, 1),
                            "uss_mb": round(getattr(full, "uss", 0) / 2**20, 1)})
        return figures
