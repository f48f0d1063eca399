"""Every setting of the LMS, read from the environment in one place.

Each field documents its environment variable, unit and default; `.env.sample` mirrors this
module. Nothing else in the code base reads `os.environ` for configuration.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Mapping

from lms_soap.config_values import (ConfigError, _amount, _auth_mode, _bool, _env, _host_port,  # noqa: F401
                                    _non_negative_int, _positive_float, _switch_interval)

#: Default SQLite file used when DATABASE_URL is not set (the embedded default).
DEFAULT_DATABASE_URL = "sqlite:///lms.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
#: A development-only key, committed here for all to read: whatever is keyed or encrypted with it
#: (API-secret hashes, the scoring engine's token) is open to anyone with the database. The server,
#: the worker and the commands that store secrets refuse it (require_production_key) unless
#: LMS_ALLOW_DEV_KEY=1; the sandbox generates a key of its own.
DEV_SECRET_KEY = "lms-dev-only-secret-key-change-me"


@dataclass(frozen=True)
class Settings:
    # --- the LMS itself -------------------------------------------------------------------
    #: DATABASE_URL: SQLAlchemy URL. PostgreSQL in production (postgresql+psycopg2://...).
    database_url: str = _env("DATABASE_URL", DEFAULT_DATABASE_URL, str)
    #: DB_POOL_SIZE: connections kept per process; default LMS_THREADS (at least 2): one per thread of a
    #: gunicorn worker (a smaller pool makes the busy threads open and close an overflow connection,
    #: a new PostgreSQL backend, per request).
    db_pool_size: int = _env("DB_POOL_SIZE", None, int)
    #: DB_POOL_MAX_OVERFLOW: extra connections a process may open under a burst.
    db_pool_max_overflow: int = _env("DB_POOL_MAX_OVERFLOW", 4, int)
    #: DB_CONNECT_TIMEOUT: seconds to wait for a database connection.
    db_connect_timeout: int = _env("DB_CONNECT_TIMEOUT", 5, int)
    #: DB_STATEMENT_TIMEOUT: milliseconds a PostgreSQL statement may run before the server cancels
    #: it (libpq startup option statement_timeout; 0 disables). Behind PgBouncer, see the README.
    db_statement_timeout: int = _env("DB_STATEMENT_TIMEOUT", 30000, _non_negative_int)
    #: REDIS_URL: the job queue. Empty means "no queue": `lms-soap worker` then takes the scoring
    #: steps straight from the database, polling every WORKER_POLL_INTERVAL seconds.
    redis_url: str = _env("REDIS_URL", "redis://127.0.0.1:6379/0", str, empty_is_default=False)
    #: REDIS_SENTINELS: comma-separated host:port list of Redis Sentinels. When set, the LMS and the
    #: workers ask them for the current primary of REDIS_SENTINEL_MASTER (and follow a failover);
    #: REDIS_URL then only gives the database number and password (its host and port are ignored).
    redis_sentinels: str = _env("REDIS_SENTINELS", "", str)
    #: REDIS_SENTINEL_MASTER: the name the Sentinels monitor the primary under.
    redis_sentinel_master: str = _env("REDIS_SENTINEL_MASTER", "mymaster", str)
    #: REDIS_TIMEOUT: seconds for Redis connect and socket operations.
    redis_timeout: float = _env("REDIS_TIMEOUT", 1.0, float)
    #: LMS_PUBLIC_URL: the URL clients use to reach the LMS; the WSDL's soap:address is built from it.
    public_url: str = _env("LMS_PUBLIC_URL", DEFAULT_PUBLIC_URL, lambda v: v.rstrip("/"))
    #: LMS_SECRET_KEY: keys the API-secret hashes and encrypts the scoring engine's token at rest.
    secret_key: str = _env("LMS_SECRET_KEY", DEV_SECRET_KEY, str)
    #: LMS_ALLOW_DEV_KEY: 1 lets the server, the worker and `lms-soap clients add` run on the
    #: committed development LMS_SECRET_KEY (local experiments only); otherwise they refuse to start.
    allow_dev_key: bool = _env("LMS_ALLOW_DEV_KEY", False, _bool)
    #: LOG_LEVEL: DEBUG, INFO, WARNING, ERROR.
    log_level: str = _env("LOG_LEVEL", "INFO", str.upper)

    #: LMS_BIND: address `lms-soap serve` binds gunicorn to.
    serve_bind: str = _env("LMS_BIND", "0.0.0.0:8000", str)
    #: WEB_CONCURRENCY: gunicorn worker processes of `lms-soap serve`.
    serve_workers: int = _env("WEB_CONCURRENCY", 2, int)
    #: LMS_THREADS: threads per gunicorn worker of `lms-soap serve` (gthread when above 1).
    serve_threads: int = _env("LMS_THREADS", 4, int)
    #: METRICS_BIND: host:port serving the Prometheus metrics apart from the service (then /metrics
    #: on the main address answers 404). Empty: /metrics on the main address, admin credentials.
    metrics_bind: str = _env("METRICS_BIND", "", _host_port)
    #: PROMETHEUS_MULTIPROC_DIR: an empty, writable folder where every gunicorn worker keeps its
    #: request counters, so /metrics sums all workers (prometheus_client reads it too). Empty:
    #: each worker's own counters.
    prometheus_multiproc_dir: str = _env("PROMETHEUS_MULTIPROC_DIR", "", str)
    # The other gunicorn settings (lms_soap/gunicorn_conf.py reads all of these):
    #: LMS_TIMEOUT: seconds a gunicorn worker may be silent before the master restarts it.
    serve_timeout: int = _env("LMS_TIMEOUT", 60, int)
    #: LMS_GRACEFUL_TIMEOUT: seconds gunicorn's workers get to finish their requests on a stop
    #: (the sandbox sets 5, for a quick Ctrl-C).
    serve_graceful_timeout: int = _env("LMS_GRACEFUL_TIMEOUT", 20, int)
    #: LMS_KEEPALIVE: seconds an idle keep-alive connection is kept open (gthread workers).
    serve_keepalive: int = _env("LMS_KEEPALIVE", 5, int)
    #: LMS_MAX_REQUESTS / LMS_MAX_REQUESTS_JITTER: a worker is replaced after about this many
    #: requests (0: never; the bench sets 0 so that no restart falls into a measurement).
    serve_max_requests: int = _env("LMS_MAX_REQUESTS", 20000, int)
    serve_max_requests_jitter: int = _env("LMS_MAX_REQUESTS_JITTER", 2000, int)
    #: LMS_SWITCH_INTERVAL: seconds a thread of a gunicorn worker of the LMS holds the GIL while
    #: another waits for it (sys.setswitchinterval; Python's default is 0.005). A request thread
    #: coming back from the database or a socket write waits up to that long for a busy one;
    #: 0.001 measured better GetLoanStatus throughput and p99 (bench/README.md).
    serve_switch_interval: float = _env("LMS_SWITCH_INTERVAL", 0.001, _switch_interval)

    # --- request hardening ---------------------------------------------------------------
    #: MAX_BODY_BYTES: largest SOAP request accepted (checked before the body is read).
    max_body_bytes: int = _env("MAX_BODY_BYTES", 256 * 1024, int)
    #: MAX_XML_DEPTH: deepest element nesting accepted in a request.
    max_xml_depth: int = _env("MAX_XML_DEPTH", 32, int)
    #: MAX_XML_ELEMENTS: most elements accepted in one request.
    max_xml_elements: int = _env("MAX_XML_ELEMENTS", 2000, int)
    #: MAX_DRAIN_BYTES: most bytes of a refused request's unread body read and dropped, so that the
    #: connection stays usable (like Tomcat's maxSwallowSize); past it the connection is closed.
    max_drain_bytes: int = _env("MAX_DRAIN_BYTES", 2 * 1024 * 1024, int)
    #: WSSE_MAX_AGE: seconds a WS-Security Created (UsernameToken or wsu:Timestamp) may lie in the
    #: past; a Nonce is remembered this long (plus WSSE_CLOCK_SKEW). Formerly WSSE_TIMESTAMP_MAX_AGE,
    #: still read when WSSE_MAX_AGE is unset.
    wsse_max_age: int = _env("WSSE_MAX_AGE", 300, int, deprecated_alias="WSSE_TIMESTAMP_MAX_AGE")
    #: WSSE_CLOCK_SKEW: seconds a WS-Security Created may lie in the future (the caller's clock ahead).
    wsse_clock_skew: int = _env("WSSE_CLOCK_SKEW", 60, int)

    # --- Core Banking System -------------------------------------------------------------
    #: CBS_CUSTOMER_URL: endpoint of the CBS KYC service (operation Customer).
    cbs_customer_url: str = _env("CBS_CUSTOMER_URL", "http://127.0.0.1:8093/service/customer", str)
    #: CBS_TRANSACTIONS_URL: endpoint of the CBS Transactions service.
    cbs_transactions_url: str = _env(
        "CBS_TRANSACTIONS_URL", "http://127.0.0.1:8093/service/transaction-data", str
    )
    #: CBS_USERNAME / CBS_PASSWORD: credentials the LMS presents to the CBS.
    cbs_username: str = _env("CBS_USERNAME", "admin", str)
    cbs_password: str = _env("CBS_PASSWORD", "pwd123", str)
    #: CBS_AUTH_MODE: 'wsse' (WS-Security UsernameToken, PasswordText) or 'basic' (HTTP Basic).
    cbs_auth_mode: str = _env("CBS_AUTH_MODE", "wsse", _auth_mode)
    #: CBS_CONNECT_TIMEOUT / CBS_READ_TIMEOUT: seconds.
    cbs_connect_timeout: float = _env("CBS_CONNECT_TIMEOUT", 2.0, float)
    cbs_read_timeout: float = _env("CBS_READ_TIMEOUT", 10.0, float)
    #: CBS_CALL_DEADLINE: seconds one CBS call may take in all (connect, send, every read), however
    #: the CBS drips its answer; past it the call fails with Server.CoreBankingUnavailable.
    cbs_call_deadline: float = _env("CBS_CALL_DEADLINE", 15.0, _positive_float)
    #: CBS_WSDL_DIR: folder holding the bank's verbatim WSDLs (customerWsdl.wsdl, transactionWsdl.wsdl).
    #: Empty: the copies shipped inside the package (lms_soap/resources/cbs/).
    cbs_wsdl_dir: str = _env("CBS_WSDL_DIR", "", str)

    # --- scoring engine ------------------------------------------------------------------
    #: SCORING_BASE_URL: base URL of the scoring engine's REST API.
    scoring_base_url: str = _env("SCORING_BASE_URL", "http://127.0.0.1:8094", lambda v: v.rstrip("/"))
    #: SCORING_CONNECT_TIMEOUT / SCORING_READ_TIMEOUT: seconds.
    scoring_connect_timeout: float = _env("SCORING_CONNECT_TIMEOUT", 2.0, float)
    scoring_read_timeout: float = _env("SCORING_READ_TIMEOUT", 10.0, float)
    #: SCORING_CALL_DEADLINE: seconds one call to the scoring engine may take in all (connect, send,
    #: every read); past it the call fails and the scoring job retries it. Not SCORING_DEADLINE.
    scoring_call_deadline: float = _env("SCORING_CALL_DEADLINE", 15.0, _positive_float)
    #: SCORING_CLIENT_NAME: the name the LMS registers under with createClient.
    scoring_client_name: str = _env("SCORING_CLIENT_NAME", "lms-soap", str)
    #: SCORING_TRANSACTIONS_URL: URL given to the engine for transaction data
    #: (default: LMS_PUBLIC_URL + /api/v1/transactions).
    scoring_transactions_url: str = _env("SCORING_TRANSACTIONS_URL", "", str)
    #: SCORING_MAX_ATTEMPTS: queryScore polls before the loan FAILS with SCORING_TIMEOUT.
    scoring_max_attempts: int = _env("SCORING_MAX_ATTEMPTS", 8, int)
    #: SCORING_MAX_INITIATE_ATTEMPTS: initiate tries before the loan FAILS with SCORING_UNAVAILABLE.
    scoring_max_initiate_attempts: int = _env("SCORING_MAX_INITIATE_ATTEMPTS", 5, int)
    #: SCORING_BACKOFF_BASE: seconds before the first retry; doubled at each attempt.
    scoring_backoff_base: float = _env("SCORING_BACKOFF_BASE", 1.0, float)
    #: SCORING_BACKOFF_MAX: ceiling of one back-off delay, seconds.
    scoring_backoff_max: float = _env("SCORING_BACKOFF_MAX", 60.0, float)
    #: SCORING_BACKOFF_JITTER: random extra fraction of each delay (0.2 = up to +20 %).
    scoring_backoff_jitter: float = _env("SCORING_BACKOFF_JITTER", 0.2, float)
    #: SCORING_DEADLINE: seconds after a loan's first attempt at the engine past which the reconciler
    #: FAILS it if still in scoring (time spent waiting for our worker or Redis does not count).
    scoring_deadline: float = _env("SCORING_DEADLINE", 1800.0, float)
    #: SCORING_MIN_SCORE: when set, a score below it is REJECTED with SCORE_BELOW_MINIMUM.
    scoring_min_score: int | None = _env("SCORING_MIN_SCORE", None, int)
    #: SCORING_CLAIM_LEASE: seconds a scoring step holds its claim on a loan while it calls the
    #: engine; a step whose process died is taken again once it lapses. Longer than
    #: SCORING_CALL_DEADLINE, or a slow but live step could be run twice.
    scoring_claim_lease: float = _env("SCORING_CLAIM_LEASE", 120.0, _positive_float)

    # --- loans ---------------------------------------------------------------------------
    #: LOAN_MIN_AMOUNT / LOAN_MAX_AMOUNT: service-level bounds of a loan request (inclusive).
    loan_min_amount: Decimal = _env("LOAN_MIN_AMOUNT", Decimal("1.00"), _amount)
    loan_max_amount: Decimal = _env("LOAN_MAX_AMOUNT", Decimal("1000000.00"), _amount)
    #: LOAN_CURRENCY: ISO currency of every loan.
    loan_currency: str = _env("LOAN_CURRENCY", "KES", str)

    # --- jobs ----------------------------------------------------------------------------
    #: QUEUE_NAME: the RQ queue of the scoring jobs.
    queue_name: str = _env("QUEUE_NAME", "lms-scoring", str)
    #: RECONCILE_INTERVAL: seconds between reconciler passes in the worker.
    reconcile_interval: float = _env("RECONCILE_INTERVAL", 30.0, float)
    #: RECONCILE_GRACE: seconds a loan's next poll may be overdue before the reconciler re-queues it.
    reconcile_grace: float = _env("RECONCILE_GRACE", 10.0, float)
    #: WORKER_POLL_INTERVAL: without REDIS_URL, seconds between the worker's looks at the database
    #: for due scoring steps (a step may start up to this late).
    worker_poll_interval: float = _env("WORKER_POLL_INTERVAL", 1.0, float)

    # --- the loan after approval ---------------------------------------------------------------
    #: ARREARS_INTERVAL: seconds between the worker's arrears passes (EXPIRED, OVERDUE, DEFAULTED,
    #: WRITTEN_OFF as they fall due); 0 turns the pass off in this worker.
    arrears_interval: float = _env("ARREARS_INTERVAL", 60.0, float)

    # --- telling the bank (NotifyLoanEvent) ---------------------------------------------------
    #: BANK_CALLBACK_URL: where the worker posts NotifyLoanEvent. Empty: nothing is sent (each
    #: event's outbox row is marked "not sent").
    bank_callback_url: str = _env("BANK_CALLBACK_URL", "", str)
    #: BANK_CALLBACK_USERNAME / BANK_CALLBACK_PASSWORD: credentials the LMS presents to the bank
    #: (the password is never logged).
    bank_callback_username: str = _env("BANK_CALLBACK_USERNAME", "", str)
    bank_callback_password: str = _env("BANK_CALLBACK_PASSWORD", "", str)
    #: BANK_CALLBACK_AUTH: 'basic' (HTTP Basic) or 'wsse' (WS-Security UsernameToken, PasswordText).
    bank_callback_auth: str = _env("BANK_CALLBACK_AUTH", "basic", _auth_mode)
    #: BANK_CALLBACK_TIMEOUT: seconds for connecting to the bank and, again, for its answer.
    bank_callback_timeout: float = _env("BANK_CALLBACK_TIMEOUT", 5.0, float)
    #: BANK_CALLBACK_DEADLINE: seconds one NotifyLoanEvent call may take in all (a slow-drip
    #: receiver cannot hold the worker past it; the event is retried later).
    bank_callback_deadline: float = _env("BANK_CALLBACK_DEADLINE", 10.0, float)
    #: OUTBOX_INTERVAL: seconds between the worker's delivery passes over the outbox.
    outbox_interval: float = _env("OUTBOX_INTERVAL", 2.0, float)
    #: OUTBOX_BACKOFF_BASE: seconds before retrying a failed notification; doubled per attempt.
    outbox_backoff_base: float = _env("OUTBOX_BACKOFF_BASE", 1.0, float)
    #: OUTBOX_BACKOFF_MAX: the longest wait between two attempts, seconds. A notification is never
    #: given up: past this it is retried every OUTBOX_BACKOFF_MAX seconds (and logged each time).
    outbox_backoff_max: float = _env("OUTBOX_BACKOFF_MAX", 300.0, float)

    def __post_init__(self) -> None:
        if self.db_pool_size is None:  # see DB_POOL_SIZE
            object.__setattr__(self, "db_pool_size", max(self.serve_threads, 2))

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """REDIS_SENTINELS as (host, port) pairs; empty when Sentinel is not used."""
        pairs = []
        for item in filter(None, (part.strip() for part in self.redis_sentinels.split(","))):
            host, sep, port = item.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ConfigError(f"REDIS_SENTINELS: {item!r} is not host:port")
            pairs.append((host.strip("[]"), int(port)))
        return pairs

    @property
    def transactions_url(self) -> str:
        return self.scoring_transactions_url or f"{self.public_url}/api/v1/transactions"

    @property
    def soap_url(self) -> str:
        return f"{self.public_url}/soap"

    def replace(self, **changes) -> "Settings":
        from dataclasses import replace

        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (default: os.environ)."""
    environ = os.environ if environ is None else environ
    values = {f.name: f.metadata["read"](environ) for f in fields(Settings)}
    settings = Settings(**values)
    if settings.loan_min_amount > settings.loan_max_amount:
        raise ConfigError("LOAN_MIN_AMOUNT is above LOAN_MAX_AMOUNT")
    if settings.scoring_claim_lease <= settings.scoring_call_deadline:
        raise ConfigError("SCORING_CLAIM_LEASE must be longer than SCORING_CALL_DEADLINE")
    settings.sentinel_addresses  # noqa: B018 - a malformed REDIS_SENTINELS fails at start-up
    return settings


