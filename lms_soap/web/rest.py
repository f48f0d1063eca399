"""REST: GET /api/v1/transactions/{customerNumber} (also ?customerNumber=), the JSON shape the real
scoring engine expects: the 72 CBS keys in order, dates as epoch milliseconds, missing as null."""
from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from lms_soap.lending import errors
from lms_soap.lending.transaction_fields import TRANSACTION_FIELD_NAMES
from lms_soap.lending.transactions import get_transactions
from lms_soap.services.auth import Authenticator, authorize, verify_basic
from lms_soap.services.faults import CHALLENGE
from lms_soap.services.operations import REST_TRANSACTIONS
from lms_soap.services.request_context import RequestContext

PREFIX = "/api/v1/transactions"
CUSTOMER_NUMBER = re.compile(r"^[A-Za-z0-9\-]{1,32}$")
_STATUS = {"Client": "400 Bad Request", "AuthenticationFailed": "401 Unauthorized",
           "NotAuthorized": "403 Forbidden", "CustomerNotRegistered": "404 Not Found",
           "Server": "503 Service Unavailable", "InternalError": "500 Internal Server Error"}


def to_json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, Decimal):
        return float(value)
    return value


def record_to_json(record: dict[str, Any]) -> dict[str, Any]:
    return {name: to_json_value(record.get(name)) for name in TRANSACTION_FIELD_NAMES}


class TransactionsEndpoint:
    def __init__(self, container, authenticator: Authenticator):
        self.container = container
        self.authenticator = authenticator

    def __call__(self, environ, start_response):
        request = RequestContext.of(environ)
        request.operation = REST_TRANSACTIONS
        try:
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                return _json(start_response, "405 Method Not Allowed", {"error": "use GET"},
                             [("Allow", "GET")])
            customer_number = self._customer_number(environ)
            request.note(customer=customer_number)
            request.principal = verify_basic(self.authenticator, environ.get("HTTP_AUTHORIZATION"),
                                             "HTTP Basic credentials required")
            authorize(request.principal, REST_TRANSACTIONS, "read transactions")
            records = get_transactions(customer_number, self.container.uow(), self.container.cbs)
        except errors.LendingError as exc:
            request.faultcode = exc.faultcode  # for the audit log
            status = _STATUS.get(exc.code) or _STATUS.get(exc.side, "500 Internal Server Error")
            extra = [("WWW-Authenticate", CHALLENGE)] if exc.code == "AuthenticationFailed" else []
            return _json(start_response, status, {"faultcode": exc.faultcode, "message": exc.message}, extra)
        return _json(start_response, "200 OK", [record_to_json(r) for r in records])

    @staticmethod
    def _customer_number(environ) -> str:
        path = environ.get("PATH_INFO", "")
        value = path[len(PREFIX):].strip("/")
        if not value:
            value = (parse_qs(environ.get("QUERY_STRING", "")).get("customerNumber") or [""])[0]
        if not CUSTOMER_NUMBER.match(value):
            raise errors.SchemaValidationError("customerNumber: 1-32 letters, digits or '-'")
        return value


def _json(start_response, status: str, payload: Any, extra_headers=()) -> list[bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                            *extra_headers])
    return [body]
