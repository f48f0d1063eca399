"""Helpers to talk SOAP to the LMS in tests: zeep clients from the live WSDL, raw envelopes, and
validation of responses against the schema the WSDL publishes."""
from __future__ import annotations

import base64
from functools import lru_cache

import requests
from lxml import etree

TNS = "urn:lms-soap:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def zeep_client(wsdl_url: str, username: str, password: str, wsse: bool = False):
    """A zeep client knowing only the WSDL URL and a credential."""
    import zeep
    from zeep.transports import Transport
    from zeep.wsse.username import UsernameToken

    session = requests.Session()
    if not wsse:
        session.auth = (username, password)
    transport = Transport(session=session, timeout=10, operation_timeout=10)
    return zeep.Client(wsdl_url, transport=transport,
                       wsse=UsernameToken(username, password) if wsse else None)


def envelope(operation: str, fields: str = "", header: str = "") -> bytes:
    """A SOAP 1.1 request; `fields` is the XML inside the operation element (tns prefix bound)."""
    head = f"<soap:Header>{header}</soap:Header>" if header else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:tns="{TNS}">{head}'
            f"<soap:Body><tns:{operation}>{fields}</tns:{operation}></soap:Body></soap:Envelope>").encode()


def wsse_header(username: str, password: str, timestamp: str = "") -> str:
    return (f'<wsse:Security xmlns:wsse="{WSSE}" soap:mustUnderstand="1">{timestamp}'
            f"<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>"
            f"<wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security>")


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def post(url: str, body: bytes, headers: dict | None = None,
         content_type: str = "text/xml; charset=utf-8") -> requests.Response:
    return requests.post(f"{url}/soap", data=body, timeout=10,
                         headers={"Content-Type": content_type, **(headers or {})})


def faultcode(response: requests.Response) -> str | None:
    """The faultcode without its prefix (Client.X), or None when the answer is no fault."""
    doc = etree.fromstring(response.content)
    code = doc.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode")
    return code.split(":", 1)[-1] if code else None


def fault_detail(response: requests.Response) -> dict[str, str]:
    doc = etree.fromstring(response.content)
    detail = doc.find(f".//{{{SOAP_ENV}}}Fault/detail/{{{TNS}}}LmsFault")
    return {etree.QName(child).localname: child.text for child in detail} if detail is not None else {}


@lru_cache(maxsize=4)
def _schema(wsdl_bytes: bytes) -> etree.XMLSchema:
    import copy

    wsdl = etree.fromstring(wsdl_bytes)
    schema = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
    # Type references (tns:...) are QNames in attribute values: carry the WSDL root's namespace
    # declarations over, or the detached schema cannot resolve them.
    standalone = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap={**wsdl.nsmap, **schema.nsmap})
    standalone.extend(copy.deepcopy(child) for child in schema)
    return etree.XMLSchema(standalone)


def validate_body(wsdl_bytes: bytes, response_bytes: bytes) -> None:
    """Assert that the Body's payload (or the fault detail's LmsFault) is valid per the WSDL schema."""
    doc = etree.fromstring(response_bytes)
    body = doc.find(f"{{{SOAP_ENV}}}Body")
    payload = body[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        detail = payload.find(f"detail/{{{TNS}}}LmsFault")
        assert detail is not None, "a fault without the declared LmsFault detail"
        payload = detail
    schema = _schema(wsdl_bytes)
    if not schema.validate(etree.fromstring(etree.tostring(payload))):
        raise AssertionError(f"response breaks the schema: {schema.error_log}")
