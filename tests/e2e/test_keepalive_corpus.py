"""The whole hostile corpus over ONE keep-alive connection, as a pooled client sends it: each
request gets its catalogue fault (text/xml, never HTML, never a connection dropped mid-response),
and a valid call on the same client succeeds afterwards.

A refusal must leave the connection usable (the refused body drained) or close it, saying so
(`Connection: close`); the client reconnects only then. A server that announces keep-alive and
then drops the connection, or parses the unread body of a refused request as the next request,
fails this test. The server runs threaded (gthread), as `lms-soap serve` does: gunicorn's sync
worker closes every connection anyway.

ENCODED cases end the client's input after their broken chunks (the corpus defines them so: a
body cut short cannot be told from a slow one otherwise), so the client reconnects after each.
"""
from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from tests.e2e import hostile_cases as corpus
from tests.e2e.hostile_cases import CASES, HostileCase
from tests.e2e.test_hostile_corpus import CHUNK, assert_no_leak, fault_of, hostile_server
from tests.support.soap import validate_body

pytestmark = pytest.mark.slow

#: Refusals gunicorn makes itself, before the application runs (its default limits: 8190 bytes
#: per header field, 100 header fields, 4094 bytes of request line).
GUNICORN_CASES = [
    HostileCase("header-too-large", corpus.submit(), corpus.MALFORMED,
                {**corpus.headers(), "X-Padding": "x" * 10_000}),
    HostileCase("too-many-headers", corpus.submit(), corpus.MALFORMED,
                {**corpus.headers(), **{f"X-H{i}": "v" for i in range(120)}}),
    HostileCase("request-line-too-long", corpus.submit(), corpus.MALFORMED, query="?" + "q" * 5000),
]
#: Bodies past MAX_BODY_BYTES that are really sent (not only announced), length and chunked framed.
OVERSIZED = [case for case in CASES if case.id.startswith("oversize")]


class Answer:
    def __init__(self, response: http.client.HTTPResponse):
        self.status_code = response.status
        self.headers = response.headers
        self.content = response.read()
        self.will_close = response.will_close


class KeepAliveClient:
    """One http.client connection, reused; it reconnects only after the server said it closes."""

    def __init__(self, url: str):
        address = urlsplit(url)
        self.conn = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
        self.connections = 1
        self.open = True

    def send(self, case: HostileCase) -> Answer:
        if not self.open:
            self.connections += 1  # http.client connects again on the next request
        if case.framing == corpus.ENCODED:
            self.conn.putrequest(case.method, f"/soap{case.query}")
            for name, value in case.headers.items():
                self.conn.putheader(name, value)
            self.conn.putheader("Transfer-Encoding", "chunked")
            self.conn.endheaders()
            self.conn.send(case.body)
            self.conn.sock.shutdown(socket.SHUT_WR)
            answer = Answer(self.conn.getresponse())
            self.conn.close()  # the client ended its input: this connection is done
            self.open = False
            return answer
        body = case.body or None
        if case.framing == corpus.CHUNKED:
            body = iter([case.body[i:i + CHUNK] for i in range(0, len(case.body), CHUNK)])
        self.conn.request(case.method, f"/soap{case.query}", body=body, headers=case.headers,
                          encode_chunked=case.framing == corpus.CHUNKED)
        answer = Answer(self.conn.getresponse())
        self.open = not answer.will_close  # http.client closed the socket when the server said so
        return answer


@pytest.fixture(scope="module")
def threaded_server(database_url, redis_url, cbs_url, scoring_sim):
    with hostile_server(database_url, redis_url, cbs_url, scoring_sim.url, workers=1, threads=4) as served:
        yield served


def check_fault(served, case: HostileCase, answer: Answer) -> None:
    assert answer.status_code == case.status, (case.id, answer.status_code, answer.content[:300])
    assert answer.headers["Content-Type"].startswith("text/xml"), (case.id, dict(answer.headers))
    assert_no_leak(answer)
    faultcode, code = fault_of(answer)
    assert faultcode == case.expected, (case.id, answer.content[:300])
    assert code == case.expected.split(".", 1)[1], case.id
    validate_body(served.wsdl, answer.content)


def valid_call() -> HostileCase:
    body = corpus.envelope("GetCustomer", f"<tns:customerNumber>{corpus.CUSTOMER}</tns:customerNumber>")
    return HostileCase("valid-get-customer", body, "")


def test_the_corpus_over_one_keep_alive_connection_then_a_valid_call(threaded_server):
    client = KeepAliveClient(threaded_server.url)
    previous = "(first request)"
    for case in [*CASES, *GUNICORN_CASES, *OVERSIZED]:  # the oversized ones once more, at the end
        try:
            answer = client.send(case)
        except (http.client.HTTPException, OSError) as exc:
            pytest.fail(f"{case.id}: the connection failed ({exc!r}); the request before was {previous}")
        check_fault(threaded_server, case, answer)
        previous = case.id

    answer = client.send(valid_call())
    assert answer.status_code == 200, answer.content[:500]
    assert corpus.CUSTOMER.encode() in answer.content


@pytest.mark.parametrize("case", [*OVERSIZED, *GUNICORN_CASES], ids=lambda case: case.id)
def test_after_an_early_refusal_the_same_client_is_served(threaded_server, case):
    """The refusal of a body that was not read: drained (keep-alive) or the connection closed with
    `Connection: close`; either way the client's next call on it succeeds."""
    client = KeepAliveClient(threaded_server.url)
    check_fault(threaded_server, case, client.send(case))
    answer = client.send(valid_call())
    assert answer.status_code == 200, answer.content[:500]
