"""Reading a SOAP request's body within MAX_BODY_BYTES, and what a refusal does with a body it did
not read.

A refusal made before the body is read (wrong method or content type, a Content-Length or a
chunked body past the limit, a body that cannot be read) must not leave the rest of that body on
a kept-alive connection: the server would parse it as the next request, or drop the connection
after announcing keep-alive, and the caller's next call on its pooled connection would fail.
So the body is drained, up to MAX_DRAIN_BYTES (like Tomcat's maxSwallowSize: a client that sends
its whole body before reading the answer still reads the fault), and when it is larger or cannot
be read the server is asked to close the connection (`Connection: close`).
"""
from __future__ import annotations

import logging
import time

from lms_soap.lending import errors
from lms_soap.services.request_context import RequestContext

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024
#: Seconds a refused body may take to drain before the connection is closed instead.
DRAIN_SECONDS = 10.0


def close_connection(environ: dict) -> None:
    """Have the server close the connection after this response (the request context's
    close_connection: given under gunicorn by web/server_errors.py; other servers close or drain
    on their own)."""
    RequestContext.of(environ).close_after_response()


def declared_length(environ: dict) -> int | None:
    """The body's length: Content-Length; None for a chunked body, or whenever the server ends
    wsgi.input at the body's end (wsgi.input_terminated); else 0 (a request with neither header
    has no body, RFC 9112 section 6.3, and reading would wait for the next request)."""
    raw = environ.get("CONTENT_LENGTH")
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise errors.MalformedRequest("Content-Length is not a number") from None
        if value < 0:
            raise errors.MalformedRequest("Content-Length is negative")
        return value
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or environ.get("wsgi.input_terminated"):
        return None  # the server ends wsgi.input where the body ends
    return 0


def read_body(environ: dict, max_bytes: int, drain_bytes: int) -> bytes:
    """The whole body, at most max_bytes; refusals drain the rest or close the connection."""
    try:
        declared = declared_length(environ)
    except errors.MalformedRequest:
        close_connection(environ)  # where this body ends is unknown
        raise
    if declared is not None and declared > max_bytes:
        refuse_unread(environ, errors.MalformedRequest(f"the request is larger than {max_bytes} bytes"),
                      declared, drain_bytes)
    # Read at most the declared length (a server may block past it), and never more than the
    # limit + 1 byte: a chunked body is refused once it passes the limit.
    budget = declared if declared is not None else max_bytes + 1
    chunks, size = [], 0
    while size < budget:
        chunk = _read(environ, min(READ_CHUNK, budget - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:  # a chunked body: its length is known only once read to its end
        refuse_unread(environ, errors.MalformedRequest(f"the request is larger than {max_bytes} bytes"),
                      None, max(0, drain_bytes - size))
    return b"".join(chunks)


def refuse_before_reading(environ: dict, error: errors.LendingError, drain_bytes: int) -> None:
    """Raise `error` for a request whose body is refused unread (its method, its content type)."""
    try:
        remaining = declared_length(environ)
    except errors.MalformedRequest:
        close_connection(environ)  # where this body ends is unknown
        raise error from None
    refuse_unread(environ, error, remaining, drain_bytes)


def refuse_unread(environ: dict, error: errors.LendingError, remaining: int | None,
                  drain_bytes: int) -> None:
    """Raise `error` once the unread rest of the body (`remaining` bytes, None: unknown) is drained,
    or the connection marked to close when more than drain_bytes of it are left."""
    if not _drain(environ, remaining, drain_bytes):
        close_connection(environ)
    raise error


def _drain(environ: dict, remaining: int | None, limit: int) -> bool:
    """Read and drop the rest of the body; True when it ended within `limit` bytes."""
    if remaining is not None and remaining > limit:
        return False
    budget = remaining if remaining is not None else limit + 1
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    while drained < budget:
        try:
            chunk = _read(environ, min(READ_CHUNK, budget - drained))
        except errors.MalformedRequest:
            return False
        if not chunk:
            return True
        drained += len(chunk)
        if time.monotonic() > deadline:
            return False
    return remaining is not None  # a chunked body that went on past the limit


def _read(environ: dict, size: int) -> bytes:
    try:
        return environ["wsgi.input"].read(size)
    except Exception as exc:  # noqa: BLE001 - broken chunked framing, a body cut short...
        # ...raise the server's own errors (gunicorn's InvalidChunkSize, NoMoreData): the caller
        # sent a body we cannot read, which is no InternalError of ours. Where the next request
        # would start is unknown, so the connection closes.
        log.info("request body unreadable: %r", exc)
        close_connection(environ)
        raise errors.MalformedRequest("the request body could not be read") from None
