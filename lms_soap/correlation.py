"""The correlation id: one id per request, from the caller's X-Request-ID, or the WS-Addressing
MessageID of its envelope, or made here. It is echoed in the response's X-Request-ID, written in
every log line (logs.py) and audit row of the request, carried into the scoring jobs the request
starts (and on to the steps they schedule), and sent as X-Request-ID on the outbound calls made
while it is current: to the CBS and the scoring engine (clients/deadline.py) and the bank
callback.

It lives in a context variable (request_id_var), so threads (gunicorn gthread) and jobs each carry
their own, and code far from the request (a client's session) reads it without being handed it.
"""
from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from typing import Iterator

from lms_soap.logs import request_id_var

#: The HTTP header, inbound and outbound.
HEADER = "X-Request-ID"
#: What an id may be: short, printable, safe in a header, a log line and a URL-less log field.
#: WS-Addressing MessageIDs such as urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da fit.
_USABLE = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
#: The WS-Addressing namespaces whose MessageID header counts (2005/08 and the 2004/08 member submission).
WSA_NAMESPACES = ("http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing")


def usable(value: str | None) -> bool:
    return bool(value) and bool(_USABLE.match(value))


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str | None:
    return request_id_var.get()


def message_id(header) -> str | None:
    """The usable wsa:MessageID of a parsed soap:Header (either SOAP version), else None."""
    if header is None:
        return None
    for namespace in WSA_NAMESPACES:
        value = (header.findtext(f"{{{namespace}}}MessageID") or "").strip()
        if value:
            return value if usable(value) else None
    return None


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Make `request_id` the current one for the block (a job's run); None leaves it unset."""
    token = request_id_var.set(request_id if usable(request_id) else None)
    try:
        yield
    finally:
        request_id_var.reset(token)
