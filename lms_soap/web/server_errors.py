"""SOAP faults instead of gunicorn's HTML error pages.

Requests that gunicorn itself refuses before the application runs (an unreadable request line or
header, a Content-Length that is not a number, both Content-Length and Transfer-Encoding, headers
past its limits) would get gunicorn's HTML page. The contract says never an HTML page: gunicorn
writes those pages through `gunicorn.util.write_error`, which install() replaces, in the worker
process only, with one that writes a catalogue fault.
"""
from __future__ import annotations

from lms_soap.lending import errors
from lms_soap.services.faults import fault_envelope


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


def install() -> None:
    try:
        from gunicorn import util
    except ImportError:  # not served by gunicorn
        return
    util.write_error = _soap_write_error
