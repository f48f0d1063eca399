"""SOAP 1.2 envelopes (services/soap12.py): faults of both sides as SOAP 1.2 Part 1 (5.4) shapes
them, with the catalogue reason as subcode and the same LmsFault detail as SOAP 1.1; SOAP 1.2
requests rewritten for Spyne's Soap11 and its answers rewritten back, through the real Spyne
application; the application/soap+xml Content-Type rule."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from lxml import etree

from lms_soap.lending import errors
from lms_soap.services.application import LmsWsgiApplication, build_soap_application
from lms_soap.services.soap12 import (
    CONTENT_TYPE,
    parse_soap12_content_type,
    soap11_to_soap12_response,
    soap12_fault_envelope,
    soap12_request_to_soap11,
)

from .world import CUSTOMER, World

ENV12 = "http://www.w3.org/2003/05/soap-envelope"
ENV11 = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:lms-soap:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"e": ENV12, "s": ENV11, "tns": TNS}
WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "lms.wsdl"

#: The envelope, body and fault of the W3C SOAP 1.2 envelope schema
#: (http://www.w3.org/2003/05/soap-envelope), transcribed; xml:lang is checked apart (the schema
#: imports xml.xsd, not at hand offline).
SOAP12_SCHEMA = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="{ENV12}"
    targetNamespace="{ENV12}" elementFormDefault="qualified">
  <xs:element name="Envelope"><xs:complexType><xs:sequence>
    <xs:element ref="tns:Header" minOccurs="0"/><xs:element ref="tns:Body"/>
  </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType></xs:element>
  <xs:element name="Header"><xs:complexType><xs:sequence>
    <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="Body"><xs:complexType><xs:sequence>
    <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="Fault"><xs:complexType><xs:sequence>
    <xs:element name="Code" type="tns:faultcode"/>
    <xs:element name="Reason"><xs:complexType><xs:sequence>
      <xs:element name="Text" maxOccurs="unbounded"><xs:complexType><xs:simpleContent>
        <xs:extension base="xs:string">
          <xs:anyAttribute namespace="http://www.w3.org/XML/1998/namespace" processContents="skip"/>
        </xs:extension></xs:simpleContent></xs:complexType></xs:element>
    </xs:sequence></xs:complexType></xs:element>
    <xs:element name="Node" type="xs:anyURI" minOccurs="0"/>
    <xs:element name="Role" type="xs:anyURI" minOccurs="0"/>
    <xs:element name="Detail" minOccurs="0"><xs:complexType><xs:sequence>
      <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
    </xs:sequence><xs:anyAttribute namespace="##other" processContents="lax"/></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
  <xs:complexType name="faultcode"><xs:sequence>
    <xs:element name="Value"><xs:simpleType><xs:restriction base="xs:QName">
      <xs:enumeration value="tns:DataEncodingUnknown"/><xs:enumeration value="tns:MustUnderstand"/>
      <xs:enumeration value="tns:Receiver"/><xs:enumeration value="tns:Sender"/>
      <xs:enumeration value="tns:VersionMismatch"/>
    </xs:restriction></xs:simpleType></xs:element>
    <xs:element name="Subcode" type="tns:subcode" minOccurs="0"/>
  </xs:sequence></xs:complexType>
  <xs:complexType name="subcode"><xs:sequence>
    <xs:element name="Value" type="xs:QName"/>
    <xs:element name="Subcode" type="tns:subcode" minOccurs="0"/>
  </xs:sequence></xs:complexType>
</xs:schema>"""


@pytest.fixture(scope="module")
def soap12_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(SOAP12_SCHEMA.encode()))


