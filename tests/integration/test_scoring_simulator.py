"""The scoring-engine simulator served over real HTTP, driven through HttpScoringEngine.

A tiny fake transaction-data endpoint (standing in for the LMS's REST endpoint) checks the Basic
credentials given at registration, so the simulator's fetch is exercised end to end.
"""
from __future__ import annotations

import base64
import contextlib
import json
import time
from decimal import Decimal
from typing import Iterator

import pytest
import requests

from lms_soap.clients.scoring_engine import HttpScoringEngine
from lms_soap.lending.errors import ScoringEngineUnavailable
from lms_soap.lending.ports import ScoreResult
from lms_soap.sandbox.scoring_simulator import create_app, create_app_from_env
from tests.support.servers import free_port, serve_wsgi

USERNAME, PASSWORD = "scorer", "s3cret-pw"
DATA_PREFIX = "/api/v1/transactions/"
#: Records the fake endpoint holds per customer; anyone else has 3.
RECORDS = {"555000002": 0, "234774784": 5}


class FakeTransactionData:
    """WSGI app: GET /api/v1/transactions/{customer} with Basic scorer/s3cret-pw -> JSON array."""

    def __init__(self, answer_body: bytes | None = None) -> None:
        self.answer_body = answer_body  # overrides the array, to serve something unreadable
        self.seen: list[tuple[str, str | None]] = []  # (path, Authorization header)

    def __call__(self, environ, start_response):
        path, auth = environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION")
        self.seen.append((path, auth))
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if auth != expected:
            start_response("401 Unauthorized", [("Content-Type", "application/json"),
                                                ("WWW-Authenticate", 'Basic realm="lms"')])
            return [b'{"error": "unauthorized"}']
        customer = path[len(DATA_PREFIX):]
        records = [{"customerNumber": customer, "accountNumber": f"ACC{i}"}
                   for i in range(RECORDS.get(customer, 3))]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [self.answer_body if self.answer_body is not None else json.dumps(records).encode()]


@pytest.fixture
def data_app() -> FakeTransactionData:
    return FakeTransactionData()


@pytest.fixture
def data_url(data_app) -> Iterator[str]:
    with serve_wsgi(data_app) as url:
        yield url + DATA_PREFIX.rstrip("/")


def _engine(url: str) -> HttpScoringEngine:
    return HttpScoringEngine(url, connect_timeout=1.0, read_timeout=5.0)


@pytest.fixture
def simulator():
    """A factory: simulator(**knobs) -> (app, engine) served until the test ends."""
    with contextlib.ExitStack() as servers:
        def start(**knobs):
            app = create_app(fetch_timeout=2.0, **knobs)
            return app, _engine(servers.enter_context(serve_wsgi(app)))

        yield start


def _register(engine: HttpScoringEngine, data_url: str, password: str = PASSWORD) -> str:
    return engine.create_client(data_url, "lms-test", USERNAME, password).token


def _poll_until_ready(engine, score_token, client_token, max_polls=20) -> tuple[int, ScoreResult | None]:
    """(polls answered "not ready", the result or None when it never came)."""
    for polls in range(max_polls):
        result = engine.query_score(score_token, client_token)
        if result is not None:
            return polls, result
    return max_polls, None


def test_register_initiate_and_poll_through_not_ready(simulator, data_url, data_app):
    app, engine = simulator(not_ready_polls=2)
    client = engine.create_client(data_url, "lms-test", USERNAME, PASSWORD)
    assert client.client_id == "1" and len(client.token) >= 20

    score_token = engine.initiate("234774784", client.token)
    assert score_token and '"' not in score_token  # the simulator quotes it; the client unquotes

    assert data_app.seen[-1][0] == "/api/v1/transactions/234774784"
    assert engine.query_score(score_token, client.token) is None
    assert engine.query_score(score_token, client.token) is None
    assert engine.query_score(score_token, client.token) == ScoreResult(
        score=720, limit_amount=Decimal("50000.00"), exclusion="No Exclusion", exclusion_reason=None)

    state = app.state()
    assert state["clients"] == 1 and state["initiations"] == 1
    assert state["transactions_fetched"] == {"234774784": 5}
    assert state["polls"] == 3 and state["results"] == 1


