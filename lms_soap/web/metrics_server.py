"""METRICS_BIND: the Prometheus metrics on an address of their own (a private network, a sidecar),
with prometheus_client's own HTTP server in a daemon thread.

Started from the gunicorn entry point (wsgi.py) in every worker: the first worker to bind the
address serves it, the others find it taken and leave it; when that worker exits (max-requests,
a crash) the worker gunicorn starts in its place binds it again. One worker's answer is complete:
the request counters are read from every worker's PROMETHEUS_MULTIPROC_DIR files and the loan
figures from the database. Not for `gunicorn --preload`: the thread would run in the master and
share its database pool with the workers forked from it (`lms-soap serve` does not preload).
"""
from __future__ import annotations

import errno
import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_wsgi_server

from .metrics import AllMetrics

log = logging.getLogger(__name__)


def start_metrics_server(bind: str, container) -> WSGIServer | None:
    """Serve the metrics on `bind` (host:port); None when another process already serves them."""
    host, _, port = bind.rpartition(":")
    try:
        server, _thread = start_wsgi_server(int(port), addr=host.strip("[]"), registry=AllMetrics(container))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        log.info("metrics: %s is served by another worker", bind)
        return None
    log.info("metrics: serving on %s", bind)
    return server
