"""One access line per request, written by the LMS itself as JSON (gunicorn writes none for it):
SOAP operations with their operation, principal and outcome, and every other request (the WSDL,
health checks) with its method and path; each with the HTTP status, the body's size and the
request id."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from lms_soap.logs import JsonFormatter
from tests.support.soap import basic, envelope, faultcode, post

UNREGISTERED = "318411216"


class _Lines(logging.Handler):
    """The access lines as the log handler writes them: formatted as they are emitted (the
    request id is the request's own then)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_lines():
    logger, handler = logging.getLogger("lms_soap.access"), _Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_every_request_writes_one_json_access_line(lms, access_lines):
    fields = f"<tns:customerNumber>{UNREGISTERED}</tns:customerNumber><tns:amount>100.00</tns:amount>"
    headers = {**basic(*lms.credentials("bank")), "X-Request-ID": "req-access-1"}
    faulted = post(lms.url, envelope("SubmitLoan", fields), headers)
    wsdl = requests.get(f"{lms.url}/soap?wsdl", headers={"X-Request-ID": "req-access-2"}, timeout=10)
    health = requests.get(f"{lms.url}/healthz", timeout=10)

    assert faultcode(faulted) == "Client.CustomerNotRegistered" and wsdl.status_code == 200
    submit, served_wsdl, healthz = access_lines
    assert submit["message"] == "SubmitLoan Client.CustomerNotRegistered"
    assert (submit["operation"], submit["principal"], submit["faultcode"]) == (
        "SubmitLoan", lms.credentials("bank")[0], "Client.CustomerNotRegistered")
    assert (submit["method"], submit["path"], submit["status"], submit["request_id"]) == (
        "POST", "/soap", 500, "req-access-1")
    assert submit["bytes"] == len(faulted.content) and submit["remote"] == "127.0.0.1"
    assert submit["customer"] == UNREGISTERED and isinstance(submit["duration_ms"], int)
    assert served_wsdl["message"] == "GET /soap" and "operation" not in served_wsdl
    assert (served_wsdl["status"], served_wsdl["bytes"], served_wsdl["request_id"]) == (
        200, len(wsdl.content), "req-access-2")
    assert (healthz["path"], healthz["status"]) == ("/healthz", 200) and healthz["request_id"]
