"""Shared fixtures: real PostgreSQL and Redis (or their local fall-backs), migrations run once,
tables emptied before each test that uses the database, and both simulators served on loopback."""
from __future__ import annotations

import contextlib
import os
import time
from types import SimpleNamespace
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from lms_soap.config import Settings, load_settings
from lms_soap.models import migrate
from tests.support import backends
from tests.support.servers import free_port, serve_wsgi

# Tests never reach the network beyond loopback: no proxy may capture 127.0.0.1 calls.
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def database_url() -> str:
    url = backends.database_url()
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return backends.redis_url()


def empty_tables(url: str) -> None:
    engine = create_engine(url)
    migrate.empty_tables(engine)
    engine.dispose()


@pytest.fixture
def db(database_url):
    """An empty database (schema migrated once per session)."""
    empty_tables(database_url)
    return database_url


@pytest.fixture
def flushed_redis(redis_url):
    from redis import Redis

    client = Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def cbs_url():
    from lms_soap.sandbox.cbs_simulator import create_app

    with serve_wsgi(create_app()) as url:
        yield url


@pytest.fixture(scope="session")
def scoring_sim():
    """The scoring simulator answering after one 'not ready' poll; `.app` exposes its state."""
    from lms_soap.sandbox.scoring_simulator import create_app

    app = create_app(not_ready_polls=1)
    with serve_wsgi(app) as url:
        yield SimpleNamespace(url=url, app=app)


#: The LMS_SECRET_KEY of tests: not the committed development key, which the server, the worker and
#: `lms-soap clients add` refuse (tests/e2e/test_production_key.py).
TEST_SECRET_KEY = "lms-test-secret-key-not-for-production"


def make_settings(database_url: str, redis_url: str = "", **overrides) -> Settings:
    """Test settings: fast scoring back-off, loopback everything, a test secret key."""
    base = load_settings({
        "DATABASE_URL": database_url,
        "LMS_SECRET_KEY": TEST_SECRET_KEY,
        "REDIS_URL": redis_url,
        "SCORING_BACKOFF_BASE": "0.05",
        "SCORING_BACKOFF_MAX": "0.2",
        "SCORING_MAX_ATTEMPTS": "6",
        "SCORING_MAX_INITIATE_ATTEMPTS": "3",
        "LOAN_MAX_AMOUNT": "100000",
        "CBS_READ_TIMEOUT": "2",
        "SCORING_READ_TIMEOUT": "2",
        "RECONCILE_GRACE": "0.5",
    })
    return base.replace(**overrides)


@pytest.fixture
def lms(db, flushed_redis, cbs_url, scoring_sim):
    """The LMS served in-process on loopback against the real database, Redis and simulators.

    Yields an object with: url, settings, container, wsdl_url, and credentials(role)."""
    from lms_soap.app import create_app
    from lms_soap.bootstrap import build_container

    port = free_port()
    settings = make_settings(
        db, flushed_redis,
        public_url=f"http://127.0.0.1:{port}",
        cbs_customer_url=f"{cbs_url}/service/customer",
        cbs_transactions_url=f"{cbs_url}/service/transaction-data",
        scoring_base_url=scoring_sim.url,
    )
    with serve_lms(settings, port) as served:
        yield served


@contextlib.contextmanager
def serve_lms(settings: Settings, port: int) -> Iterator["LmsUnderTest"]:
    """The LMS of these settings (public_url on `port`) served in-process on loopback."""
    from lms_soap.app import create_app
    from lms_soap.bootstrap import build_container

    container = build_container(settings)
    try:
        with serve_wsgi(create_app(settings, container), port=port) as url:
            yield LmsUnderTest(url, settings, container)
    finally:
        container.close()


class LmsUnderTest:
    def __init__(self, url, settings, container):
        self.url = url
        self.settings = settings
        self.container = container
        self.wsdl_url = f"{url}/soap?wsdl"
        self._clients: dict[str, tuple[str, str]] = {}

    def credentials(self, role: str = "bank") -> tuple[str, str]:
        """(username, password) of an API client with that role, created on first use."""
        if role not in self._clients:
            from lms_soap.crypto import generate_secret
            from lms_soap.lending.api_clients import add_client
            from lms_soap.lending.model import Role

            c = self.container
            client, secret = add_client(f"test-{role}", Role(role), c.uow(), c.box, c.clock, generate_secret)
            self._clients[role] = (client.username, secret)
        return self._clients[role]

    def timed_call(self, operation: str, fields: str, role: str = "bank", timeout: float = 30):
        """POST one SOAP 1.1 operation with HTTP Basic: (the response, the seconds it took)."""
        import requests

        from tests.support.soap import basic, envelope

        headers = {"Content-Type": "text/xml; charset=utf-8", **basic(*self.credentials(role))}
        started = time.monotonic()
        response = requests.post(f"{self.url}/soap", data=envelope(operation, fields), headers=headers,
                                 timeout=timeout)
        return response, time.monotonic() - started

    def zeep(self, role: str = "bank", wsse: bool = False):
        from tests.support.soap import zeep_client

        return zeep_client(self.wsdl_url, *self.credentials(role), wsse=wsse)

    def register_customers(self, *numbers: str) -> None:
        """Register customers as the bank would (GetTransactions serves registered customers only)."""
        from lms_soap.lending.customers import register_customer

        c = self.container
        for number in numbers:
            register_customer(number, c.uow(), c.cbs, c.clock)

    def register_scoring(self):
        from lms_soap.crypto import generate_secret
        from lms_soap.lending.registration import register_with_scoring_engine

        c = self.container
        return register_with_scoring_engine("lms-test", self.settings.transactions_url, c.uow(),
                                            c.scoring_engine, c.box, c.clock, generate_secret)

