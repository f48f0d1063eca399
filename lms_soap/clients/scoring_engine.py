"""The scoring engine over REST/JSON: the `ScoringEngine` port of lending.ports, with requests.

One pooled `requests.Session` per process (built by the composition root, never at import time),
every call with an explicit (connect, read) timeout, a total deadline (clients/deadline.py: an
engine dripping its answer cannot hold a job past SCORING_CALL_DEADLINE) and no automatic
retries: the scoring jobs own the retry policy (capped, with back-off, counted in the database),
so a retry here would hide attempts from it and multiply the load on a struggling engine.

Error messages name the operation and the HTTP status only. They never carry the client token,
the score token (it is part of the queryScore URL, so request URLs are left out too) or the
registration password.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import requests

from lms_soap.clients.deadline import DeadlineSession
from lms_soap.clients.environment import settle_environment
from lms_soap.config import Settings
from lms_soap.lending.errors import ScoringEngineUnavailable
from lms_soap.lending.model import MONEY_LIMIT
from lms_soap.lending.ports import EngineClient, ScoreResult

#: Connections kept open to the engine per process (HTTPAdapter pool_maxsize).
DEFAULT_POOL_SIZE = 10
#: Longest score token accepted, characters. Tokens go back into a URL path; anything longer is
#: not a token but a misrouted page.
MAX_TOKEN_LENGTH = 255  # the width of loans.scoring_token

CREATE_CLIENT_PATH = "/api/v1/client/createClient"
INITIATE_PATH = "/api/v1/scoring/initiateQueryScore/{customer_number}"
QUERY_SCORE_PATH = "/api/v1/scoring/queryScore/{token}"
#: Header carrying the token createClient returned.
CLIENT_TOKEN_HEADER = "client-token"

#: Status codes of queryScore that mean "the score is not ready yet" (the engine uses both).
_NOT_READY_STATUSES = frozenset({204, 404})


def _segment(value: str) -> str:
    """A value quoted as one path segment: '/', '?', '#' and '..' tricks cannot change the route."""
    return quote(value, safe="")


class HttpScoringEngine:
    """`ScoringEngine` implemented with requests. Thread-safe for the way the LMS uses it
    (a Session shared by one process's threads, each call independent)."""

    def __init__(self, base_url: str, *, connect_timeout: float, read_timeout: float,
                 call_deadline: float = Settings.scoring_call_deadline,
                 session: requests.Session | None = None, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        if session is None:
            # No urllib3 retries of any kind (see the module docstring); call_deadline seconds per call.
            session = DeadlineSession(call_deadline, pool_connections=pool_size, pool_maxsize=pool_size)
            settle_environment(session, self.base_url)
        self.session = session

    @classmethod
    def from_settings(cls, settings: Settings, *,
                      session: requests.Session | None = None) -> "HttpScoringEngine":
        return cls(settings.scoring_base_url, connect_timeout=settings.scoring_connect_timeout,
                   read_timeout=settings.scoring_read_timeout,
                   call_deadline=settings.scoring_call_deadline, session=session)

    def close(self) -> None:
        self.session.close()

    # --- the port ---------------------------------------------------------------------------
    def create_client(self, url: str, name: str, username: str, password: str) -> EngineClient:
        body = {"url": url, "name": name, "username": username, "password": password}
        response = self._call("POST", CREATE_CLIENT_PATH, "createClient", json_body=body)
        self._expect_success(response, "createClient")
        data = self._json(response, "createClient")
        if not isinstance(data, dict):
            raise ScoringEngineUnavailable("scoring engine createClient: answer is not a JSON object")
        client_id, token = data.get("id"), data.get("token")
        # The id is numeric at the real engine; accept any scalar and keep it as text.
        if isinstance(client_id, bool) or not isinstance(client_id, (str, int)) or str(client_id) == "":
            raise ScoringEngineUnavailable("scoring engine createClient: answer has no client id")
        if not isinstance(token, str) or not token.strip():
            raise ScoringEngineUnavailable("scoring engine createClient: answer has no token")
        return EngineClient(client_id=str(client_id), token=token.strip())

    def initiate(self, customer_number: str, client_token: str) -> str:
        path = INITIATE_PATH.format(customer_number=_segment(customer_number))
        response = self._call("GET", path, "initiateQueryScore", client_token=client_token)
        self._expect_success(response, "initiateQueryScore")
        token = _unquote_token(response.text)
        if not token:
            raise ScoringEngineUnavailable("scoring engine initiateQueryScore: empty score token")
        if len(token) > MAX_TOKEN_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in token):
            raise ScoringEngineUnavailable("scoring engine initiateQueryScore: answer is not a score token")
        return token

    def query_score(self, score_token: str, client_token: str) -> ScoreResult | None:
        path = QUERY_SCORE_PATH.format(token=_segment(score_token))
        response = self._call("GET", path, "queryScore", client_token=client_token)
        if response.status_code in _NOT_READY_STATUSES:
            return None
        self._expect_success(response, "queryScore")
        if not response.content.strip():
            return None
        data = self._json(response, "queryScore")
        if not isinstance(data, dict):
            raise ScoringEngineUnavailable("scoring engine queryScore: answer is not a JSON object")
        if data.get("score") is None:
            return None  # the engine's way of saying "still computing"
        return _score_result(data)

    # --- plumbing ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, operation: str, *, client_token: str | None = None,
              json_body: dict[str, str] | None = None) -> requests.Response:
        headers = {"Accept": "application/json, text/plain;q=0.9"}
        if client_token is not None:
            headers[CLIENT_TOKEN_HEADER] = client_token
        try:
            # No redirects: requests would forward the custom client-token header to whatever
            # host a 3xx names (it only strips Authorization); a 3xx is reported as a failure.
            return self.session.request(method, self.base_url + path, headers=headers, json=json_body,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            error = ScoringEngineUnavailable(f"scoring engine {operation}: timed out")
        except requests.ConnectionError:
            error = ScoringEngineUnavailable(f"scoring engine {operation}: connection failed")
        except requests.RequestException as exc:
            error = ScoringEngineUnavailable(f"scoring engine {operation}: {type(exc).__name__}")
        # Raised outside the except blocks so the requests exception (its text holds the URL, and
        # with it the score token) is not chained into logged tracebacks.
        raise error

    @staticmethod
    def _expect_success(response: requests.Response, operation: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status in (401, 403):
            # Usually a rotated or unknown client token: ScoringRegister must be run again.
            raise ScoringEngineUnavailable(
                f"scoring engine {operation}: client token refused (HTTP {status})")
        raise ScoringEngineUnavailable(f"scoring engine {operation}: HTTP {status}")

    @staticmethod
    def _json(response: requests.Response, operation: str) -> Any:
        try:
            return json.loads(response.content)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError both derive from it
            raise ScoringEngineUnavailable(f"scoring engine {operation}: answer is not JSON") from None


def _unquote_token(text: str) -> str:
    """The engine answers the token bare or as a JSON string ("abc"); accept both."""
    token = text.strip()
    if len(token) >= 2 and token[0] == token[-1] == '"':
        try:
            decoded = json.loads(token)
        except ValueError:
            decoded = token[1:-1]
        token = decoded.strip() if isinstance(decoded, str) else ""
    return token.strip('"').strip()  # a stray one-sided quote is no part of a token either


def _score_result(data: dict[str, Any]) -> ScoreResult:
    return ScoreResult(score=_as_int(data["score"]), limit_amount=_as_money(data.get("limitAmount")),
                       exclusion=_as_text(data.get("exclusion"), "exclusion"),
                       exclusion_reason=_as_text(data.get("exclusionReason"), "exclusionReason"))


def _wrong_shape(field: str) -> ScoringEngineUnavailable:
    return ScoringEngineUnavailable(f"scoring engine queryScore: unreadable {field}")


def _as_int(value: Any) -> int:
    # bool is an int subclass: True is no score.
    if isinstance(value, bool):
        raise _wrong_shape("score")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _wrong_shape("score")


def _as_money(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _wrong_shape("limitAmount")
    try:
        # str() first: Decimal(0.1) would carry the float's binary noise into the money.
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _wrong_shape("limitAmount") from None
    # Kept exact, NOT rounded to cents: the decision compares the amount with the engine's own
    # value (rounding 999.995 half-even to 1000.00 approved a 1000.00 loan over the limit).
    # A limit the money column cannot hold is no answer we can keep.
    if not amount.is_finite() or amount < 0 or amount >= MONEY_LIMIT:
        raise _wrong_shape("limitAmount")
    return amount


#: Widths of the columns the engine's free text is stored in (loans.exclusion, exclusion_reason).
TEXT_LIMITS = {"exclusion": 100, "exclusionReason": 255}


def _as_text(value: Any, field: str) -> str | None:
    """Free text of the engine: it is stored and written back in SOAP responses, so it must fit
    its column and be XML-safe (no control characters); otherwise the answer is unusable."""
    if value is None:
        return None
    if (not isinstance(value, str) or len(value) > TEXT_LIMITS.get(field, 255)
            or any(not ch.isprintable() for ch in value)):
        raise _wrong_shape(field)
    return value
