"""A scoring-engine simulator: the engine's three REST calls as a plain WSGI application.

    gunicorn -w 1 --threads 8 -b 127.0.0.1:8094 \\
        'lms_soap.sandbox.scoring_simulator:create_app_from_env()'

Run it with ONE worker: clients, score tokens and counters live in this process's memory
(guarded by a lock, so threads are fine).

- `POST /api/v1/client/createClient` {"url","name","username","password"} -> the client with a
  random `token` (the password is echoed, as the real engine does). 400 on a bad body.
- `GET /api/v1/scoring/initiateQueryScore/{customerNumber}` (header `client-token`, else 401)
  fetches `GET {url}/{customerNumber}` from the registered URL with the registered HTTP Basic
  credentials, exactly as the real engine pulls data from the LMS. A failed fetch (connection,
  non-200, not a JSON array) answers 502. Otherwise the answer is a new score token, JSON-quoted
  ("\\"abc\\"") as the real engine sometimes does, so the client's unquoting is exercised.
- `GET /api/v1/scoring/queryScore/{token}` (header `client-token`, else 401): 404 for an unknown
  token and for the first `not_ready_polls` polls, then the result JSON.
- `GET /_sim/state`: counters (clients, initiations, score tokens issued and records fetched per
  customer, polls...), for
  tests and the demo. `GET /_sim/health`: {"status": "ok"}, for the sandbox runner's wait.

Outcomes per customer are deterministic and documented in lms_soap.sandbox.scoring_data.

Knobs: `latency` seconds slept before every answer; `failure_rate` the fraction of /api/ calls
answered 500 (drawn from a random.Random(seed), so a run is reproducible); `fetch_timeout`
seconds for the transaction-data fetch. Environment of create_app_from_env():
SCORING_SIM_NOT_READY_POLLS, SCORING_SIM_LATENCY, SCORING_SIM_FAILURE_RATE, SCORING_SIM_SEED,
SCORING_SIM_FETCH_TIMEOUT.
"""
from __future__ import annotations

import json
import logging
import os
import random
import secrets
import threading
import time
from collections import Counter
from http import HTTPStatus
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlsplit

import requests

from .scoring_data import outcome_for, result_json
from .scoring_records import JSON_TYPE, _Client, _error, _json_reply, _Reply, _Ticket

log = logging.getLogger(__name__)

DEFAULT_NOT_READY_POLLS = 2
#: Seconds the simulator waits for the transaction data of one customer.
DEFAULT_FETCH_TIMEOUT = 5.0
#: Largest createClient body accepted, bytes.
MAX_BODY_BYTES = 64 * 1024

API = "/api/v1"
CREATE_CLIENT = f"{API}/client/createClient"
INITIATE_PREFIX = f"{API}/scoring/initiateQueryScore/"
QUERY_PREFIX = f"{API}/scoring/queryScore/"

StartResponse = Callable[..., Any]


