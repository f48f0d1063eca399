"""What each host runs: PostgreSQL + PgBouncer, Redis + Sentinels, the simulators, the LMS.

Config files and data live in the run's temporary folder; every server runs in the foreground as a
child of the harness (no daemons), so killing its process group stops it.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .netns import HarnessError, Host, Process

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"  # initdb and postgres refuse to run as root
PG_PORT, PGBOUNCER_PORT = 5432, 6432
REDIS_PORTS = {"primary": 6379, "replica": 6380}
SENTINEL_PORTS = (26379, 26380, 26381)
SENTINEL_MASTER = "lms"
CBS_PORT, SCORING_PORT, LMS_PORT = 8093, 8094, 8000
DATABASE = "lms"
INSPECTOR = "harness"
#: PgBouncer's server connections per host pool (PostgreSQL sees at most this many from it).
PGBOUNCER_POOL_SIZE = 12
#: Seconds a start-up may take before the harness gives up.
START_TIMEOUT_SECONDS = 60.0


def wait_for(what: str, ready: Callable[[], bool], process: Process | None = None,
             timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise HarnessError(f"{what} exited ({process.popen.returncode}):\n{process.log_tail()}")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not ready yet, whatever it says
            pass
        time.sleep(0.2)
    tail = process.log_tail() if process else ""
    raise HarnessError(f"{what} not ready after {timeout:.0f} s\n{tail}")


def _as_postgres(path: Path) -> None:
    shutil.chown(path, PG_USER, PG_USER)


# --- database host ------------------------------------------------------------------------------
class Database:
    """Its own PostgreSQL instance (initdb in the run's folder) and PgBouncer in transaction mode."""

    def __init__(self, host: Host, folder: Path, subnet: str):
        self.host, self.folder, self.subnet = host, folder, subnet
        self.data = folder / "pgdata"
        self.sockets = folder / "pgsock"
        self.postgres: Process | None = None
        self.pgbouncer: Process | None = None

    @property
    def direct_url(self) -> str:  # for the harness itself: migrations, inspection
        return f"postgresql+psycopg2://lms@{self.host.address}:{PG_PORT}/{DATABASE}"

    @property
    def inspect_url(self) -> str:
        return f"postgresql+psycopg2://{INSPECTOR}@{self.host.address}:{PG_PORT}/{DATABASE}"

    @property
    def pooled_url(self) -> str:  # what the LMS hosts use
        return f"postgresql+psycopg2://lms@{self.host.address}:{PGBOUNCER_PORT}/{DATABASE}"

    def start(self, env: dict[str, str]) -> None:
        for path in (self.data, self.sockets):
            path.mkdir()
            _as_postgres(path)
        subprocess.run(["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups",
                        str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "lms", "--auth=trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"""
listen_addresses = '*'
port = {PG_PORT}
unix_socket_directories = '{self.sockets}'
max_connections = 80
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
log_min_messages = warning
""")
        with open(self.data / "pg_hba.conf", "w") as hba:
            hba.write(f"local all all trust\nhost all all 127.0.0.1/32 trust\n"
                      f"host all all {self.subnet}.0/24 trust\n")
        self.start_postgres(env)
        psql = [str(PG_BIN / "psql"), "-h", str(self.sockets), "-U", "lms", "-v", "ON_ERROR_STOP=1", "-q"]
        self.host.run(*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}")
        self.host.run(*psql, "-d", DATABASE, "-c", "CREATE EXTENSION pg_stat_statements")
        # The harness inspects as a role of its own, so pg_stat_statements can tell its queries apart.
        self.host.run(*psql, "-d", DATABASE, "-c", f"CREATE ROLE {INSPECTOR} LOGIN SUPERUSER")
        self._start_pgbouncer(env)

    def start_postgres(self, env: dict[str, str]) -> None:
        self.postgres = self.host.spawn("postgres", [str(PG_BIN / "postgres"), "-D", str(self.data)], env,
                                        user=PG_USER)
        wait_for("PostgreSQL", self.postgres_ready, self.postgres)

    def postgres_ready(self) -> bool:
        return self.host.run(str(PG_BIN / "pg_isready"), "-q", "-h", self.host.address, "-p", str(PG_PORT),
                             check=False).returncode == 0

    def stop_postgres(self) -> None:
        """A fast shutdown (SIGINT to the postmaster): every session is cut, as in a restart."""
        assert self.postgres is not None
        self.postgres.popen.send_signal(2)
        self.postgres.popen.wait(timeout=30)
        self.host.processes.remove(self.postgres)

    def _start_pgbouncer(self, env: dict[str, str]) -> None:
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(f"""[databases]
{DATABASE} = host=127.0.0.1 port={PG_PORT} dbname={DATABASE} user=lms

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = {PGBOUNCER_PORT}
unix_socket_dir =
auth_type = any
; transaction pooling: a server connection is lent for one transaction only, so the LMS must keep no
; session state (no SET, no session advisory locks, no server-side prepared statements).
pool_mode = transaction
default_pool_size = {PGBOUNCER_POOL_SIZE}
max_client_conn = 300
; a restarted PostgreSQL: fail waiting clients quickly (Server.ServiceUnavailable), retry every second
server_login_retry = 1
server_connect_timeout = 2
query_wait_timeout = 3
; libpq startup parameters PgBouncer does not track itself (DB_STATEMENT_TIMEOUT sends `options`)
ignore_startup_parameters = extra_float_digits,options
logfile =
pidfile =
""")
        _as_postgres(ini)
        self.pgbouncer = self.host.spawn("pgbouncer", ["/usr/sbin/pgbouncer", str(ini)], env, user=PG_USER)
        wait_for("PgBouncer", lambda: self.host.run(
            str(PG_BIN / "pg_isready"), "-q", "-h", self.host.address, "-p", str(PGBOUNCER_PORT), "-d", DATABASE,
            check=False).returncode == 0, self.pgbouncer)


# --- Redis host ---------------------------------------------------------------------------------
class RedisGroup:
    """A primary, a replica and three Sentinels, on one host."""

    def __init__(self, host: Host, folder: Path):
        self.host, self.folder = host, folder
        self.servers: dict[int, Process] = {}

    @property
    def sentinels(self) -> str:
        return ",".join(f"{self.host.address}:{port}" for port in SENTINEL_PORTS)

    def start(self, env: dict[str, str]) -> None:
        primary, replica = REDIS_PORTS["primary"], REDIS_PORTS["replica"]
        self.start_server(primary, env)
        self.start_server(replica, env, ["--replicaof", self.host.address, str(primary)])
        for port in SENTINEL_PORTS:
            conf = self.folder / f"sentinel-{port}.conf"
            conf.write_text(f"""port {port}
bind 0.0.0.0
protected-mode no
dir {self.folder}
sentinel monitor {SENTINEL_MASTER} {self.host.address} {primary} 2
sentinel down-after-milliseconds {SENTINEL_MASTER} 1000
sentinel failover-timeout {SENTINEL_MASTER} 4000
sentinel parallel-syncs {SENTINEL_MASTER} 1
""")
            process = self.host.spawn(f"sentinel-{port}", ["redis-sentinel", str(conf)], env)
            self.servers[port] = process
            wait_for(f"Sentinel {port}", lambda p=port: self.cli(p, "PING") == "PONG", process)
        wait_for("the replica's sync", lambda: "master_link_status:up" in self.cli(replica, "INFO", "replication"))
        # Every Sentinel must know the replica and its two peers before a failover can be judged.
        wait_for("the Sentinels' view", lambda: all(
            self.cli(p, "SENTINEL", "REPLICAS", SENTINEL_MASTER).count(str(replica)) >= 1
            and int(self._sentinel_field(p, "num-other-sentinels")) == 2 for p in SENTINEL_PORTS))

    def start_server(self, port: int, env: dict[str, str], extra: list[str] | None = None) -> Process:
        folder = self.folder / f"redis-{port}"
        folder.mkdir(exist_ok=True)
        process = self.host.spawn(f"redis-{port}", [
            "redis-server", "--port", str(port), "--bind", "0.0.0.0", "--protected-mode", "no",
            "--save", "", "--appendonly", "no", "--dir", str(folder), *(extra or [])], env)
        self.servers[port] = process
        wait_for(f"Redis {port}", lambda: self.cli(port, "PING") == "PONG", process)
        return process

    def kill(self, port: int) -> None:
        process = self.servers.pop(port)
        process.signal_group(9)
        process.popen.wait(timeout=10)
        self.host.processes.remove(process)

    def cli(self, port: int, *command: str) -> str:
        return self.host.run("redis-cli", "-h", self.host.address, "-p", str(port), *command,
                             check=False).stdout.strip()

    def primary_port(self) -> int:
        """The primary's port as the first Sentinel reports it."""
        answer = self.cli(SENTINEL_PORTS[0], "SENTINEL", "get-master-addr-by-name", SENTINEL_MASTER).split()
        return int(answer[1])

    def _sentinel_field(self, port: int, name: str) -> str:
        values = self.cli(port, "SENTINEL", "MASTER", SENTINEL_MASTER).splitlines()
        return values[values.index(name) + 1]


# --- simulators and the LMS ---------------------------------------------------------------------
def python_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "lms_soap.cli", *args]


def start_simulators(host: Host, env: dict[str, str]) -> None:
    import requests

    for system, port in (("cbs", CBS_PORT), ("scoring", SCORING_PORT)):
        process = host.spawn(f"{system}-simulator", python_argv(
            "simulate", system, "--host", "0.0.0.0", "--port", str(port), "--threads", "8"), env)
        path = "/service/customer?wsdl" if system == "cbs" else "/_sim/health"
        url = f"http://{host.address}:{port}{path}"
        wait_for(f"the {system} simulator", lambda u=url: _no_proxy(requests).get(u, timeout=2).ok, process)


def _no_proxy(requests_module):
    session = requests_module.Session()
    session.trust_env = False  # never a proxy: every address is inside our namespaces
    return session


class AppHost:
    """gunicorn (one worker, LMS_THREADS threads) and `lms-soap worker` on one host."""

    def __init__(self, host: Host, env: dict[str, str]):
        self.host, self.env = host, env
        self.url = f"http://{host.address}:{LMS_PORT}"
        self.web: Process | None = None
        self.worker: Process | None = None

    def start(self) -> "AppHost":
        import requests

        session = _no_proxy(requests)
        self.web = self.host.spawn("web", python_argv(
            "serve", "--bind", f"0.0.0.0:{LMS_PORT}", "--workers", "1", "--threads", self.env["LMS_THREADS"]),
            self.env)
        log = self.host.net.log_dir / f"{self.host.role}-worker.log"
        seen = log.stat().st_size if log.exists() else 0  # a restarted host appends to its logs
        self.worker = self.host.spawn("worker", python_argv("worker"), self.env)
        wait_for(f"{self.host.role} web", lambda: session.get(f"{self.url}/readyz", timeout=2).ok, self.web)
        wait_for(f"{self.host.role} worker", lambda: b"listening on" in log.read_bytes()[seen:].lower(),
                 self.worker)
        return self

    def kill(self) -> None:
        """SIGKILL to every process of the host at once."""
        self.host.kill_all()
        self.web = self.worker = None

    def processes(self) -> dict[str, Process]:
        return {kind: p for kind, p in (("web", self.web), ("worker", self.worker)) if p is not None}
