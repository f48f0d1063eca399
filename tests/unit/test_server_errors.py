"""web/server_errors.py works around gunicorn's behaviour: the version it was written against,
and the close callable it gives the application (the e2e keep-alive test shows its effect)."""
from __future__ import annotations

import socket

import gunicorn
from gunicorn import util
from gunicorn.http import wsgi
from lxml import etree

from lms_soap.web import server_errors

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _response():
    request = type("Req", (), {"version": (1, 1), "method": "POST", "should_close": lambda self: False})()
    return wsgi.Response(request, None, None)


def test_gunicorn_is_the_version_the_workarounds_were_written_for():
    assert int(gunicorn.__version__.split(".")[0]) == server_errors.GUNICORN_MAJOR


def test_the_application_gets_the_force_close_of_the_response_gunicorn_will_write():
    resp = _response()
    close = server_errors.connection_closer(resp.start_response)  # what gunicorn's workers pass
    resp.start_response("500 Internal Server Error", [("Content-Length", "0")])
    assert close is not None and not resp.should_close()
    close()
    assert resp.should_close()


def test_another_server_gives_no_close_callable():
    def start_response(status, headers, exc_info=None):
        pass

    class Handler:
        def start_response(self, status, headers, exc_info=None):
            pass

    assert server_errors.connection_closer(start_response) is None
    assert server_errors.connection_closer(Handler().start_response) is None


def test_gunicorn_still_ignores_the_connection_header_an_application_sends():
    """Why the close callable is needed: gunicorn drops an application's Connection header."""
    resp = _response()
    resp.start_response("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")])
    assert not resp.should_close()


def test_gunicorns_own_refusals_are_catalogue_faults_that_close_the_connection():
    server_errors.install()
    assert util.write_error is server_errors._soap_write_error
    left, right = socket.socketpair()
    try:
        util.write_error(left, 400, "Bad Request", "Invalid header")
        left.close()
        raw = b"".join(iter(lambda: right.recv(65536), b""))
    finally:
        right.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    assert lines[0] == "HTTP/1.1 500 Internal Server Error" and "Connection: close" in lines
    assert f"Content-Length: {len(body)}" in lines and "Content-Type: text/xml; charset=utf-8" in lines
    assert etree.fromstring(body).findtext(f".//{{{SOAP}}}Fault/faultcode") == "soap11env:Client.MalformedRequest"


def test_a_refusal_writes_the_requests_access_line(caplog):
    """gunicorn writes no access line for the LMS: its own refusals get one from here."""
    caplog.set_level("INFO", logger="lms_soap.access")
    left, right = socket.socketpair()
    try:
        server_errors._soap_write_error(left, 431, "Request Header Fields Too Large", "too many headers")
    finally:
        left.close()
        right.close()
    (record,) = [r for r in caplog.records if r.name == "lms_soap.access"]
    assert record.getMessage() == "refused Request Header Fields Too Large"
    assert (record.status, record.faultcode) == (431, "Client.MalformedRequest") and record.bytes > 0