class ScoringSimulator:
    """The WSGI application. Build one per process with create_app()."""

    def __init__(self, *, not_ready_polls: int = DEFAULT_NOT_READY_POLLS, latency: float = 0.0,
                 failure_rate: float = 0.0, seed: int = 0,
                 fetch_timeout: float = DEFAULT_FETCH_TIMEOUT) -> None:
        if not_ready_polls < 0 or latency < 0 or fetch_timeout <= 0 or not 0.0 <= failure_rate <= 1.0:
            raise ValueError("not_ready_polls, latency >= 0; fetch_timeout > 0; failure_rate in [0, 1]")
        self.not_ready_polls = not_ready_polls
        self.latency = latency
        self.failure_rate = failure_rate
        self.fetch_timeout = fetch_timeout
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._clients: dict[str, _Client] = {}  # by token
        self._tickets: dict[str, _Ticket] = {}  # by score token
        self._counters: Counter[str] = Counter()
        self._fetched: dict[str, int] = {}  # customer -> records received by the last fetch
        self._fetch_errors: dict[str, str] = {}  # customer -> why the last fetch failed
        self._polls_by_customer: Counter[str] = Counter()
        #: Score tokens handed out per customer: more than a loan uses are orphaned engine work.
        self._tokens_by_customer: Counter[str] = Counter()
        # requests.Session is not documented as thread-safe: one per serving thread.
        self._local = threading.local()

    # --- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ: Mapping[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            reply = self._handle(environ)
        except Exception:  # never a traceback on the wire
            log.exception("scoring simulator: unexpected error")
            reply = _error(500, "internal error")
        headers = [("Content-Type", reply.content_type), ("Content-Length", str(len(reply.body))),
                   *reply.headers]
        start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", headers)
        return [reply.body]

    def _handle(self, environ: Mapping[str, Any]) -> _Reply:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        # PEP 3333 hands PATH_INFO over as latin-1; the URL itself was UTF-8.
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        if self.latency:
            time.sleep(self.latency)
        if path == "/_sim/state":
            return self._only("GET", method) or _json_reply(200, self.state())
        if path == "/_sim/health":
            return self._only("GET", method) or _json_reply(200, {"status": "ok"})
        if not path.startswith(API + "/"):
            return _error(404, "no such resource")
        if self._inject_failure():
            return _error(500, "simulated engine failure")
        if path == CREATE_CLIENT:
            return self._only("POST", method) or self._create_client(environ)
        for prefix, handler in ((INITIATE_PREFIX, self._initiate), (QUERY_PREFIX, self._query_score)):
            if path.startswith(prefix) and "/" not in path[len(prefix):] and path[len(prefix):]:
                return self._only("GET", method) or handler(environ, path[len(prefix):])
        return _error(404, "no such resource")

    @staticmethod
    def _only(allowed: str, method: str) -> _Reply | None:
        if method == allowed:
            return None
        return _json_reply(405, {"status": 405, "error": "method not allowed"}, [("Allow", allowed)])

    def _inject_failure(self) -> bool:
        if self.failure_rate <= 0:
            return False
        with self._lock:
            failed = self._rng.random() < self.failure_rate
            if failed:
                self._counters["failures_injected"] += 1
        return failed

    # --- the engine's calls ---------------------------------------------------------------------
    def _create_client(self, environ: Mapping[str, Any]) -> _Reply:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "invalid Content-Length")
        if length > MAX_BODY_BYTES:
            return _error(413, "body too large")
        try:
            body = json.loads(environ["wsgi.input"].read(length) if length > 0 else b"")
        except ValueError:
            return _error(400, "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        missing = [k for k in ("url", "name", "username", "password")
                   if not isinstance(body.get(k), str) or not body[k].strip()]
        if missing:
            return _error(400, f"required non-empty strings: {', '.join(missing)}")
        if urlsplit(body["url"]).scheme not in ("http", "https") or not urlsplit(body["url"]).netloc:
            return _error(400, "url must be an http(s) URL")
        with self._lock:
            self._counters["client_seq"] += 1
            client = _Client(id=self._counters["client_seq"], url=body["url"], name=body["name"],
                             username=body["username"], password=body["password"],
                             token=secrets.token_urlsafe(24))
            self._clients[client.token] = client
        return _json_reply(200, {"id": client.id, "url": client.url, "name": client.name,
                                 "username": client.username, "password": client.password,
                                 "token": client.token})

    def _initiate(self, environ: Mapping[str, Any], customer_number: str) -> _Reply:
        client = self._authenticate(environ)
        if client is None:
            return _error(401, "unknown or missing client-token")
        with self._lock:
            self._counters["initiations"] += 1
        # The fetch runs outside the lock: it is network I/O and may take fetch_timeout.
        records, failure = self._fetch_transactions(client, customer_number)
        with self._lock:
            if failure is not None:
                self._counters["fetch_failures"] += 1
                self._fetch_errors[customer_number] = failure
                return _error(502, f"could not fetch transaction data: {failure}")
            self._fetched[customer_number] = len(records)
            self._fetch_errors.pop(customer_number, None)
            self._counters["ticket_seq"] += 1
            self._tokens_by_customer[customer_number] += 1
            score_token = secrets.token_hex(16)
            self._tickets[score_token] = _Ticket(id=self._counters["ticket_seq"], client_token=client.token,
                                                 customer_number=customer_number,
                                                 outcome=outcome_for(customer_number))
        return _Reply(200, json.dumps(score_token).encode(), JSON_TYPE)

    def _query_score(self, environ: Mapping[str, Any], score_token: str) -> _Reply:
        client = self._authenticate(environ)
        if client is None:
            return _error(401, "unknown or missing client-token")
        with self._lock:
            ticket = self._tickets.get(score_token)
            # Another client's token is as unknown as a made-up one: nothing leaks between clients.
            if ticket is None or ticket.client_token != client.token:
                return _error(404, "unknown score token")
            ticket.polls += 1
            self._counters["polls"] += 1
            self._polls_by_customer[ticket.customer_number] += 1
            factor = ticket.outcome.delay_factor
            if factor is None or ticket.polls <= self.not_ready_polls * factor:
                return _error(404, "score not ready")
            self._counters["results"] += 1
            return _json_reply(200, result_json(ticket.id, ticket.customer_number, ticket.outcome))

    def _authenticate(self, environ: Mapping[str, Any]) -> _Client | None:
        token = environ.get("HTTP_CLIENT_TOKEN", "")
        with self._lock:
            return self._clients.get(token) if token else None

    def _fetch_transactions(self, client: _Client, customer_number: str) -> tuple[list[Any], str | None]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        url = f"{client.url.rstrip('/')}/{quote(customer_number, safe='')}"
        try:
            response = session.get(url, auth=(client.username, client.password),
                                   timeout=self.fetch_timeout, headers={"Accept": JSON_TYPE})
        except requests.RequestException as exc:
            return [], type(exc).__name__
        if response.status_code != 200:
            return [], f"HTTP {response.status_code}"
        try:
            records = response.json()
        except ValueError:
            return [], "answer is not JSON"
        if not isinstance(records, list):
            return [], "answer is not a JSON array"
        return records, None

    # --- inspection -------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "clients": len(self._clients),
                "initiations": self._counters["initiations"],
                "fetch_failures": self._counters["fetch_failures"],
                "transactions_fetched": dict(self._fetched),
                "fetch_errors": dict(self._fetch_errors),
                "polls": self._counters["polls"],
                "polls_by_customer": dict(self._polls_by_customer),
                "tokens_by_customer": dict(self._tokens_by_customer),
                "results": self._counters["results"],
                "failures_injected": self._counters["failures_injected"],
                "settings": {"not_ready_polls": self.not_ready_polls, "latency": self.latency,
                             "failure_rate": self.failure_rate, "fetch_timeout": self.fetch_timeout},
            }


