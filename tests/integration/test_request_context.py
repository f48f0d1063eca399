"""One typed request context per request (services/request_context.py): the only key of ours in
the WSGI environ, and its fields are what the request counters, the access log and the audit row
are made of."""
from __future__ import annotations

import base64
import io
from wsgiref.util import setup_testing_defaults

from lms_soap.app import create_app
from lms_soap.services.operations import SOAP_OPERATIONS
from lms_soap.services.request_context import ENVIRON_KEY, RequestContext

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:lms-soap:v1"


def serve(app, body: bytes, authorization: str | None) -> tuple[str, dict]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "CONTENT_TYPE": "text/xml",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status

    b"".join(app(environ, start_response))
    return captured["status"], environ


def basic(credentials) -> str:
    return "Basic " + base64.b64encode(":".join(credentials).encode()).decode()


def test_the_request_context_is_the_only_key_of_ours_in_the_environ(lms):
    app = create_app(lms.settings, lms.container)
    body = (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:tns="{TNS}"><soap:Body><tns:GetLoanStatus>'
            f"<tns:loanId>LN-none</tns:loanId></tns:GetLoanStatus></soap:Body></soap:Envelope>").encode()
    status, environ = serve(app, body, basic(lms.credentials("bank")))
    assert status.startswith("500")
    assert [key for key in environ if key.startswith("lms")] == [ENVIRON_KEY]
    request = RequestContext.of(environ)
    assert request.operation is SOAP_OPERATIONS["GetLoanStatus"] and request.container is lms.container
    assert request.principal.username == lms.credentials("bank")[0]
    assert (request.faultcode, request.loan) == ("Client.LoanNotFound", "LN-none")
    assert request.document is not None and request.soap_version == "1.1"


def test_a_refusal_before_dispatch_fills_the_same_context(lms):
    app = create_app(lms.settings, lms.container)
    status, environ = serve(app, b"<not-soap/>", None)
    request = RequestContext.of(environ)
    assert status.startswith("500") and request.operation.name == "unknown"
    assert request.faultcode == "Client.MalformedRequest" and request.principal is None
