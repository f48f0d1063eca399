"""The one fault path (services/faults.py fault_response): any error in, the catalogue's SOAP
fault out, with the contract's HTTP status and the faultcode noted in the request context."""
from __future__ import annotations

import logging

import pytest
from lxml import etree
from spyne import Fault

from lms_soap.lending import errors
from lms_soap.services.auth import CredentialsMissing
from lms_soap.services.faults import ENVELOPES, CaughtFault, catalogue_error, fault_response
from lms_soap.services.request_context import SOAP11, RequestContext

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:lms-soap:v1"


def request() -> RequestContext:
    return RequestContext(None, "rid", 0.0)


def parsed(body: bytes) -> tuple[str, str, dict[str, str]]:
    fault = etree.fromstring(body).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    detail = fault.find("detail")[0]
    assert detail.tag == f"{{{TNS}}}LmsFault" and len(fault.find("detail")) == 1
    return (fault.findtext("faultcode"), fault.findtext("faultstring"),
            {etree.QName(child).localname: child.text for child in detail})


def test_a_domain_error_is_its_catalogue_fault_with_http_500_and_is_noted():
    ctx = request()
    status, headers, body = fault_response(errors.LoanNotFound("no loan L1", loan_id="L1"), ctx)
    assert status == "500 Internal Server Error"
    assert dict(headers) == {"Content-Type": "text/xml; charset=utf-8", "Content-Length": str(len(body))}
    assert parsed(body) == ("soap11env:Client.LoanNotFound", "no loan L1", {"code": "LoanNotFound", "loanId": "L1"})
    assert ctx.faultcode == "Client.LoanNotFound" and ctx.loan == "L1"


def test_missing_credentials_answer_401_with_the_basic_challenge():
    status, headers, body = fault_response(CredentialsMissing("credentials required"), request())
    assert status == "401 Unauthorized" and ("WWW-Authenticate", 'Basic realm="lms-soap"') in headers
    assert parsed(body)[0] == "soap11env:Client.AuthenticationFailed"


def test_wrong_credentials_are_500_without_a_challenge():
    status, headers, _ = fault_response(errors.AuthenticationFailed("wrong"), request())
    assert status.startswith("500") and "WWW-Authenticate" not in dict(headers)


def test_an_unexpected_exception_is_an_internal_error_that_tells_nothing_and_is_logged(caplog):
    ctx = request()
    with caplog.at_level(logging.ERROR, logger="lms_soap.services.faults"):
        status, _, body = fault_response(KeyError("password=hunter2"), ctx)
    assert status.startswith("500") and b"hunter2" not in body
    assert parsed(body) == ("soap11env:Server.InternalError", "internal error", {"code": "InternalError"})
    assert ctx.faultcode == "Server.InternalError" and "KeyError" in caplog.text


def test_an_unsettled_conflict_is_service_unavailable():
    assert catalogue_error(errors.Conflict("duplicate key")).faultcode == "Server.ServiceUnavailable"


def test_spyne_client_refusals_are_schema_validation_errors_with_a_readable_message():
    refusal = Fault("Client.SchemaValidationError",
                    b"<string>:1:0:ERROR:SCHEMASV:SCHEMAV_CVC_DATATYPE_VALID_1_2_1: Element 'x': bad")
    error = catalogue_error(refusal)
    assert error.faultcode == "Client.SchemaValidationError" and error.message == "Element 'x': bad"


def test_a_handlers_error_caught_inside_spyne_keeps_its_fault_and_its_loan():
    ctx = request()
    _, _, body = fault_response(CaughtFault(errors.InvalidLoanState("closed", loan_id="L9")), ctx)
    assert parsed(body)[0] == "soap11env:Client.InvalidLoanState" and ctx.loan == "L9"


def test_without_a_request_context_the_fault_is_soap_11():
    """gunicorn's own refusals come before any request context exists."""
    status, _, body = fault_response(errors.MalformedRequest("bad request line"))
    assert status.startswith("500") and parsed(body)[0] == "soap11env:Client.MalformedRequest"


@pytest.mark.parametrize("version", sorted(ENVELOPES))
def test_each_soap_version_has_an_envelope_writer_and_its_content_type(version):
    ctx = request()
    ctx.soap_version = version
    _, headers, body = fault_response(errors.NotAuthorized("no"), ctx)
    assert dict(headers)["Content-Type"] == ENVELOPES[version][1] and body.startswith(b"<?xml")
    assert SOAP11 in ENVELOPES