def create_app(*, not_ready_polls: int = DEFAULT_NOT_READY_POLLS, latency: float = 0.0,
               failure_rate: float = 0.0, seed: int = 0,
               fetch_timeout: float = DEFAULT_FETCH_TIMEOUT) -> ScoringSimulator:
    return ScoringSimulator(not_ready_polls=not_ready_polls, latency=latency, failure_rate=failure_rate,
                            seed=seed, fetch_timeout=fetch_timeout)


def create_app_from_env(environ: Mapping[str, str] | None = None) -> ScoringSimulator:
    """create_app() configured from SCORING_SIM_* variables (see the module docstring)."""
    env = os.environ if environ is None else environ

    def read(name: str, default: Any, cast: Callable[[str], Any]) -> Any:
        raw = env.get(name, "")
        try:
            return cast(raw) if raw.strip() else default
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a valid {cast.__name__}") from None

    return create_app(not_ready_polls=read("SCORING_SIM_NOT_READY_POLLS", DEFAULT_NOT_READY_POLLS, int),
                      latency=read("SCORING_SIM_LATENCY", 0.0, float),
                      failure_rate=read("SCORING_SIM_FAILURE_RATE", 0.0, float),
                      seed=read("SCORING_SIM_SEED", 0, int),
                      fetch_timeout=read("SCORING_SIM_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT, float))
