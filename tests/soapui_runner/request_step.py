"""The request step (a WSDL test request): property expansion, custom headers, HTTP Basic (preemptive
or on a challenge), outgoing WS-Security, the POST, then the step's assertions."""
from __future__ import annotations

import base64
import time

import requests
from lxml import etree

from . import wss
from .assertions import FAIL, PASS, Exchange, run_assertion
from .expansion import XPathProblem, expand, parse_xml
from .model import CON, Interface, Project, Step, con
from .results import ERROR, FAILED, StepRun
from .scope import RunScope, StepState
from .transport import post


def soap_headers(interface: Interface, action: str, encoding: str) -> dict[str, str]:
    """As SoapUI sends them: SOAP 1.1 text/xml with a SOAPAction header; SOAP 1.2
    application/soap+xml with the action as a media type parameter (RFC 3902), no SOAPAction."""
    if interface.soap_version == "1_2":
        return {"Content-Type": f'application/soap+xml;charset={encoding};action="{action}"'}
    return {"Content-Type": f"text/xml;charset={encoding}", "SOAPAction": f'"{action}"'}


def run_request(step: Step, scope: RunScope, out: StepRun, *, project: Project, endpoint: str | None,
                session: requests.Session, request_timeout: float) -> None:
    """Sends the step's request and fills `out`; `endpoint`, when given, replaces the project's."""
    config = step.config
    interface = find_interface(project, config.findtext(con("interface")))
    operation_name = config.findtext(con("operation")) or ""
    operation = interface.operations.get(operation_name)
    request_el = config.find(con("request"))
    template = request_el.findtext(con("request")) or ""
    content = expand(template, scope)
    endpoint = endpoint or expand(request_el.findtext(con("endpoint")) or "", scope) \
        or (interface.endpoints[0] if interface.endpoints else "")
    encoding = request_el.findtext(con("encoding")) or "UTF-8"
    headers = soap_headers(interface, operation.action if operation else operation_name, encoding)
    headers.update(_custom_headers(request_el, scope))

    credentials = request_el.find(con("credentials"))
    if credentials is None:
        credentials = etree.Element(con("credentials"))
    username = expand(credentials.findtext(con("username")) or "", scope)
    password = expand(credentials.findtext(con("password")) or "", scope)
    auth_type = credentials.findtext(con("authType")) or "No Authorization"
    preemptive_flag = (credentials.findtext(con("preemptive")) or "").lower() == "true"
    preemptive = auth_type == "Preemptive" or (preemptive_flag and auth_type != "No Authorization")

    content = _apply_wss(project, request_el, content, scope, username, password)
    state = scope.history.setdefault(step.name, StepState())
    state.update({"Request": template, "RawRequest": content, "Endpoint": endpoint,
                  "Username": username, "Password": password})
    out.request, out.endpoint = content, endpoint

    timeout = request_timeout
    if request_el.get("timeout"):
        timeout = int(expand(request_el.get("timeout"), scope)) / 1000
    basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    if preemptive and username:
        headers["Authorization"] = basic
    started = time.monotonic()
    data = content.encode(encoding)
    status, response_headers, body, error = post(session, endpoint, data, headers, timeout)
    if (status == 401 and username and "Authorization" not in headers and auth_type != "No Authorization"
            and "basic" in response_headers.get("WWW-Authenticate", "").lower()):
        headers["Authorization"] = basic  # challenge answered (SoapUI's non-preemptive Basic)
        status, response_headers, body, error = post(session, endpoint, data, headers, timeout)
    elapsed = int((time.monotonic() - started) * 1000)
    exchange = Exchange(interface, operation, endpoint, content, status, response_headers, body, elapsed,
                        error)
    state.update({"Response": body, "TimeTaken": str(elapsed), "StatusCode": str(status or "")})
    out.response, out.http_status = body, status
    out.assertions = [run_assertion(a, exchange, scope) for a in step.assertions]
    if error is not None:
        out.status, out.message = ERROR, f"request failed: {error}"
    elif any(a.status == FAIL for a in out.assertions):
        out.status = FAILED
        out.message = "; ".join(f"[{a.name}] {a.message}" for a in out.failed_assertions())
    else:
        passed = sum(1 for a in out.assertions if a.status == PASS)
        out.message = f"HTTP {status}, {passed} assertions passed"


def find_interface(project: Project, name: str | None) -> Interface:
    if name and name in project.interfaces:
        return project.interfaces[name]
    if not name and len(project.interfaces) == 1:
        return next(iter(project.interfaces.values()))
    raise XPathProblem(f"interface [{name}] is not in the project")


def _apply_wss(project: Project, request_el: etree._Element, content: str, scope: RunScope, username: str,
               password: str) -> str:
    outgoing = request_el.get("outgoingWss") or ""
    password_type = request_el.get("wssPasswordType") or ""
    if not outgoing and not password_type:
        return content
    if outgoing and outgoing not in project.wss_outgoing:
        raise wss.WssProblem(f"outgoing WS-Security configuration [{outgoing}] is not in the project")
    try:
        envelope = parse_xml(content)
    except XPathProblem:
        return content  # SoapUI sends a request it cannot parse unchanged
    if outgoing:
        wss.apply_outgoing(envelope, project.wss_outgoing[outgoing], scope)
    if password_type and username:
        wss.apply_request_token(envelope, username, password, password_type)
    return etree.tostring(envelope, encoding="unicode")


def _custom_headers(request_el: etree._Element, scope: RunScope) -> dict[str, str]:
    """HTTP headers from the request's settings (SoapUI stores them as an escaped xml-fragment)."""
    settings = request_el.find(con("settings"))
    found: dict[str, str] = {}
    if settings is None:
        return found
    for setting in settings.findall(con("setting")):
        if not (setting.get("id") or "").endswith("@request-headers") or not (setting.text or "").strip():
            continue
        fragment = setting.text.strip()
        if "xmlns:con" not in fragment:
            fragment = fragment.replace("<xml-fragment", f'<xml-fragment xmlns:con="{CON}"', 1)
        try:
            root = etree.fromstring(fragment.encode())
        except etree.XMLSyntaxError:
            continue
        for entry in root.iter(f"{{{CON}}}entry"):
            found[entry.get("key", "")] = expand(entry.get("value", ""), scope)
    return found
