"""Two workarounds of gunicorn's behaviour (written against gunicorn 27, checked by a test).

1. SOAP faults instead of gunicorn's HTML error pages. Requests that gunicorn itself refuses before
   the application runs (an unreadable request line or header, a Content-Length that is not a
   number, both Content-Length and Transfer-Encoding, headers past its limits) would get gunicorn's
   HTML page. The contract says never an HTML page: gunicorn writes those pages through
   `gunicorn.util.write_error`, which install() replaces with one that writes a catalogue fault
   (with `Connection: close`: gunicorn closes the connection after its own refusals).

2. A way for the application to close the connection. gunicorn drops hop-by-hop headers such as
   `Connection: close` that an application sends, so an application cannot ask it to close a
   kept-alive connection whose framing it broke (a refused body left unread, web/request_body.py).
   install() wraps `gunicorn.http.wsgi.create` to put the response's `force_close` in the environ
   (ENV_CLOSE_CONNECTION); gunicorn then answers `Connection: close` and closes after the response.

install() runs in the worker process only (lms_soap/wsgi.py); without gunicorn it does nothing.
"""
from __future__ import annotations

from lms_soap.lending import errors
from lms_soap.services.faults import fault_envelope
from lms_soap.web.request_body import ENV_CLOSE_CONNECTION

#: The gunicorn major version these workarounds were written against (tests/unit check it).
GUNICORN_MAJOR = 27


def _soap_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    from gunicorn import util

    if status_int < 500:
        error: errors.LendingError = errors.MalformedRequest(f"the HTTP request was refused: {reason}")
    else:
        error = errors.InternalError("internal error")
    body = fault_envelope(error)
    head = ("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
            "Content-Type: text/xml; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def _with_close_callable(create):
    def create_with_close(req, sock, client, server, cfg, *args, **kwargs):
        resp, environ = create(req, sock, client, server, cfg, *args, **kwargs)
        environ[ENV_CLOSE_CONNECTION] = resp.force_close
        return resp, environ

    create_with_close.lms_wrapped = True
    return create_with_close


def install() -> None:
    try:
        from gunicorn import util
        from gunicorn.http import wsgi
    except ImportError:  # not served by gunicorn
        return
    util.write_error = _soap_write_error
    if not getattr(wsgi.create, "lms_wrapped", False):
        wsgi.create = _with_close_callable(wsgi.create)