@pytest.fixture(scope="module")
def lms_schema() -> etree.XMLSchema:
    """The schema the WSDL publishes (its LmsFault, and the responses)."""
    schema = etree.parse(str(WSDL)).find("{http://schemas.xmlsoap.org/wsdl/}types/"
                                         "{http://www.w3.org/2001/XMLSchema}schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def qname_value(element: etree._Element) -> tuple[str, str]:
    prefix, _, local = element.text.partition(":")
    return element.nsmap[prefix], local


def check_fault(document: bytes, soap12_schema, lms_schema, value: str, reason: str, text: str,
                detail: dict[str, str]) -> None:
    root = etree.fromstring(document)
    soap12_schema.assertValid(root)
    fault = root.find("e:Body/e:Fault", NS)
    assert [etree.QName(e).localname for e in fault] == ["Code", "Reason", "Detail"]
    assert qname_value(fault.find("e:Code/e:Value", NS)) == (ENV12, value)
    assert qname_value(fault.find("e:Code/e:Subcode/e:Value", NS)) == (TNS, reason)
    assert fault.find("e:Code/e:Subcode/e:Subcode", NS) is None
    texts = fault.findall("e:Reason/e:Text", NS)
    assert [(t.get(XML_LANG), t.text) for t in texts] == [("en", text)]
    details = list(fault.find("e:Detail", NS))
    assert [e.tag for e in details] == [f"{{{TNS}}}LmsFault"]
    lms_schema.assertValid(details[0])
    assert {etree.QName(e).localname: e.text for e in details[0]} == detail
    assert not [e for e in root.iter() if etree.QName(e).namespace == ENV11]


# --- faults ---------------------------------------------------------------------------------------
def test_a_client_side_error_is_a_sender_fault_with_its_reason_as_subcode(soap12_schema, lms_schema):
    error = errors.LoanInProgress("the customer has a loan in progress", loan_id="L-1", customer_number=CUSTOMER)
    check_fault(soap12_fault_envelope(error), soap12_schema, lms_schema, "Sender", "LoanInProgress",
                "the customer has a loan in progress",
                {"code": "LoanInProgress", "loanId": "L-1", "customerNumber": CUSTOMER})


def test_the_fault_writes_the_error_it_is_given(soap12_schema, lms_schema):
    """Like the SOAP 1.1 writer: hiding internal details is the mapping's job, done before."""
    check_fault(soap12_fault_envelope(errors.InternalError("internal error")), soap12_schema,
                lms_schema, "Receiver", "InternalError", "internal error", {"code": "InternalError"})


def test_a_server_side_error_is_a_receiver_fault(soap12_schema, lms_schema):
    error = errors.CoreBankingUnavailable("the Core Banking System is unavailable")
    check_fault(soap12_fault_envelope(error), soap12_schema, lms_schema, "Receiver", "CoreBankingUnavailable",
                "the Core Banking System is unavailable", {"code": "CoreBankingUnavailable"})


def soap11_fault(error: errors.LendingError) -> bytes:
    """A SOAP 1.1 fault as Spyne and services/faults.py write it."""
    detail = etree.tostring(etree.fromstring(soap12_fault_envelope(error)).find(".//tns:LmsFault", NS)).decode()
    return (f'<?xml version="1.0" encoding="UTF-8"?><soap11env:Envelope xmlns:soap11env="{ENV11}">'
            f"<soap11env:Body><soap11env:Fault><faultcode>soap11env:{error.faultcode}</faultcode>"
            f"<faultstring>{error.message}</faultstring><detail>{detail}</detail></soap11env:Fault>"
            f"</soap11env:Body></soap11env:Envelope>").encode()


@pytest.mark.parametrize("error", [errors.SchemaValidationError("amount: not a decimal"),
                                   errors.LoanNotFound("no such loan", loan_id="L-9"),
                                   errors.ServiceUnavailable("retry")], ids=lambda e: e.code)
def test_a_soap11_fault_converted_is_the_soap12_fault_of_the_same_error(error):
    """A SOAP 1.1 fault that reaches the conversion becomes what the SOAP 1.2 fault writer
    gives: one fault, whichever path produced it."""
    converted = soap11_to_soap12_response(soap11_fault(error))
    assert etree.tostring(etree.fromstring(converted), method="c14n") == \
        etree.tostring(etree.fromstring(soap12_fault_envelope(error)), method="c14n")


# --- through Spyne --------------------------------------------------------------------------------
def soap12_request(operation: str, fields: str, header: str = "") -> etree._Element:
    head = f"<env:Header>{header}</env:Header>" if header else ""
    return etree.fromstring(
        f'<env:Envelope xmlns:env="{ENV12}" xmlns:tns="{TNS}">{head}<env:Body>'
        f"<tns:{operation}>{fields}</tns:{operation}></env:Body></env:Envelope>".encode())


def spyne_answer(world: World, document: etree._Element) -> bytes:
    """The real Spyne application, handed a parsed SOAP 1.1 document as the gateway hands it."""
    container = SimpleNamespace(uow=lambda: world.uow, cbs=world.cbs, clock=world.clock)
    app = LmsWsgiApplication(build_soap_application(), b"")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/soap", "QUERY_STRING": "", "SERVER_NAME": "lms",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "CONTENT_TYPE": "text/xml; charset=utf-8",
               "wsgi.input": None}
    try:  # the typed request context (services/request_context.py)
        from lms_soap.services.request_context import RequestContext
    except ImportError:  # before it: the document and the container in the environ
        from lms_soap.services.application import ENV_DOCUMENT
        from lms_soap.services.context import ENV_CONTAINER
        environ.update({ENV_DOCUMENT: document, ENV_CONTAINER: container})
    else:
        RequestContext(container=container, request_id="r-1", started=0.0, document=document).attach(environ)
    return b"".join(app(environ, lambda status, headers: None))


