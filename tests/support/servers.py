"""Serve a WSGI application on a free loopback port in a background thread (tests only)."""
from __future__ import annotations

import contextlib
import threading
from socketserver import ThreadingMixIn
from typing import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lms_soap.sandbox.processes import free_port  # noqa: F401 (re-export: tests import it from here)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # keep test output readable
        pass


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True



@contextlib.contextmanager
def serve_wsgi(app, port: int | None = None) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) while `app` is served."""
    server = make_server("127.0.0.1", port or 0, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
