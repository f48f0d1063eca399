"""Every hostile request of the corpus (hostile_cases.py), sent raw to a real gunicorn, gets one
catalogue fault (HTTP 500, text/xml, a SOAP 1.1 Fault with the LmsFault detail), leaks nothing
and changes no row (the audit log alone may grow: it records failed calls).

hostile_server() and the answer checks below are shared with test_hostile_property.py.
"""
from __future__ import annotations

import contextlib
import http.client
import socket
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests
from lxml import etree
from sqlalchemy import func, select

from lms_soap.models.tables import metadata
from tests.conftest import empty_tables, make_settings
from tests.e2e import hostile_cases as corpus
from tests.e2e.hostile_cases import CASES, HostileCase
from tests.support.processes import Gunicorn
from tests.support.soap import validate_body

pytestmark = pytest.mark.slow

CHUNK = 8 * 1024
SOAP11 = corpus.SOAP11
TNS = corpus.TNS
#: Text that must never reach a caller: tracebacks, SQL layers, HTML pages, /etc/passwd content.
#: (A fault may quote the caller's own value, so the path "/etc/passwd" alone is no leak.)
LEAKS = ("Traceback", "sqlalchemy", "psycopg", 'File "', "root:", ":0:0:", "<html", "<HTML")
_PASSWD = Path("/etc/passwd")
PASSWD_LINES = [line for line in _PASSWD.read_text().splitlines() if line] if _PASSWD.exists() else []
#: Tables whose rows may change when a request fails (the audit log records failed calls).
MAY_GROW = {"audit_log"}


@dataclass
class Served:
    """The running server (short repr: Hypothesis prints it with every failing example)."""

    url: str
    engine: Any = field(repr=False)
    wsdl: bytes = field(repr=False)
    settings: Any = field(repr=False)


@contextlib.contextmanager
def hostile_server(database_url: str, redis_url: str, cbs_url: str, scoring_url: str,
                   workers: int = 2, threads: int = 1) -> Iterator[Served]:
    """A gunicorn LMS on the corpus's limits, with its API clients and one registered customer,
    over an emptied database (emptied again afterwards)."""
    from lms_soap.bootstrap import build_container
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.customers import register_customer
    from lms_soap.lending.model import Role

    empty_tables(database_url)
    settings = make_settings(
        database_url, redis_url,
        cbs_customer_url=f"{cbs_url}/service/customer",
        cbs_transactions_url=f"{cbs_url}/service/transaction-data",
        scoring_base_url=scoring_url,
        max_body_bytes=corpus.MAX_BODY_BYTES,
        max_xml_depth=corpus.MAX_XML_DEPTH,
        max_xml_elements=corpus.MAX_XML_ELEMENTS,
        loan_max_amount=Decimal(corpus.LOAN_MAX_AMOUNT),
    )
    container = build_container(settings)
    try:
        for role, (username, secret) in corpus.CLIENTS.items():
            add_client(username, Role(role), container.uow(), container.box, container.clock,
                       lambda secret=secret: secret)
        register_customer(corpus.CUSTOMER, container.uow(), container.cbs, container.clock)
        with Gunicorn(settings, workers=workers, threads=threads) as server:
            wsdl = requests.get(f"{server.url}/soap?wsdl", timeout=10).content
            yield Served(server.url, container.engine, wsdl, settings)
    finally:
        container.close()
        empty_tables(database_url)


def row_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables if t.name not in MAY_GROW}


def safe_parse(content: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(content, parser)


def fault_of(response) -> tuple[str, str | None]:
    """(faultcode without prefix, tns:LmsFault/tns:code) of a SOAP 1.1 fault answer; asserts its shape."""
    root = safe_parse(response.content)
    assert root.tag == f"{{{SOAP11}}}Envelope", root.tag
    body = root.find(f"{{{SOAP11}}}Body")
    assert body is not None, "no soap:Body"
    fault = body.find(f"{{{SOAP11}}}Fault")
    assert fault is not None, "no soap:Fault"
    faultcode = fault.findtext("faultcode") or ""
    assert fault.findtext("faultstring"), "empty faultstring"
    code = fault.findtext(f"detail/{{{TNS}}}LmsFault/{{{TNS}}}code")
    return faultcode.split(":", 1)[-1], code


def assert_no_leak(response, sent: bytes = b"") -> None:
    """No traceback, SQL layer, HTML or /etc/passwd content in the answer (but what the request
    itself carried: a fault may quote the caller's own value)."""
    text = response.content.decode("utf-8", "replace")
    for leak in [*LEAKS, *PASSWD_LINES]:
        if leak.encode() not in sent:
            assert leak not in text, f"{leak!r} in the answer: {text[:500]}"


@pytest.fixture(scope="module")
def server(database_url, redis_url, cbs_url, scoring_sim):
    with hostile_server(database_url, redis_url, cbs_url, scoring_sim.url) as served:
        yield served


def send(url: str, case: HostileCase):
    """Send one case as it is framed; answers have .status_code, .headers and .content."""
    if case.framing == corpus.ENCODED:
        return send_encoded(url, case)
    data = case.body
    if case.framing == corpus.CHUNKED:
        data = (case.body[i:i + CHUNK] for i in range(0, len(case.body), CHUNK))
    return requests.request(case.method, f"{url}/soap{case.query}", data=data or None,
                            headers=case.headers, timeout=15)


def send_encoded(url: str, case: HostileCase) -> SimpleNamespace:
    """Chunk-encoded bytes sent verbatim (requests cannot send broken chunks), then end of input."""
    address = urlsplit(url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=15)
    try:
        conn.putrequest(case.method, f"/soap{case.query}")
        for name, value in case.headers.items():
            conn.putheader(name, value)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(case.body)
        conn.sock.shutdown(socket.SHUT_WR)  # a body cut short must not leave the server waiting
        response = conn.getresponse()
        return SimpleNamespace(status_code=response.status, headers=response.headers, content=response.read())
    finally:
        conn.close()


def test_the_corpus_is_large_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_gets_its_fault_and_changes_nothing(server, case):
    before = row_counts(server.engine)

    response = send(server.url, case)

    assert response.status_code == case.status, response.content[:500]
    assert response.headers["Content-Type"].startswith("text/xml"), response.headers
    if case.status == 401:
        assert response.headers["WWW-Authenticate"] == 'Basic realm="lms-soap"'
    assert_no_leak(response)
    faultcode, code = fault_of(response)
    assert faultcode == case.expected, response.content[:500]
    assert code == case.expected.split(".", 1)[1]
    validate_body(server.wsdl, response.content)  # the detail is the LmsFault the WSDL declares
    assert row_counts(server.engine) == before


def test_a_small_chunked_body_is_served(server):
    """The chunked path refuses only what passes the limit."""
    body = corpus.envelope("GetCustomer", f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>")
    response = send(server.url, HostileCase("chunked-ok", body, "", framing=corpus.CHUNKED))
    assert response.status_code == 200, response.content[:500]
    assert b"customerNumber" in response.content


@pytest.mark.parametrize("framing", [corpus.LENGTH, corpus.CHUNKED])
def test_a_body_of_exactly_the_limit_is_served(server, framing):
    body = corpus.padded(corpus.MAX_BODY_BYTES, "GetCustomer",
                         f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>")
    assert len(body) == corpus.MAX_BODY_BYTES
    response = send(server.url, HostileCase("at-limit", body, "", framing=framing))
    assert response.status_code == 200, response.content[:500]
