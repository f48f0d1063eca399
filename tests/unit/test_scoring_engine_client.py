"""HttpScoringEngine against a mocked transport (requests-mock): parsing, not-ready, failures."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from lms_soap.clients.scoring_engine import HttpScoringEngine
from lms_soap.config import load_settings
from lms_soap.lending.decision import decide
from lms_soap.lending.errors import ScoringEngineUnavailable
from lms_soap.lending.model import LoanStatus
from lms_soap.lending.ports import EngineClient, ScoreResult

BASE = "http://engine.test"
CLIENT_TOKEN = "client-tok-SECRET-123"
SCORE_TOKEN = "score-tok-SECRET-456"
PASSWORD = "pa55-SECRET-789"
INITIATE_URL = f"{BASE}/api/v1/scoring/initiateQueryScore/234774784"
QUERY_URL = f"{BASE}/api/v1/scoring/queryScore/{SCORE_TOKEN}"
CREATE_URL = f"{BASE}/api/v1/client/createClient"

READY = {"id": 9, "customerNumber": "234774784", "score": 720, "limitAmount": 50000,
         "exclusion": "No Exclusion", "exclusionReason": None}


@pytest.fixture
def engine() -> HttpScoringEngine:
    return HttpScoringEngine(BASE + "/", connect_timeout=1.5, read_timeout=7.0)


def _assert_secret_free(error: ScoringEngineUnavailable) -> None:
    text = str(error) + repr(error)
    for secret in (CLIENT_TOKEN, SCORE_TOKEN, PASSWORD):
        assert secret not in text
    # Nothing chained into a logged traceback either: a requests exception's text holds the URL,
    # and the score token with it.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert not isinstance(error.__context__, requests.RequestException)


# --- createClient -------------------------------------------------------------------------------
def test_create_client_posts_the_registration_and_reads_id_and_token(engine, requests_mock):
    requests_mock.post(CREATE_URL, json={"id": 17, "url": "http://lms/api/v1/transactions", "name": "lms",
                                         "username": "scorer", "password": PASSWORD, "token": CLIENT_TOKEN})
    client = engine.create_client("http://lms/api/v1/transactions", "lms", "scorer", PASSWORD)
    assert client == EngineClient(client_id="17", token=CLIENT_TOKEN)
    sent = requests_mock.last_request
    assert sent.method == "POST"
    assert sent.json() == {"url": "http://lms/api/v1/transactions", "name": "lms",
                           "username": "scorer", "password": PASSWORD}
    assert sent.headers["Content-Type"] == "application/json"
    assert "client-token" not in sent.headers


@pytest.mark.parametrize("answer", [{"id": 1}, {"id": 1, "token": ""}, {"token": "t"}, [1, 2]])
def test_create_client_without_id_or_token_is_a_failure(engine, requests_mock, answer):
    requests_mock.post(CREATE_URL, json=answer)
    with pytest.raises(ScoringEngineUnavailable):
        engine.create_client("http://lms", "lms", "scorer", PASSWORD)


def test_create_client_failure_never_shows_the_password(engine, requests_mock):
    requests_mock.post(CREATE_URL, status_code=500, text=f"boom {PASSWORD}")
    with pytest.raises(ScoringEngineUnavailable) as caught:
        engine.create_client("http://lms", "lms", "scorer", PASSWORD)
    assert "HTTP 500" in str(caught.value)
    _assert_secret_free(caught.value)


# --- initiateQueryScore ----------------------------------------------------------------------------
@pytest.mark.parametrize("body", ["abc-123", '"abc-123"', ' "abc-123"\n', "abc-123\r\n", '"abc-123'])
def test_initiate_returns_the_token_bare_or_quoted(engine, requests_mock, body):
    requests_mock.get(INITIATE_URL, text=body)
    assert engine.initiate("234774784", CLIENT_TOKEN) == "abc-123"
    assert requests_mock.last_request.headers["client-token"] == CLIENT_TOKEN


def test_initiate_quotes_the_customer_number_as_one_path_segment(engine, requests_mock):
    requests_mock.get(f"{BASE}/api/v1/scoring/initiateQueryScore/..%2Fx%3Fy", text="t")
    assert engine.initiate("../x?y", CLIENT_TOKEN) == "t"


@pytest.mark.parametrize("body", ["", "   ", '""', '" "', "two words", "<html>x</html>\n<p>"])
def test_initiate_without_a_usable_token_is_a_failure(engine, requests_mock, body):
    requests_mock.get(INITIATE_URL, text=body)
    with pytest.raises(ScoringEngineUnavailable):
        engine.initiate("234774784", CLIENT_TOKEN)


@pytest.mark.parametrize("status", [302, 400, 401, 403, 404, 500, 502, 503])
def test_initiate_error_status_is_a_failure(engine, requests_mock, status):
    requests_mock.get(INITIATE_URL, status_code=status, text=CLIENT_TOKEN)
    with pytest.raises(ScoringEngineUnavailable) as caught:
        engine.initiate("234774784", CLIENT_TOKEN)
    assert f"HTTP {status}" in str(caught.value)
    _assert_secret_free(caught.value)


# --- queryScore ------------------------------------------------------------------------------------
def test_query_score_ready_gives_int_score_and_decimal_limit(engine, requests_mock):
    requests_mock.get(QUERY_URL, json=READY)
    result = engine.query_score(SCORE_TOKEN, CLIENT_TOKEN)
    assert result == ScoreResult(score=720, limit_amount=Decimal("50000.00"), exclusion="No Exclusion",
                                 exclusion_reason=None)
    assert requests_mock.last_request.headers["client-token"] == CLIENT_TOKEN


@pytest.mark.parametrize("limit, expected", [(0.1, "0.1"), (1234.5, "1234.5"), ("99.999", "99.999"),
                                             (999.995, "999.995"), ("1000.004999", "1000.004999"),
                                             (0, "0"), (None, None)])
def test_query_score_limit_is_the_engines_exact_value(engine, requests_mock, limit, expected):
    """Not rounded to cents: rounding half-even made 99.999 a limit of 100.00 (and approved a
    100.00 loan over the engine's limit)."""
    requests_mock.get(QUERY_URL, json={**READY, "limitAmount": limit, "score": 540.0,
                                       "exclusion": "Excluded", "exclusionReason": "Defaulted"})
    result = engine.query_score(SCORE_TOKEN, CLIENT_TOKEN)
    assert result.score == 540 and isinstance(result.score, int)
    assert result.limit_amount == (Decimal(expected) if expected else None)
    if expected:
        assert str(result.limit_amount) == expected  # digits kept as the engine sent them
    assert (result.exclusion, result.exclusion_reason) == ("Excluded", "Defaulted")


@pytest.mark.parametrize("limit", [999.995, "999.995", "999.999999", 999.9999999999])
def test_a_limit_just_under_the_amount_rejects_it_whatever_the_rounding(engine, requests_mock, limit):
    """The engine's limit lies (a fraction of a cent) below 1000.00: no rounding may approve 1000.00."""
    requests_mock.get(QUERY_URL, json={**READY, "limitAmount": limit})
    result = engine.query_score(SCORE_TOKEN, CLIENT_TOKEN)
    assert decide(Decimal("1000.00"), result, None) == (LoanStatus.REJECTED, "AMOUNT_ABOVE_LIMIT")
    assert decide(Decimal("999.99"), result, None) == (LoanStatus.APPROVED, "WITHIN_LIMIT")


@pytest.mark.parametrize("limit", ["1e16", 10 ** 16, "12345678901234567890.5"])
def test_a_limit_too_large_for_the_money_column_is_unreadable(engine, requests_mock, limit):
    requests_mock.get(QUERY_URL, json={**READY, "limitAmount": limit})
    with pytest.raises(ScoringEngineUnavailable, match="limitAmount"):
        engine.query_score(SCORE_TOKEN, CLIENT_TOKEN)


@pytest.mark.parametrize("answer", [
    {"status_code": 404, "json": {"error": "not found"}},
    {"status_code": 204},
    {"status_code": 200, "text": ""},
    {"status_code": 200, "text": "  \n"},
    {"status_code": 200, "json": {**READY, "score": None}},
    {"status_code": 200, "json": {"id": 9, "customerNumber": "234774784"}},
], ids=["404", "204", "empty", "blank", "score-null", "no-score"])
def test_query_score_not_ready_is_none(engine, requests_mock, answer):
    requests_mock.get(QUERY_URL, **answer)
    assert engine.query_score(SCORE_TOKEN, CLIENT_TOKEN) is None


@pytest.mark.parametrize("answer", [
    {"status_code": 500, "text": "oops"},
    {"status_code": 503, "text": ""},
    {"status_code": 401, "json": {"error": "bad token"}},
    {"status_code": 403, "text": ""},
    {"status_code": 400, "text": ""},
    {"status_code": 200, "text": "{not json"},
    {"status_code": 200, "text": "<html>gateway</html>"},
    {"status_code": 200, "json": [READY]},
    {"status_code": 200, "json": {**READY, "score": "high"}},
    {"status_code": 200, "json": {**READY, "score": True}},
    {"status_code": 200, "json": {**READY, "limitAmount": "lots"}},
    {"status_code": 200, "json": {**READY, "limitAmount": -5}},
    {"status_code": 200, "json": {**READY, "exclusion": 3}},
    {"exc": requests.ConnectionError(f"refused {QUERY_URL}")},
    {"exc": requests.ConnectTimeout(f"slow {QUERY_URL}")},
    {"exc": requests.ReadTimeout(f"slow {QUERY_URL}")},
], ids=["500", "503", "401", "403", "400", "invalid-json", "html", "list", "score-text", "score-bool",
        "limit-text", "limit-negative", "exclusion-number", "connection", "connect-timeout", "read-timeout"])
def test_query_score_failures_raise_without_secrets(engine, requests_mock, answer):
    requests_mock.get(QUERY_URL, **answer)
    with pytest.raises(ScoringEngineUnavailable) as caught:
        engine.query_score(SCORE_TOKEN, CLIENT_TOKEN)
    assert caught.value.faultcode == "Server.ScoringEngineUnavailable"
    assert "queryScore" in str(caught.value)
    _assert_secret_free(caught.value)


# --- transport -------------------------------------------------------------------------------------
def test_every_call_carries_connect_and_read_timeouts(engine, requests_mock):
    requests_mock.post(CREATE_URL, json={"id": 1, "token": CLIENT_TOKEN})
    requests_mock.get(INITIATE_URL, text='"t1"')
    requests_mock.get(f"{BASE}/api/v1/scoring/queryScore/t1", status_code=404)
    engine.create_client("http://lms", "lms", "scorer", PASSWORD)
    engine.initiate("234774784", CLIENT_TOKEN)
    engine.query_score("t1", CLIENT_TOKEN)
    assert [r.timeout for r in requests_mock.request_history] == [(1.5, 7.0)] * 3


def test_the_session_pools_connections_and_never_retries():
    engine = HttpScoringEngine(BASE, connect_timeout=1, read_timeout=2, pool_size=4)
    adapter = engine.session.get_adapter(BASE)
    assert adapter.max_retries.total == 0
    assert adapter._pool_maxsize == 4
    engine.close()


def test_from_settings_uses_the_scoring_settings():
    settings = load_settings({"SCORING_BASE_URL": "http://scoring.internal:9000/",
                              "SCORING_CONNECT_TIMEOUT": "0.5", "SCORING_READ_TIMEOUT": "3"})
    engine = HttpScoringEngine.from_settings(settings)
    assert engine.base_url == "http://scoring.internal:9000"
    assert engine.timeout == (0.5, 3.0)


def test_an_injected_session_is_used(requests_mock):
    session = requests.Session()
    engine = HttpScoringEngine(BASE, connect_timeout=1, read_timeout=2, session=session)
    requests_mock.get(QUERY_URL, text=json.dumps(READY))
    assert engine.session is session
    assert engine.query_score(SCORE_TOKEN, CLIENT_TOKEN).score == 720


@pytest.mark.parametrize("exclusion", ["Fraud\u0001", "x" * 101])
def test_engine_text_that_cannot_be_stored_or_written_back_is_a_failure(exclusion):
    """A control character (not XML-safe) or text wider than its column would break every later
    read of the loan; the answer is unusable, like any other malformed answer."""
    import requests_mock as rm

    engine = HttpScoringEngine("http://engine.test", connect_timeout=1, read_timeout=1)
    with rm.Mocker() as m:
        m.get("http://engine.test/api/v1/scoring/queryScore/T", json={
            "id": 1, "customerNumber": "1", "score": 1, "limitAmount": 1.0, "exclusion": exclusion,
            "exclusionReason": None})
        with pytest.raises(ScoringEngineUnavailable):
            engine.query_score("T", "client-token")