@pytest.mark.parametrize("customer, score, limit, exclusion, reason", [
    ("234774784", 720, "50000.00", "No Exclusion", None),
    ("318411216", 540, "500.00", "No Exclusion", None),
    ("340397370", 300, "0.00", "Excluded", "Defaulted on a previous facility"),
    ("555000002", 0, "0.00", "No Exclusion", None),
    ("123456789", 600, "10000.00", "No Exclusion", None),
    # synthetic: score 500 + n % 351, limit 5000 + ((n // 10) % 451) * 100, excluded when n % 10 == 7
    ("712345678", 804, "6900.00", "No Exclusion", None),
    ("712345677", 803, "0.00", "Excluded", "Account under court order"),
])
def test_documented_outcomes(simulator, data_url, customer, score, limit, exclusion, reason):
    app, engine = simulator(not_ready_polls=1)
    client_token = _register(engine, data_url)
    polls, result = _poll_until_ready(engine, engine.initiate(customer, client_token), client_token)
    assert polls == 1
    assert result == ScoreResult(score=score, limit_amount=Decimal(limit), exclusion=exclusion,
                                 exclusion_reason=reason)
    assert app.state()["transactions_fetched"][customer] == RECORDS.get(customer, 3)


def test_slow_customer_needs_three_times_the_polls(simulator, data_url):
    _, engine = simulator(not_ready_polls=2)
    client_token = _register(engine, data_url)
    polls, result = _poll_until_ready(engine, engine.initiate("397178638", client_token), client_token)
    assert polls == 6
    assert (result.score, result.limit_amount, result.exclusion) == (680, Decimal("20000.00"), "No Exclusion")


def test_never_ready_customer_stays_not_ready(simulator, data_url):
    app, engine = simulator(not_ready_polls=1)
    client_token = _register(engine, data_url)
    polls, result = _poll_until_ready(engine, engine.initiate("366585630", client_token), client_token,
                                      max_polls=15)
    assert (polls, result) == (15, None)
    assert app.state()["polls_by_customer"] == {"366585630": 15}


def test_fetch_with_wrong_credentials_fails_the_initiate(simulator, data_url, data_app):
    app, engine = simulator()
    client_token = _register(engine, data_url, password="not-the-password")
    with pytest.raises(ScoringEngineUnavailable, match="HTTP 502"):
        engine.initiate("234774784", client_token)
    # The simulator did call the data endpoint, with the credentials of the registration.
    wrong = "Basic " + base64.b64encode(f"{USERNAME}:not-the-password".encode()).decode()
    assert data_app.seen == [("/api/v1/transactions/234774784", wrong)]
    state = app.state()
    assert state["fetch_failures"] == 1 and state["fetch_errors"] == {"234774784": "HTTP 401"}
    assert state["transactions_fetched"] == {}


def test_unreachable_data_endpoint_fails_the_initiate(simulator):
    _, engine = simulator()
    client_token = engine.create_client(f"http://127.0.0.1:{free_port()}/tx", "lms", USERNAME, PASSWORD).token
    with pytest.raises(ScoringEngineUnavailable, match="HTTP 502"):
        engine.initiate("234774784", client_token)


def test_data_endpoint_answering_something_else_than_an_array_fails_the_initiate(simulator):
    with serve_wsgi(FakeTransactionData(answer_body=b'{"records": []}')) as url:
        _, engine = simulator()
        client_token = _register(engine, url + "/api/v1/transactions")
        with pytest.raises(ScoringEngineUnavailable):
            engine.initiate("234774784", client_token)


def test_unknown_client_token_is_refused(simulator, data_url):
    _, engine = simulator(not_ready_polls=0)
    client_token = _register(engine, data_url)
    score_token = engine.initiate("234774784", client_token)
    with pytest.raises(ScoringEngineUnavailable, match="client token refused"):
        engine.initiate("234774784", "made-up-token")
    with pytest.raises(ScoringEngineUnavailable, match="client token refused"):
        engine.query_score(score_token, "made-up-token")


