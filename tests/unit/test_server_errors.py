"""web/server_errors.py works around gunicorn's behaviour: the version it was written against,
and the close callable it gives the application (the e2e keep-alive test shows its effect)."""
from __future__ import annotations

import gunicorn
from gunicorn.http import wsgi

from lms_soap.web import server_errors
from lms_soap.web.request_body import ENV_CLOSE_CONNECTION


def test_gunicorn_is_the_version_the_workarounds_were_written_for():
    assert int(gunicorn.__version__.split(".")[0]) == server_errors.GUNICORN_MAJOR


def test_the_wrapped_create_gives_the_application_the_response_force_close():
    class Response:
        must_close = False

        def force_close(self):
            self.must_close = True

    def create(req, sock, client, server, cfg):
        return Response(), {}

    resp, environ = server_errors._with_close_callable(create)(None, None, None, None, None)
    environ[ENV_CLOSE_CONNECTION]()
    assert resp.must_close


def test_install_wraps_gunicorns_create_once_and_gunicorn_still_ignores_app_connection_headers():
    server_errors.install()
    wrapped = wsgi.create
    server_errors.install()
    assert wrapped.lms_wrapped and wsgi.create is wrapped
    # Why the wrapper is needed: gunicorn drops an application's Connection header.
    resp = wsgi.Response(type("Req", (), {"version": (1, 1), "method": "POST",
                                          "should_close": lambda self: False})(), None, None)
    resp.start_response("500 Internal Server Error", [("Content-Length", "0"), ("Connection", "close")])
    assert not resp.should_close()
