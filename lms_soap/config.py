"""Every setting of the LMS, read from the environment in one place.

Each field documents its environment variable, unit and default; `.env.sample` mirrors this
module. Nothing else in the code base reads `os.environ` for configuration.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Default SQLite file used when DATABASE_URL is not set (the embedded default).
DEFAULT_DATABASE_URL = "sqlite:///lms.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
#: A development-only key. Production must set LMS_SECRET_KEY (the CLI warns when it is not).
DEV_SECRET_KEY = "lms-dev-only-secret-key-change-me"


class ConfigError(ValueError):
    """A setting has a value that cannot be used."""


def _env(name: str, default, cast, *, empty_is_default: bool = True):
    def read(environ: Mapping[str, str]):
        raw = environ.get(name)
        if raw is None or (raw == "" and empty_is_default):
            return default
        try:
            return cast(raw)
        except (ValueError, ArithmeticError) as exc:
            raise ConfigError(f"{name}={raw!r}: {exc}") from None

    return field(default=default, metadata={"env": name, "read": read})


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _amount(raw: str) -> Decimal:
    value = Decimal(raw.strip())
    if not value.is_finite():
        raise ValueError("expected a finite amount")
    return value


def _auth_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("wsse", "basic"):
        raise ValueError("expected 'wsse' or 'basic'")
    return value


@dataclass(frozen=True)
class Settings:
    # --- the LMS itself -------------------------------------------------------------------
    #: DATABASE_URL: SQLAlchemy URL. PostgreSQL in production (postgresql+psycopg2://...).
    database_url: str = _env("DATABASE_URL", DEFAULT_DATABASE_URL, str)
    #: DB_POOL_SIZE: connections kept per process (size it to the threads of a gunicorn worker).
    db_pool_size: int = _env("DB_POOL_SIZE", 2, int)
    #: DB_POOL_MAX_OVERFLOW: extra connections a process may open under a burst.
    db_pool_max_overflow: int = _env("DB_POOL_MAX_OVERFLOW", 4, int)
    #: DB_CONNECT_TIMEOUT: seconds to wait for a database connection.
    db_connect_timeout: int = _env("DB_CONNECT_TIMEOUT", 5, int)
    #: REDIS_URL: the job queue. Empty means "no queue": `lms-soap worker` then takes the scoring
    #: steps straight from the database, polling every WORKER_POLL_INTERVAL seconds.
    redis_url: str = _env("REDIS_URL", "redis://127.0.0.1:6379/0", str, empty_is_default=False)
    #: REDIS_TIMEOUT: seconds for Redis connect and socket operations.
    redis_timeout: float = _env("REDIS_TIMEOUT", 1.0, float)
    #: LMS_PUBLIC_URL: the URL clients use to reach the LMS; the WSDL's soap:address is built from it.
    public_url: str = _env("LMS_PUBLIC_URL", DEFAULT_PUBLIC_URL, lambda v: v.rstrip("/"))
    #: LMS_SECRET_KEY: keys the API-secret hashes and encrypts the scoring engine's token at rest.
    secret_key: str = _env("LMS_SECRET_KEY", DEV_SECRET_KEY, str)
    #: LOG_LEVEL: DEBUG, INFO, WARNING, ERROR.
    log_level: str = _env("LOG_LEVEL", "INFO", str.upper)

    #: LMS_BIND: address `lms-soap serve` binds gunicorn to.
    serve_bind: str = _env("LMS_BIND", "0.0.0.0:8000", str)
    #: WEB_CONCURRENCY: gunicorn worker processes of `lms-soap serve`.
    serve_workers: int = _env("WEB_CONCURRENCY", 2, int)
    #: LMS_THREADS: threads per gunicorn worker of `lms-soap serve` (gthread when above 1).
    serve_threads: int = _env("LMS_THREADS", 4, int)

    # --- request hardening ---------------------------------------------------------------
    #: MAX_BODY_BYTES: largest SOAP request accepted (checked before the body is read).
    max_body_bytes: int = _env("MAX_BODY_BYTES", 256 * 1024, int)
    #: MAX_XML_DEPTH: deepest element nesting accepted in a request.
    max_xml_depth: int = _env("MAX_XML_DEPTH", 32, int)
    #: MAX_XML_ELEMENTS: most elements accepted in one request.
    max_xml_elements: int = _env("MAX_XML_ELEMENTS", 2000, int)
    #: WSSE_TIMESTAMP_MAX_AGE: seconds a wsu:Timestamp Created may lie in the past (or future: clock skew).
    wsse_timestamp_max_age: int = _env("WSSE_TIMESTAMP_MAX_AGE", 300, int)

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
    #: CBS_WSDL_DIR: folder holding the bank's verbatim WSDLs (customerWsdl.wsdl, transactionWsdl.wsdl).
    cbs_wsdl_dir: str = _env("CBS_WSDL_DIR", str(REPO_ROOT / "wsdl" / "cbs"), str)

    # --- scoring engine ------------------------------------------------------------------
    #: SCORING_BASE_URL: base URL of the scoring engine's REST API.
    scoring_base_url: str = _env("SCORING_BASE_URL", "http://127.0.0.1:8094", lambda v: v.rstrip("/"))
    #: SCORING_CONNECT_TIMEOUT / SCORING_READ_TIMEOUT: seconds.
    scoring_connect_timeout: float = _env("SCORING_CONNECT_TIMEOUT", 2.0, float)
    scoring_read_timeout: float = _env("SCORING_READ_TIMEOUT", 10.0, float)
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
    #: OUTBOX_INTERVAL: seconds between the worker's delivery passes over the outbox.
    outbox_interval: float = _env("OUTBOX_INTERVAL", 2.0, float)
    #: OUTBOX_BACKOFF_BASE: seconds before retrying a failed notification; doubled per attempt.
    outbox_backoff_base: float = _env("OUTBOX_BACKOFF_BASE", 1.0, float)
    #: OUTBOX_BACKOFF_MAX: the longest wait between two attempts, seconds. A notification is never
    #: given up: past this it is retried every OUTBOX_BACKOFF_MAX seconds (and logged each time).
    outbox_backoff_max: float = _env("OUTBOX_BACKOFF_MAX", 300.0, float)

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
    return settings


def env_documentation() -> list[tuple[str, object]]:
    """(variable, default) pairs, for `.env.sample` and the README."""
    return [(f.metadata["env"], f.default) for f in fields(Settings)]
