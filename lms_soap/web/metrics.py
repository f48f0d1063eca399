"""Prometheus metrics. Request counters live in each process; loan and queue figures are read from
the database and Redis at scrape time, so every worker process reports the same truth.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty, writable folder) so that
the request counters of all workers are summed.

The figures are the bank's loan volumes: /metrics on the service's address needs the HTTP Basic
credentials of an admin API client (MetricsEndpoint); with METRICS_BIND set they are served on
that address instead, for a scraper on a private network (web/metrics_server.py).
"""
from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from lms_soap.lending import errors
from lms_soap.services.auth import authorize, verify_basic
from lms_soap.services.faults import CHALLENGE
from lms_soap.services.operations import REST_METRICS
from lms_soap.services.request_context import RequestContext

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("lms_soap_requests_total", "SOAP and REST requests by operation and faultcode",
                   ["operation", "faultcode"], registry=REGISTRY)
LATENCY = Histogram("lms_soap_request_seconds", "Request latency by operation", ["operation"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
                    registry=REGISTRY)


class LendingCollector:
    """Loans by status, decisions by reason, scoring attempts, queue depth: read at scrape time."""

    def __init__(self, container):
        self.container = container

    def collect(self):
        by_status = GaugeMetricFamily("lms_loans", "Loans by status", labels=["status"])
        by_reason = GaugeMetricFamily("lms_loan_outcomes", "Decided loans by status and reason",
                                      labels=["status", "reason"])
        attempts = GaugeMetricFamily("lms_scoring_attempts", "queryScore polls made, all loans")
        depth = GaugeMetricFamily("lms_queue_depth", "Scoring jobs queued or scheduled (-1: Redis down)")
        try:
            with self.container.uow() as uow:
                for status, count in uow.loans.count_by_status().items():
                    by_status.add_metric([status], count)
                for (status, reason), count in uow.loans.count_decided_by_reason().items():
                    by_reason.add_metric([status, reason], count)
                attempts.add_metric([], uow.loans.total_scoring_attempts())
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics: database unavailable: %s", type(exc).__name__)
        queue_depth = getattr(self.container.queue, "depth", None)
        depth.add_metric([], queue_depth() if queue_depth else -1)
        yield from (by_status, by_reason, attempts, depth)


class AllMetrics:
    """What a scrape returns: the request counters (of every worker in multiprocess mode) and
    the lending figures. A collector, so prometheus_client's own servers can serve it too."""

    def __init__(self, container):
        self.lending = LendingCollector(container)

    def collect(self):
        registry = REGISTRY
        if self.lending.container.settings.prometheus_multiproc_dir:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        yield from registry.collect()
        yield from self.lending.collect()


def render(container) -> bytes:
    return generate_latest(AllMetrics(container))


class MetricsEndpoint:
    """GET /metrics on the service's address: admin credentials (HTTP Basic), else 401 or 403;
    404 when METRICS_BIND serves the metrics elsewhere. Refusals reach the audit log."""

    def __init__(self, container, authenticator):
        self.container = container
        self.authenticator = authenticator

    def __call__(self, environ, start_response):
        if self.container.settings.metrics_bind:
            return _plain(start_response, "404 Not Found", b"not found\n")
        request = RequestContext.of(environ)
        try:
            request.principal = verify_basic(self.authenticator, environ.get("HTTP_AUTHORIZATION"),
                                             "HTTP Basic credentials of an admin client required")
            authorize(request.principal, REST_METRICS, "read the metrics")
        except errors.LendingError as exc:
            request.operation = REST_METRICS  # counted, logged and audited as a refused call
            request.faultcode = exc.faultcode
            if exc.code == "AuthenticationFailed":
                return _plain(start_response, "401 Unauthorized", b"admin credentials required\n",
                              [("WWW-Authenticate", CHALLENGE)])
            if exc.code == "NotAuthorized":
                return _plain(start_response, "403 Forbidden", b"admin role required\n")
            return _plain(start_response, "503 Service Unavailable", b"credentials cannot be checked now\n")
        return _plain(start_response, "200 OK", render(self.container), content_type=CONTENT_TYPE)


CONTENT_TYPE = "text/plain; version=0.0.4"


def _plain(start_response, status: str, body: bytes, headers=(), content_type: str = "text/plain"):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers])
    return [body]
