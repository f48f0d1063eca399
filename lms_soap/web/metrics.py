"""Prometheus metrics. Request counters live in each process; loan and queue figures are read from
the database and Redis at scrape time, so every worker process reports the same truth.

With several gunicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty, writable folder) so that
the request counters of all workers are summed.
"""
from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

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
        from lms_soap.models.tables import loans

        by_status = GaugeMetricFamily("lms_loans", "Loans by status", labels=["status"])
        by_reason = GaugeMetricFamily("lms_loan_outcomes", "Decided loans by status and reason",
                                      labels=["status", "reason"])
        attempts = GaugeMetricFamily("lms_scoring_attempts", "queryScore polls made, all loans")
        depth = GaugeMetricFamily("lms_queue_depth", "Scoring jobs queued or scheduled (-1: Redis down)")
        try:
            with self.container.engine.connect() as conn:
                for status, count in conn.execute(select(loans.c.status, func.count()).group_by(loans.c.status)):
                    by_status.add_metric([getattr(status, "value", status)], count)
                rows = conn.execute(select(loans.c.status, loans.c.status_reason, func.count())
                                    .where(loans.c.decided_at.is_not(None))
                                    .group_by(loans.c.status, loans.c.status_reason))
                for status, reason, count in rows:
                    by_reason.add_metric([getattr(status, "value", status), reason or ""], count)
                attempts.add_metric([], conn.execute(select(func.coalesce(func.sum(loans.c.scoring_attempts), 0))).scalar())
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the database is down
            log.warning("metrics: database unavailable: %s", type(exc).__name__)
        queue_depth = getattr(self.container.queue, "depth", None)
        depth.add_metric([], queue_depth() if queue_depth else -1)
        yield from (by_status, by_reason, attempts, depth)


def render(container) -> bytes:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    output = generate_latest(registry)
    lending = CollectorRegistry()
    lending.register(LendingCollector(container))
    return output + generate_latest(lending)
