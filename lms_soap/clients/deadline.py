"""A total deadline for each outbound HTTP call, for any requests.Session-based client.

requests' timeout=(connect, read) bounds each socket operation, not the call: a dependency that
sends a few bytes just inside the read timeout, forever (slow headers or a slow body), holds the
caller as long as it likes. A `DeadlineSession` gives every call a deadline; before each read
from the socket, the socket's timeout becomes min(read timeout, time left to the deadline), so the
read that would cross the deadline times out at the deadline, and the call fails with
`DeadlineExceeded` (a requests.Timeout).

Why per-read timeouts rather than a watchdog that closes the socket at the deadline (the other
usual answer): the watchdog needs a thread (restarted after every fork: gunicorn workers and RQ
job horses fork), and it races with the pool: the connection it shuts down may already have been
handed to the next call. Here everything happens in the calling thread, on the connection the call
holds, and the pool only ever sees a connection that urllib3 itself closed on the timeout error.

Covered: connecting (the connect timeout is capped by the deadline), the status line, the headers
and the body (read inside Session.request, as stream=False does). Not covered: DNS resolution
(getaddrinfo cannot be interrupted; our endpoints are configured hosts), a streamed body read
after request() returned (stream=True: then only the read timeout applies), and SOCKS proxies
(urllib3's SOCKS pools use their own connection classes).
"""
from __future__ import annotations

import contextvars
import http.client
import io
import socket
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from lms_soap import correlation

#: monotonic time by which the call running in this thread (context) must be over, if any.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("lms_call_deadline", default=None)


class DeadlineExceeded(requests.Timeout):
    """The call ran past its total deadline. Its text names the deadline only (never the URL)."""


class _DeadlineSocketIO(socket.SocketIO):
    """The raw reader under http.client's response file: every read is bounded by the deadline."""

    def __init__(self, sock: socket.socket, mode: str):
        super().__init__(sock, mode)
        self._read_timeout = sock.gettimeout()  # what urllib3 set for this response

    def readinto(self, buffer) -> int:
        deadline = _deadline.get()
        if deadline is None:
            return super().readinto(buffer)
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("call deadline exceeded")
        read_timeout = self._read_timeout
        self._sock.settimeout(left if read_timeout is None else min(read_timeout, left))
        try:
            return super().readinto(buffer)
        finally:
            try:
                self._sock.settimeout(read_timeout)  # the next call on this pooled connection
            except OSError:
                pass  # closed meanwhile


class _DeadlineFileMaker:
    """What http.client.HTTPResponse is given as its socket: it only calls makefile("rb"), which
    is done here as socket.makefile does, with the deadline-aware raw reader."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def makefile(self, mode: str = "rb", *args, **kwargs):
        if not isinstance(self._sock, socket.socket):  # urllib3's SSLTransport (TLS in TLS)
            return self._sock.makefile(mode, *args, **kwargs)
        raw = _DeadlineSocketIO(self._sock, "rb")
        self._sock._io_refs += 1  # as socket.makefile: the socket stays open while the file is
        return io.BufferedReader(raw, io.DEFAULT_BUFFER_SIZE)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, **kwargs):
        super().__init__(_DeadlineFileMaker(sock), *args, **kwargs)


class _HTTPConnection(HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections honour the deadline of the call (directly or through an
    HTTP proxy). max_retries stays requests' default (0): a retry would restart the clock."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


class DeadlineSession(requests.Session):
    """A requests.Session whose every call ends by `deadline` seconds after it started."""

    def __init__(self, deadline: float, *, pool_connections: int = 10, pool_maxsize: int = 10) -> None:
        if not deadline > 0:
            raise ValueError("the deadline must be a positive number of seconds")
        super().__init__()
        self.deadline = float(deadline)
        adapter = DeadlineAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize,
                                  max_retries=0)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method, url, *args, **kwargs) -> requests.Response:
        request_id = correlation.current()
        if request_id:  # the correlation id of the work in hand, to the dependency's logs too
            kwargs["headers"] = {correlation.HEADER: request_id, **(kwargs.get("headers") or {})}
        now = time.monotonic()
        outer = _deadline.get()
        deadline = now + self.deadline if outer is None else min(outer, now + self.deadline)
        kwargs["timeout"] = _capped(kwargs.get("timeout"), deadline - now)
        token = _deadline.set(deadline)
        try:
            return super().request(method, url, *args, **kwargs)
        except requests.RequestException:
            if time.monotonic() < deadline:
                raise
            error = DeadlineExceeded(f"the call ran past its deadline of {self.deadline:g} s")
        finally:
            _deadline.reset(token)
        raise error  # outside the except block: the original (its text holds the URL) is not chained


def _capped(timeout, left: float):
    """requests' timeout with its connect part capped by the time left (the reads are capped one
    by one as they happen)."""
    if timeout is None:
        return (left, None)
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (left if connect is None else min(connect, left), read)
    return (min(timeout, left), timeout)
