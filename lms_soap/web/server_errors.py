"""Two workarounds of gunicorn's behaviour (written against gunicorn 27, checked by a test).

1. SOAP faults instead of gunicorn's HTML error pages. Requests that gunicorn itself refuses before
   the application runs (an unreadable request line or header, a Content-Length that is not a
   number, both Content-Length and Transfer-Encoding, headers past its limits) would get gunicorn's
   HTML page. The contract says never an HTML page: gunicorn writes those pages through
   `gunicorn.util.write_error`, which install() replaces with one that writes the catalogue fault
   of the one fault path (services/faults.py), with `Connection: close`: gunicorn closes the
   connection after its own refusals.

2. A way for the application to close the connection. gunicorn drops hop-by-hop headers such as
   `Connection: close` that an application sends, so an application cannot ask it to close a
   kept-alive connection whose framing it broke (a refused body left unread, web/request_body.py).
   gunicorn's workers call the application with `start_response` bound to the response they will
   write, whose `force_close()` makes gunicorn answer `Connection: close` and close after it:
   connection_closer() finds it, and the app keeps it in the request context (close_connection).

Without gunicorn neither applies: install() does nothing and connection_closer() gives None.
"""
from __future__ import annotations

import logging
from typing import Callable

from lms_soap.lending import errors
from lms_soap.services.faults import fault_response

access_log = logging.getLogger("lms_soap.access")

#: The gunicorn major version these workarounds were written against (tests/unit check it).
GUNICORN_MAJOR = 27

try:
    from gunicorn.http.wsgi import Response as _GunicornResponse
except ImportError:  # not served by gunicorn
    _GunicornResponse = None


def _soap_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    from gunicorn import util

    if status_int < 500:
        error: errors.LendingError = errors.MalformedRequest(f"the HTTP request was refused: {reason}")
    else:
        error = errors.InternalError("internal error")
    status, headers, body = fault_response(error)
    head = f"HTTP/1.1 {status}\r\nConnection: close\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    util.write_nonblock(sock, (head + "\r\n").encode("latin1") + body)
    # The request's access line: the application never saw it, and gunicorn writes none for the LMS.
    try:
        remote = sock.getpeername()[0]
    except (OSError, IndexError, TypeError):
        remote = None
    access_log.info("refused %s", reason, extra={"status": status_int, "faultcode": error.faultcode,
                                                 "bytes": len(body), "remote": remote})


def connection_closer(start_response) -> Callable[[], None] | None:
    """The callable that makes gunicorn close this request's connection after its response, or
    None when the request is not served by gunicorn."""
    owner = getattr(start_response, "__self__", None)
    if _GunicornResponse is not None and isinstance(owner, _GunicornResponse):
        return owner.force_close
    return None


def install() -> None:
    try:
        from gunicorn import util
    except ImportError:  # not served by gunicorn
        return
    util.write_error = _soap_write_error
