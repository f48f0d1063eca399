"""A Core Banking System simulator: the bank's two SOAP contracts (wsdl/cbs/), served by Spyne.

    POST /service/customer          operation Customer      (WSDL: GET /service/customer?wsdl)
    POST /service/transaction-data  operation Transactions  (WSDL: GET ...transaction-data?wsdl)

One WSGI callable serves both, so one process on one port (DEFAULT_PORT, 8093) is the whole CBS:
    gunicorn -b :8093 'lms_soap.sandbox.cbs_simulator:create_app_from_env()'
    python -m lms_soap.sandbox.cbs_simulator [port]

Data: lms_soap/sandbox/cbs_data.py (documented there). An unknown customer gets a Client fault
"Customer not found: <n>" from Customer, and an empty TransactionsResponse from Transactions.

Credentials (checked on every SOAP call, never on a WSDL GET):
    auth_mode='wsse'  a WS-Security UsernameToken with a PasswordText password in the SOAP Header
                      (Spyne ignores mustUnderstand: `wsse:Security mustUnderstand="1"` is fine);
    auth_mode='basic' an HTTP Basic Authorization header;
    auth_mode='any'   either one.
Missing or wrong credentials give a SOAP fault with faultcode Client.

Failure knobs: `latency` seconds are slept before every reply; `fail` makes every SOAP call fail:
'fault' (a SOAP Server fault), 'garbage' (HTTP 200, text/xml, not XML), 'http500' (an HTML
500 page).
A WSDL GET is never failed, so clients can still be built while a failure is simulated.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import os
import sys
import time
from typing import Any, Callable, Iterable

from spyne import Application, Fault, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from . import cbs_data
from .cbs_types import CUSTOMER_NS, TRANSACTION_NS, Account, TransactionData
from .cbs_types import Customer as CustomerType

DEFAULT_PORT = 8093
CUSTOMER_PATH = "/service/customer"
TRANSACTIONS_PATH = "/service/transaction-data"
FAIL_MODES = (None, "fault", "garbage", "http500")
AUTH_MODES = ("wsse", "basic", "any")
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-username-token-profile-1.0#PasswordText")

WsgiApp = Callable[[dict, Callable[..., Any]], Iterable[bytes]]


class CustomerPortService(ServiceBase):
    # Spyne names the wsdl:service after the class; the CBS calls its services *PortService.
    @rpc(Unicode(min_occurs=1, nillable=False),
         _returns=CustomerType.customize(min_occurs=1, nillable=False),
         _in_message_name="CustomerRequest", _out_variable_name="customer")
    def Customer(ctx, customerNumber: str) -> dict[str, Any]:  # noqa: N802,N803 (WSDL names)
        # Wrapped style gives exactly <CustomerRequest><customerNumber/> and
        # <CustomerResponse><customer/>: the element names come from _in_message_name and
        # the default "<operation>Response"; the member name from _out_variable_name.
        record = cbs_data.lookup_customer(customerNumber.strip())
        if record is None:
            raise Fault("Client", f"Customer not found: {customerNumber}")
        return CustomerType(**record)


class TransactionDataPortService(ServiceBase):
    # A repeated element (maxOccurs unbounded) without the wrapper element that Array(T) adds.
    @rpc(Unicode(min_occurs=1, nillable=False),
         _returns=TransactionData.customize(min_occurs=0, max_occurs="unbounded", nillable=False),
         _in_message_name="TransactionsRequest", _out_variable_name="transactions")
    def Transactions(ctx, customerNumber: str) -> list[Any]:  # noqa: N802,N803 (WSDL names)
        return [TransactionData(**record)
                for record in cbs_data.lookup_transactions(customerNumber.strip())]


def _wsse_credentials(header_doc: list[Any] | None) -> tuple[str, str] | None:
    """(username, password) of a PasswordText UsernameToken in the SOAP Header, if any."""
    for element in header_doc or ():
        if element.tag != f"{{{WSSE_NS}}}Security":
            continue
        token = element.find(f"{{{WSSE_NS}}}UsernameToken")
        password = None if token is None else token.find(f"{{{WSSE_NS}}}Password")
        username = None if token is None else token.findtext(f"{{{WSSE_NS}}}Username")
        # A digest cannot be checked against a plain password here: only PasswordText
        # (the profile's default when Type is absent) is accepted.
        if password is None or username is None or \
                password.get("Type", PASSWORD_TEXT) != PASSWORD_TEXT:
            return None
        return username.strip(), password.text or ""
    return None


def _basic_credentials(environ: dict) -> tuple[str, str] | None:
    scheme, _, encoded = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (username, password) if sep else None


def _call_guard(username: str, password: str, auth_mode: str, fail: str | None):
    """A Spyne `method_call` listener: a Fault raised here becomes the SOAP reply."""
    expected = (username.encode(), password.encode())

    def guard(ctx: Any) -> None:
        if fail == "fault":
            raise Fault("Server", "Simulated Core Banking System failure")
        offered = []
        if auth_mode in ("wsse", "any"):
            offered.append(_wsse_credentials(ctx.in_header_doc))
        if auth_mode in ("basic", "any"):
            offered.append(_basic_credentials(ctx.transport.req_env))
        for creds in filter(None, offered):
            # compare_digest on both parts: no early exit that would time the secret.
            user_ok = hmac.compare_digest(creds[0].encode(), expected[0])
            if hmac.compare_digest(creds[1].encode(), expected[1]) and user_ok:
                return
        raise Fault("Client", "Authentication failed: missing or invalid credentials")

    return guard


def _spyne_app(service: type[ServiceBase], tns: str, name: str, guard: Callable,
               classes: tuple = ()) -> WsgiApplication:
    # name= becomes the binding and port name; the CBS's are CustomerPortSoap11 and
    # TransactionDataPortSoap11, so the served WSDLs use the same binding QNames.
    app = Application([service], tns=tns, name=name, in_protocol=Soap11(validator="soft"),
                      out_protocol=Soap11(), classes=classes)
    app.event_manager.add_listener("method_call", guard)
    return WsgiApplication(app)


# Spyne 2.14 crashes (StopIteration, a text/plain 500 from the WSGI server) on an empty POST body,
# so the dispatcher answers that case itself with the Client fault Spyne gives for bad XML.
_EMPTY_BODY_FAULT = (
    b"<?xml version='1.0' encoding='UTF-8'?>\n<soap11env:Envelope xmlns:soap11env="
    b'"http://schemas.xmlsoap.org/soap/envelope/"><soap11env:Body><soap11env:Fault>'
    b"<faultcode>soap11env:Client</faultcode><faultstring>Empty request body</faultstring>"
    b"</soap11env:Fault></soap11env:Body></soap11env:Envelope>")
_HTML_500 = (b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
             b"<body><h1>Internal Server Error</h1><p>The server encountered an error.</p>"
             b"</body></html>")


def _empty_post(environ: dict) -> bool:
    if environ.get("REQUEST_METHOD") != "POST":
        return False
    length = environ.get("CONTENT_LENGTH") or ""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return length == "0" or (not length and not chunked)


def create_app(*, username: str = "admin", password: str = "pwd123", auth_mode: str = "wsse",
               latency: float = 0.0, fail: str | None = None) -> WsgiApp:
    """The WSGI application serving both CBS services (see the module docstring)."""
    if auth_mode not in AUTH_MODES:
        raise ValueError(f"auth_mode must be one of {AUTH_MODES}, not {auth_mode!r}")
    if fail not in FAIL_MODES:
        raise ValueError(f"fail must be one of {FAIL_MODES}, not {fail!r}")
    guard = _call_guard(username, password, auth_mode, fail)
    routes = {
        CUSTOMER_PATH: _spyne_app(CustomerPortService, CUSTOMER_NS, "CustomerPortSoap11", guard),
        TRANSACTIONS_PATH: _spyne_app(TransactionDataPortService, TRANSACTION_NS,
                                      "TransactionDataPortSoap11", guard, (Account,)),
    }

    def application(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = routes.get(environ.get("PATH_INFO", "").rstrip("/"))
        if target is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if latency > 0:
            time.sleep(latency)
        if environ.get("REQUEST_METHOD") == "POST" and fail in ("garbage", "http500"):
            if fail == "garbage":
                start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
                return [b"this is not XML <<< \x00"]
            start_response("500 Internal Server Error", [("Content-Type", "text/html")])
            return [_HTML_500]
        if _empty_post(environ):
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/xml; charset=utf-8")])
            return [_EMPTY_BODY_FAULT]
        return target(environ, start_response)

    return application


def create_app_from_env(environ: dict[str, str] | None = None) -> WsgiApp:
    """create_app() configured by CBS_SIM_USERNAME, CBS_SIM_PASSWORD, CBS_SIM_AUTH_MODE,
    CBS_SIM_LATENCY (seconds) and CBS_SIM_FAIL (empty, fault, garbage or http500)."""
    env = os.environ if environ is None else environ
    return create_app(username=env.get("CBS_SIM_USERNAME") or "admin",
                      password=env.get("CBS_SIM_PASSWORD") or "pwd123",
                      auth_mode=(env.get("CBS_SIM_AUTH_MODE") or "wsse").strip().lower(),
                      latency=float(env.get("CBS_SIM_LATENCY") or 0.0),
                      fail=(env.get("CBS_SIM_FAIL") or "").strip().lower() or None)


def main(argv: list[str] | None = None) -> None:
    """Serve the simulator with wsgiref (development only; gunicorn for anything else)."""
    from wsgiref.simple_server import make_server

    args = sys.argv[1:] if argv is None else argv
    port = int(args[0]) if args else DEFAULT_PORT
    with make_server("127.0.0.1", port, create_app_from_env()) as server:
        print(f"CBS simulator on http://127.0.0.1:{port}{CUSTOMER_PATH} and {TRANSACTIONS_PATH}")
        server.serve_forever()


if __name__ == "__main__":
    main()
