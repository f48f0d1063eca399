"""create_app(settings) -> the WSGI application: SOAP at /soap (WSDL at /soap?wsdl), the bank
callback's WSDL at /callback?wsdl, REST transactions, /healthz, /readyz and /metrics; every
response carries X-Request-ID.

Each request gets one RequestContext (services/request_context.py) here; after the response, its
fields feed the request counters, the access log and the audit trail (web/audit_trail.py)."""
from __future__ import annotations

import logging
import time

from sqlalchemy import text

from lms_soap.bootstrap import Container, build_container
from lms_soap.config import Settings
from lms_soap import correlation
from lms_soap.logs import request_id_var
from lms_soap.services.application import LmsWsgiApplication, build_soap_application
from lms_soap.services.auth import Authenticator
from lms_soap.services.callback_wsdl import build_callback_wsdl, callback_address
from lms_soap.services.faults import fault_response
from lms_soap.services.request_context import RequestContext
from lms_soap.services.wsdl_document import build_wsdl
from lms_soap.web import metrics
from lms_soap.web.audit_trail import AuditTrail
from lms_soap.web.gateway import SoapGateway
from lms_soap.web.replay_cache import build_replay_cache
from lms_soap.web.server_errors import connection_closer
from lms_soap.web.rest import PREFIX as REST_PREFIX
from lms_soap.web.rest import TransactionsEndpoint

log = logging.getLogger("lms_soap.access")


class LmsApp:
    def __init__(self, container: Container):
        self.container = container
        settings = container.settings
        soap = build_soap_application()
        self.wsdl = build_wsdl(soap, settings.soap_url)
        self.callback_wsdl = build_callback_wsdl(self.wsdl, callback_address(settings.bank_callback_url))
        self.authenticator = Authenticator(container.uow, container.box)
        self.soap = SoapGateway.from_settings(LmsWsgiApplication(soap, self.wsdl), self.authenticator,
                                              build_replay_cache(container.redis), settings)
        self.rest = TransactionsEndpoint(container, self.authenticator)
        self.audit = AuditTrail(container.engine)
        self.metrics = metrics.MetricsEndpoint(container, self.authenticator)

    # --- routing -----------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        given = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = given if correlation.usable(given) else correlation.new_id()
        token = request_id_var.set(request_id)
        request = RequestContext(self.container, request_id, time.perf_counter(),
                                 close_connection=connection_closer(start_response),
                                 request_id_given=request_id == given).attach(environ)
        audit_token = self.audit.begin(request)
        captured = {}

        def start(status, headers, exc_info=None):
            captured["status"] = status
            # request.request_id, not request_id: the gateway may take the envelope's wsa:MessageID.
            return start_response(status, [*headers, (correlation.HEADER, request.request_id)], exc_info)

        try:
            try:
                body = list(self._route(environ, start))  # bodies are small; materialise to time them
            except Exception as exc:  # noqa: BLE001 - never an HTML page or a traceback to the caller
                status, headers, fault = fault_response(exc, request)  # logs it: not a catalogue error
                start(status, headers)
                body = [fault]
            finally:
                self.audit.end(audit_token)
            self._observe(request, captured.get("status", "500"), time.perf_counter() - request.started,
                          environ, body)
            return body
        finally:  # the access line above is still written under the request's id
            request_id_var.reset(token)

    def _route(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        wants_wsdl = method in ("GET", "HEAD") and environ.get("QUERY_STRING", "").lower() in ("wsdl", "wsdl=")
        if path.rstrip("/") == "/soap":
            if wants_wsdl:
                return _respond(start_response, "200 OK", "text/xml; charset=utf-8", self.wsdl)
            return self.soap(environ, start_response)
        if path.rstrip("/") == "/callback" and wants_wsdl:  # the bank implements it; we serve no /callback
            return _respond(start_response, "200 OK", "text/xml; charset=utf-8", self.callback_wsdl)
        if path == REST_PREFIX or path.startswith(REST_PREFIX + "/"):
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
    def _observe(self, request: RequestContext, status: str, elapsed: float, environ, body) -> None:
        """The request's one access line (JSON, every request: gunicorn writes none for the LMS,
        lms_soap/cli.py); for an operation also its counters and its audit row."""
        operation = request.operation_name
        code = status.split(" ", 1)[0]
        faultcode = request.faultcode or ("" if code.startswith("2") else code)
        principal = request.principal
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        log.info("%s %s", operation or method, (faultcode or "OK") if operation else path, extra={
            "operation": operation, "principal": principal.username if principal else None,
            "faultcode": faultcode or None, "duration_ms": int(elapsed * 1000),
            "customer": request.customer, "loan": request.loan, "method": method, "path": path,
            "status": int(code) if code.isdigit() else code, "bytes": sum(map(len, body)),
            "remote": environ.get("REMOTE_ADDR")})
        if operation is None:
            return  # WSDL, health and metrics requests are not counted nor audited
        metrics.REQUESTS.labels(operation, faultcode or "OK").inc()
        metrics.LATENCY.labels(operation).observe(elapsed)
        self.audit.record(request, faultcode, elapsed)


def _respond(start_response, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def create_app(settings: Settings, container: Container | None = None) -> LmsApp:
    """The WSGI application. Builds the container (engine, clients) unless one is given."""
    return LmsApp(container or build_container(settings))
