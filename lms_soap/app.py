"""create_app(settings) -> the WSGI application: SOAP at /soap (WSDL at /soap?wsdl), REST
transactions, /healthz, /readyz and /metrics; every response carries X-Request-ID."""
from __future__ import annotations

import logging
import re
import time
import uuid

from sqlalchemy import text

from lms_soap.bootstrap import Container, build_container
from lms_soap.config import Settings
from lms_soap.lending import errors
from lms_soap.logs import request_id_var
from lms_soap.services.application import LmsWsgiApplication, build_soap_application
from lms_soap.services.auth import Authenticator
from lms_soap.services.wsdl_document import build_wsdl
from lms_soap.services.context import ENV_CONTAINER, ENV_OUTCOME
from lms_soap.web import metrics
from lms_soap.web.audit_trail import AuditTrail
from lms_soap.web.gateway import ENV_OPERATION, ENV_PRINCIPAL, SoapGateway, soap_fault_response
from lms_soap.web.replay_cache import build_replay_cache
from lms_soap.web.rest import PREFIX as REST_PREFIX
from lms_soap.web.rest import TransactionsEndpoint

log = logging.getLogger("lms_soap.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


class LmsApp:
    def __init__(self, container: Container):
        self.container = container
        settings = container.settings
        soap = build_soap_application()
        self.wsdl = build_wsdl(soap, settings.soap_url)
        self.authenticator = Authenticator(container.uow, container.box)
        self.soap = SoapGateway.from_settings(LmsWsgiApplication(soap, self.wsdl), self.authenticator,
                                              build_replay_cache(container.redis), settings)
        self.rest = TransactionsEndpoint(container, self.authenticator)
        self.audit = AuditTrail(container.engine)
        self.metrics = metrics.MetricsEndpoint(container, self.authenticator)

    # --- routing -----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request_id = environ.get("HTTP_X_REQUEST_ID", "")
        if not _REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        environ[ENV_CONTAINER] = self.container
        started = time.perf_counter()
        audit_token = self.audit.begin(environ, request_id, started)
        captured = {}

        def start(status, headers, exc_info=None):
            captured["status"] = status
            return start_response(status, [*headers, ("X-Request-ID", request_id)], exc_info)

        try:
            body = list(self._route(environ, start))  # bodies are small; materialise to time them
        except Exception:  # noqa: BLE001 - never an HTML page or a traceback to the caller
            log.exception("unhandled error")
            body = soap_fault_response(start, errors.InternalError("internal error"), environ)
        finally:
            request_id_var.reset(token)
            self.audit.end(audit_token)
        self._observe(environ, captured.get("status", "500"), time.perf_counter() - started, request_id)
        return body

    def _route(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") == "/soap":
            if method in ("GET", "HEAD") and environ.get("QUERY_STRING", "").lower() in ("wsdl", "wsdl="):
                return _respond(start_response, "200 OK", "text/xml; charset=utf-8", self.wsdl)
            return self.soap(environ, start_response)
        if path == REST_PREFIX or path.startswith(REST_PREFIX + "/"):
            environ[ENV_OPERATION] = "REST:transactions"
            return self.rest(environ, start_response)
        if path == "/healthz":
            return _respond(start_response, "200 OK", "text/plain", b"ok\n")
        if path == "/readyz":
            return self._ready(start_response)
        if path == "/metrics":
            return self.metrics(environ, start_response)
        return _respond(start_response, "404 Not Found", "text/plain", b"not found\n")

    def _ready(self, start_response):
        checks = {"database": "ok", "redis": "ok"}
        try:
            with self.container.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"down: {type(exc).__name__}"
        redis = self.container.redis
        try:
            if redis is not None:
                redis.ping()
            else:
                checks["redis"] = "not configured"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"down: {type(exc).__name__}"
        ok = checks["database"] == "ok" and checks["redis"] in ("ok", "not configured")
        body = "".join(f"{k}: {v}\n" for k, v in checks.items()).encode()
        return _respond(start_response, "200 OK" if ok else "503 Service Unavailable", "text/plain", body)

    # --- metrics, access log, audit ------------------------------------------------------------
    def _observe(self, environ, status: str, elapsed: float, request_id: str) -> None:
        operation = environ.get(ENV_OPERATION)
        if operation is None:
            return  # WSDL, health and metrics requests are not counted
        outcome = environ.get(ENV_OUTCOME, {})
        faultcode = outcome.get("faultcode") or ("" if status.startswith("2") else status.split()[0])
        metrics.REQUESTS.labels(operation, faultcode or "OK").inc()
        metrics.LATENCY.labels(operation).observe(elapsed)
        principal = environ.get(ENV_PRINCIPAL)
        duration_ms = int(elapsed * 1000)
        log.info("%s %s", operation, faultcode or "OK", extra={
            "operation": operation, "principal": principal.username if principal else None,
            "faultcode": faultcode or None, "duration_ms": duration_ms,
            "customer": outcome.get("customer"), "loan": outcome.get("loan")})
        self.audit.record(environ, faultcode, elapsed, request_id)


def _respond(start_response, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def create_app(settings: Settings, container: Container | None = None) -> LmsApp:
    """The WSGI application. Builds the container (engine, clients) unless one is given."""
    return LmsApp(container or build_container(settings))