def test_a_soap12_request_is_answered_in_soap12_by_the_soap11_service(lms_schema, soap12_schema):
    request = soap12_request("RegisterCustomer", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>")
    answer = soap11_to_soap12_response(spyne_answer(World(), soap12_request_to_soap11(request)))
    root = etree.fromstring(answer)
    soap12_schema.assertValid(root)
    response = root.find("e:Body/tns:RegisterCustomerResponse", NS)
    lms_schema.assertValid(response)
    assert response.findtext("tns:customer/tns:customerNumber", namespaces=NS) == CUSTOMER
    assert response.findtext("tns:alreadyRegistered", namespaces=NS) == "false"
    assert not [e for e in root.iter() if etree.QName(e).namespace == ENV11]
    assert ENV11 not in answer.decode()  # not even declared


def test_a_domain_fault_of_a_soap12_request(soap12_schema, lms_schema):
    request = soap12_request("GetCustomer", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>")
    answer = soap11_to_soap12_response(spyne_answer(World(), soap12_request_to_soap11(request)))
    root = etree.fromstring(answer)
    text = root.findtext("e:Body/e:Fault/e:Reason/e:Text", namespaces=NS)
    check_fault(answer, soap12_schema, lms_schema, "Sender", "CustomerNotRegistered", text,
                {"code": "CustomerNotRegistered", "customerNumber": CUSTOMER})


def test_a_schema_fault_of_a_soap12_request(soap12_schema, lms_schema):
    request = soap12_request("SubmitLoan", f"<tns:customerNumber>{CUSTOMER}</tns:customerNumber>"
                                           "<tns:amount>lots</tns:amount>")
    answer = soap11_to_soap12_response(spyne_answer(World(), soap12_request_to_soap11(request)))
    text = etree.fromstring(answer).findtext("e:Body/e:Fault/e:Reason/e:Text", namespaces=NS)
    assert "amount" in text
    check_fault(answer, soap12_schema, lms_schema, "Sender", "SchemaValidationError", text,
                {"code": "SchemaValidationError"})


# --- request envelopes ----------------------------------------------------------------------------
def header_block(**attributes: str) -> str:
    attrs = "".join(f' env:{name}="{value}"' for name, value in attributes.items())
    return f'<wsse:Security xmlns:wsse="{WSSE}"{attrs}><wsse:UsernameToken/></wsse:Security>'


def test_a_soap12_request_becomes_the_same_soap11_request():
    fields = "<tns:loanId>L-1</tns:loanId>"
    converted = soap12_request_to_soap11(soap12_request("GetLoanStatus", fields, header_block()))
    assert converted.tag == f"{{{ENV11}}}Envelope"
    assert [e.tag for e in converted] == [f"{{{ENV11}}}Header", f"{{{ENV11}}}Body"]
    assert [e.tag for e in converted.find("s:Header", NS)] == [f"{{{WSSE}}}Security"]
    body = converted.find("s:Body", NS)
    assert [e.tag for e in body] == [f"{{{TNS}}}GetLoanStatus"]
    assert body[0].findtext("tns:loanId", namespaces=NS) == "L-1"
    assert not [e for e in converted.iter() if etree.QName(e).namespace == ENV12]
    assert ENV12 not in etree.tostring(converted).decode()


def test_a_body_without_header_stays_without_header():
    converted = soap12_request_to_soap11(soap12_request("GetCustomer", "<tns:customerNumber>1</tns:customerNumber>"))
    assert [e.tag for e in converted] == [f"{{{ENV11}}}Body"]


@pytest.mark.parametrize("attributes, expected", [
    ({"mustUnderstand": "true"}, {"mustUnderstand": "1"}),
    ({"mustUnderstand": "1"}, {"mustUnderstand": "1"}),
    ({"mustUnderstand": "false"}, {"mustUnderstand": "0"}),
    ({"mustUnderstand": "true", "role": f"{ENV12}/role/next"},
     {"mustUnderstand": "1", "actor": "http://schemas.xmlsoap.org/soap/actor/next"}),
    ({"mustUnderstand": "true", "role": f"{ENV12}/role/ultimateReceiver"}, {"mustUnderstand": "1"}),
    # not targeted at this node: not ours to understand (SOAP 1.2 Part 1, 5.2.3)
    ({"mustUnderstand": "true", "role": f"{ENV12}/role/none"}, {"actor": f"{ENV12}/role/none"}),
    ({"mustUnderstand": "true", "role": "urn:some-gateway"}, {"actor": "urn:some-gateway"}),
    ({"relay": "true"}, {}),
], ids=["true", "1", "false", "next", "ultimate-receiver", "none", "other-role", "relay"])
def test_header_block_attributes_in_soap11_terms(attributes, expected):
    converted = soap12_request_to_soap11(soap12_request("GetCustomer", "", header_block(**attributes)))
    block = converted.find("s:Header", NS)[0]
    assert dict(block.attrib) == {f"{{{ENV11}}}{name}": value for name, value in expected.items()}


def test_response_headers_get_soap12_attributes():
    answer = (f'<soap11env:Envelope xmlns:soap11env="{ENV11}"><soap11env:Header>'
              f'<x:Echo xmlns:x="urn:x" soap11env:mustUnderstand="1" '
              f'soap11env:actor="http://schemas.xmlsoap.org/soap/actor/next">id-1</x:Echo>'
              f"</soap11env:Header><soap11env:Body/></soap11env:Envelope>").encode()
    block = etree.fromstring(soap11_to_soap12_response(answer)).find("e:Header", NS)[0]
    assert block.text == "id-1"
    assert dict(block.attrib) == {f"{{{ENV12}}}mustUnderstand": "true", f"{{{ENV12}}}role": f"{ENV12}/role/next"}


# --- Content-Type ---------------------------------------------------------------------------------
@pytest.mark.parametrize("header, expected", [
    ("application/soap+xml", (True, None)),
    ("application/soap+xml; charset=utf-8", (True, None)),
    ('application/soap+xml; charset=utf-8; action="SubmitLoan"', (True, "SubmitLoan")),
    ('application/soap+xml;charset=UTF-8;action="urn:lms-soap:v1/SubmitLoan"', (True, "urn:lms-soap:v1/SubmitLoan")),
    ("Application/SOAP+XML; Action=GetLoanStatus; charset=\"utf-8\"", (True, "GetLoanStatus")),
    ('application/soap+xml; action="a \\"quoted\\" one"', (True, 'a "quoted" one')),
    ("application/soap+xml; charset=iso-8859-1", (False, None)),
    ("application/soap+xml; action", (False, None)),
    ('application/soap+xml; action="unterminated', (False, None)),
    ("text/xml; charset=utf-8", (False, None)),
    ("application/xml", (False, None)),
    ("", (False, None)),
    (None, (False, None)),
])
def test_the_soap12_content_type(header, expected):
    assert parse_soap12_content_type(header) == expected


def test_answers_are_utf8_soap12():
    assert parse_soap12_content_type(CONTENT_TYPE) == (True, None)
    assert soap12_fault_envelope(errors.LoanNotFound("x")).startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