def environ_for(**values) -> dict[str, str]:
    """The environment variables that make load_settings() in a child process read these Settings
    field values, e.g. environ_for(serve_bind="127.0.0.1:8001") == {"LMS_BIND": "127.0.0.1:8001"}."""
    names = {f.name: f.metadata["env"] for f in fields(Settings)}
    return {names[name]: str(value) for name, value in values.items() if value is not None}


def require_production_key(settings: Settings, what: str) -> None:
    """Refuse to run `what` (the WSGI app, serve, the worker, a command storing secrets) on the
    committed development LMS_SECRET_KEY, unless LMS_ALLOW_DEV_KEY=1 says it is an experiment.
    The one place of this check; create_app does not make it, so tests build apps freely."""
    if settings.secret_key == DEV_SECRET_KEY and not settings.allow_dev_key:
        raise ConfigError(
            f"{what} refuses to start: LMS_SECRET_KEY is not set, or is the development key committed "
            "in lms_soap/config.py, which anyone can read. Set LMS_SECRET_KEY to a long random secret "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), kept across restarts; "
            "for a local experiment only, set LMS_ALLOW_DEV_KEY=1.")


def env_documentation() -> list[tuple[str, object]]:
    """(variable, default) pairs, for `.env.sample` and the README."""
    return [(f.metadata["env"], f.default) for f in fields(Settings)]