def test_unknown_or_foreign_score_token_is_not_ready(simulator, data_url):
    _, engine = simulator(not_ready_polls=0)
    first, second = _register(engine, data_url), _register(engine, data_url)
    score_token = engine.initiate("234774784", first)
    assert engine.query_score("no-such-token", first) is None
    assert engine.query_score(score_token, second) is None  # another client's token is unknown to it
    assert engine.query_score(score_token, first).score == 720


def test_failure_rate_one_fails_every_call(simulator, data_url):
    app, engine = simulator(failure_rate=1.0)
    with pytest.raises(ScoringEngineUnavailable, match="HTTP 500"):
        engine.create_client(data_url, "lms", USERNAME, PASSWORD)
    with pytest.raises(ScoringEngineUnavailable, match="HTTP 500"):
        engine.initiate("234774784", "any")
    assert app.state()["failures_injected"] == 2


def test_failure_sequence_is_reproducible_from_the_seed(simulator, data_url):
    def outcomes(seed: int) -> list[bool]:
        _, engine = simulator(failure_rate=0.5, seed=seed)
        results = []
        for _ in range(12):
            try:
                engine.create_client(data_url, "lms", USERNAME, PASSWORD)
                results.append(True)
            except ScoringEngineUnavailable:
                results.append(False)
        return results

    first = outcomes(7)
    assert first == outcomes(7)
    assert True in first and False in first


def test_latency_delays_each_answer(simulator):
    _, engine = simulator(latency=0.2)
    base = engine.base_url
    started = time.monotonic()
    assert requests.get(f"{base}/_sim/health", timeout=2).json() == {"status": "ok"}
    assert time.monotonic() - started >= 0.2


def test_http_surface_of_the_simulator(simulator, data_url):
    _, engine = simulator()
    base = engine.base_url
    create = f"{base}/api/v1/client/createClient"

    bad = requests.post(create, json={"url": data_url, "name": "", "username": "u", "password": "p"}, timeout=2)
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/json"
    assert "name" in bad.json()["error"]
    assert requests.post(create, data=b"{nope", timeout=2).status_code == 400
    assert requests.post(create, json={"url": "ftp://x", "name": "n", "username": "u", "password": "p"},
                         timeout=2).status_code == 400

    ok = requests.post(create, json={"url": data_url, "name": "n", "username": USERNAME, "password": PASSWORD},
                       timeout=2).json()
    assert set(ok) == {"id", "url", "name", "username", "password", "token"} and ok["password"] == PASSWORD

    raw = requests.get(f"{base}/api/v1/scoring/initiateQueryScore/234774784",
                       headers={"client-token": ok["token"]}, timeout=2)
    assert raw.status_code == 200 and raw.text.startswith('"') and raw.text.endswith('"')

    missing = requests.get(f"{base}/api/v1/scoring/queryScore/x", timeout=2)
    assert missing.status_code == 401 and missing.headers["Content-Type"] == "application/json"
    for path in ("/", "/nope", "/api/v1/scoring/queryScore/a/b"):
        answer = requests.get(base + path, timeout=2)
        assert answer.status_code == 404 and answer.json()["status"] == 404
    wrong_method = requests.get(create, timeout=2)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"

    state = requests.get(f"{base}/_sim/state", timeout=2)
    assert state.headers["Content-Type"] == "application/json" and state.json()["clients"] == 1


def test_create_app_from_env_reads_the_knobs():
    app = create_app_from_env({"SCORING_SIM_NOT_READY_POLLS": "5", "SCORING_SIM_LATENCY": "0.1",
                               "SCORING_SIM_FAILURE_RATE": "0.25", "SCORING_SIM_SEED": "3"})
    assert (app.not_ready_polls, app.latency, app.failure_rate) == (5, 0.1, 0.25)
    assert create_app_from_env({}).not_ready_polls == 2
    with pytest.raises(ValueError, match="SCORING_SIM_LATENCY"):
        create_app_from_env({"SCORING_SIM_LATENCY": "slow"})
