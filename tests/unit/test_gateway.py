"""The front door (web/gateway.py) with fakes: the UsernameToken replay cache, the HTTP 401
challenge, a Timestamp beside HTTP Basic, and what a refusal does with a body it did not read."""
from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from lms_soap.lending.api_clients import add_client
from lms_soap.lending.model import Role
from lms_soap.services.auth import Authenticator
from lms_soap.web.gateway import SoapGateway
from lms_soap.web.replay_cache import (
    KEY_PREFIX,
    MemoryReplayCache,
    ReplayCacheUnavailable,
    build_replay_cache,
)
from lms_soap.services.request_context import RequestContext

from .world import World

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:lms-soap:v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
SECRET = "gateway-secret-" + "k" * 30
MAX_AGE, SKEW, MAX_BODY, MAX_DRAIN = 300, 60, 4096, 16384


class FakeReplayCache:
    """Records what it was asked; `down` makes it fail like Redis away."""

    def __init__(self):
        self.seen: dict[str, int] = {}
        self.down = False

    def remember(self, key: str, ttl_seconds: int) -> bool:
        if self.down:
            raise ReplayCacheUnavailable("ConnectionError")
        if key in self.seen:
            return False
        self.seen[key] = ttl_seconds
        return True


def spyne_stub(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/xml")])
    return [b"<ok/>"]


@pytest.fixture
def cache():
    return FakeReplayCache()


@pytest.fixture
def gateway(cache):
    world = World()
    add_client("esb", Role.BANK, world.uow, world.box, world.clock, lambda: SECRET)
    authenticator = Authenticator(world.uow.sibling, world.box, ttl=0.0)
    return SoapGateway(spyne_stub, authenticator, cache, max_body_bytes=MAX_BODY, max_drain_bytes=MAX_DRAIN,
                       max_depth=32, max_elements=2000, wsse_max_age=MAX_AGE, wsse_clock_skew=SKEW)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


def token(password: str = SECRET, nonce: bytes | None = b"nonce-0123456789", created: bool = True,
          nonce_text: str | None = None) -> str:
    parts = [f"<wsse:Username>esb</wsse:Username><wsse:Password>{password}</wsse:Password>"]
    if nonce is not None:
        parts.append(f"<wsse:Nonce>{nonce_text or base64.b64encode(nonce).decode()}</wsse:Nonce>")
    if created:
        parts.append(f"<wsu:Created>{stamp(now())}</wsu:Created>")
    return f"<wsse:UsernameToken>{''.join(parts)}</wsse:UsernameToken>"


def security(content: str) -> str:
    return f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">{content}</wsse:Security>'


def timestamp() -> str:
    return f"<wsu:Timestamp><wsu:Created>{stamp(now())}</wsu:Created></wsu:Timestamp>"


def envelope(header: str = "", padding: int = 0) -> bytes:
    head = f"<soap:Header>{header}</soap:Header>" if header else ""
    pad = f"<!--{'x' * padding}-->" if padding else ""
    return (f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:tns="{TNS}">{head}<soap:Body><tns:GetCustomer>'
            f"<tns:customerNumber>1</tns:customerNumber></tns:GetCustomer>{pad}</soap:Body>"
            f"</soap:Envelope>").encode()


class Closer:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1


def call(gateway, body: bytes, *, basic: str | None = None, authorization: str | None = None,
         method: str = "POST",
         content_type: str = "text/xml", content_length: int | None = -1, chunked: bool = False,
         stream: io.BytesIO | None = None):
    """(status, headers, body, environ) of one request; `stream` defaults to the body."""
    environ = {"REQUEST_METHOD": method, "CONTENT_TYPE": content_type,
               "wsgi.input": stream or io.BytesIO(body)}
    RequestContext(None, "test", 0.0, close_connection=Closer()).attach(environ)
    if content_length == -1:
        content_length = len(body)
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    if basic is not None:
        authorization = "Basic " + base64.b64encode(basic.encode()).decode()
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    answer = b"".join(gateway(environ, start_response))
    return captured["status"], captured["headers"], answer, environ


def faultcode(answer: bytes) -> str:
    return etree.fromstring(answer).findtext(f".//{{{SOAP}}}Fault/faultcode").split(":", 1)[1]


# --- A: a UsernameToken's Nonce is accepted once ------------------------------------------------
def test_an_identical_envelope_with_a_nonce_is_accepted_once(gateway):
    """Today's main accepts the same captured envelope again and again."""
    body = envelope(security(token()))
    assert call(gateway, body)[0].startswith("200")
    status, _, answer, _ = call(gateway, body)
    assert status.startswith("500") and faultcode(answer) == "Client.AuthenticationFailed"
    assert b"already used" in answer


def test_the_nonce_is_remembered_for_the_whole_window_under_a_hash_of_its_bytes(gateway, cache):
    call(gateway, envelope(security(token(nonce=b"\x00\xffraw"))))
    [(key, ttl)] = cache.seen.items()
    assert ttl == MAX_AGE + SKEW
    assert key.startswith(KEY_PREFIX) and base64.b64encode(b"\x00\xffraw").decode() not in key


def test_the_same_nonce_spelled_another_way_is_a_replay(gateway):
    nonce = b"same-bytes-0123456789"
    encoded = base64.b64encode(nonce).decode()
    assert call(gateway, envelope(security(token(nonce=nonce))))[0].startswith("200")
    respelled = encoded[:10] + "\n " + encoded[10:]
    answer = call(gateway, envelope(security(token(nonce=nonce, nonce_text=respelled))))[2]
    assert faultcode(answer) == "Client.AuthenticationFailed"


def test_a_wrong_password_cannot_burn_a_legitimate_nonce(gateway, cache):
    nonce = b"victim-nonce-0123"
    answer = call(gateway, envelope(security(token(password="guessed", nonce=nonce))))[2]
    assert faultcode(answer) == "Client.AuthenticationFailed" and not cache.seen
    assert call(gateway, envelope(security(token(nonce=nonce))))[0].startswith("200")


def test_a_nonce_without_created_is_refused(gateway, cache):
    answer = call(gateway, envelope(security(token(created=False))))[2]
    assert faultcode(answer) == "Client.AuthenticationFailed" and not cache.seen


def test_while_the_replay_cache_is_down_nonce_tokens_fail_closed_and_others_pass(gateway, cache):
    cache.down = True
    status, _, answer, _ = call(gateway, envelope(security(token())))
    assert status.startswith("500") and faultcode(answer) == "Server.ServiceUnavailable"
    assert call(gateway, envelope(security(token(nonce=None))))[0].startswith("200")  # zeep/suds style
    assert call(gateway, envelope(), basic=f"esb:{SECRET}")[0].startswith("200")


def test_without_redis_the_cache_is_in_process_and_expires_with_the_window():
    clock = [1000.0]
    cache = build_replay_cache(None)
    assert isinstance(cache, MemoryReplayCache)
    cache.clock = lambda: clock[0]
    assert cache.remember("k", 360) and not cache.remember("k", 360)
    clock[0] += 361
    assert cache.remember("k", 360)


def test_a_full_in_process_cache_keeps_admitting_new_nonces():
    cache = MemoryReplayCache(size=4, clock=lambda: 0.0)
    assert all(cache.remember(f"k{i}", 60) for i in range(10))
    assert not cache.remember("k9", 60) and len(cache._expiry) <= 4


# --- A: a Security header with only a Timestamp, beside HTTP Basic --------------------------------
def test_a_timestamp_only_security_header_lets_basic_credentials_count(gateway):
    """Today's main refuses it: 'wsse:Security carries no UsernameToken'."""
    assert call(gateway, envelope(security(timestamp())), basic=f"esb:{SECRET}")[0].startswith("200")
    status, headers, answer, _ = call(gateway, envelope(security(timestamp())))
    assert status.startswith("500") and "WWW-Authenticate" not in headers
    assert faultcode(answer) == "Client.AuthenticationFailed"


# --- C: the HTTP 401 challenge ----------------------------------------------------------------
def test_no_credentials_at_all_get_a_401_basic_challenge_with_the_fault(gateway):
    status, headers, answer, _ = call(gateway, envelope())
    assert status == "401 Unauthorized"
    assert headers["WWW-Authenticate"] == 'Basic realm="lms-soap"'
    assert headers["Content-Type"].startswith("text/xml")
    assert faultcode(answer) == "Client.AuthenticationFailed"


@pytest.mark.parametrize("basic, header", [(f"esb:{SECRET}x", ""), ("nobody:x", ""),
                                           (None, security(token(password="wrong")))])
def test_wrong_credentials_keep_http_500_without_a_challenge(gateway, basic, header):
    status, headers, answer, _ = call(gateway, envelope(header), basic=basic)
    assert status.startswith("500") and "WWW-Authenticate" not in headers
    assert faultcode(answer) == "Client.AuthenticationFailed"


def test_an_authorization_header_of_another_scheme_is_no_challenge(gateway):
    """Credentials came (of a scheme we do not take): wrong credentials, HTTP 500."""
    status, headers, answer, _ = call(gateway, envelope(), authorization="Bearer eyJhbGciOiJub25lIn0.e30.")
    assert status.startswith("500") and "WWW-Authenticate" not in headers
    assert faultcode(answer) == "Client.AuthenticationFailed"


# --- B: a refusal drains the body it did not read, or closes the connection ---------------------
class CountingStream(io.BytesIO):
    """A request body that remembers how much of it was read."""

    @property
    def unread(self) -> int:
        return len(self.getbuffer()) - self.tell()


@pytest.mark.parametrize("size", [MAX_BODY + 1, MAX_DRAIN])
def test_a_body_over_the_limit_is_refused_and_drained_when_small_enough(gateway, size):
    body = envelope(padding=size - len(envelope(padding=1)) + 1)
    assert len(body) == size
    stream = CountingStream(body)
    status, _, answer, environ = call(gateway, body, basic=f"esb:{SECRET}", stream=stream)
    assert status.startswith("500") and faultcode(answer) == "Client.MalformedRequest"
    assert stream.unread == 0 and RequestContext.of(environ).close_connection.calls == 0  # the connection stays usable


def test_a_body_past_the_drain_bound_is_not_read_and_the_connection_closes(gateway):
    body = envelope(padding=MAX_DRAIN * 2)
    stream = CountingStream(body)
    status, _, answer, environ = call(gateway, body, basic=f"esb:{SECRET}", stream=stream)
    assert faultcode(answer) == "Client.MalformedRequest"
    assert stream.unread == len(body) and RequestContext.of(environ).close_connection.calls == 1


@pytest.mark.parametrize("size, closes", [(MAX_DRAIN, False), (MAX_DRAIN + 10, True)])
def test_a_chunked_body_past_the_limit_is_drained_up_to_the_bound(gateway, size, closes):
    body = envelope(padding=size - len(envelope(padding=1)) + 1)
    stream = CountingStream(body)
    _, _, answer, environ = call(gateway, body, content_length=None, chunked=True, stream=stream)
    assert faultcode(answer) == "Client.MalformedRequest"
    assert RequestContext.of(environ).close_connection.calls == int(closes) and (stream.unread > 0) == closes


@pytest.mark.parametrize("method, content_type", [("PUT", "text/xml"), ("POST", "application/json"),
                                                  ("POST", "text/plain")])
def test_a_refused_method_or_content_type_drains_the_body(gateway, method, content_type):
    body = envelope()
    stream = CountingStream(body)
    status, _, answer, environ = call(gateway, body, method=method, content_type=content_type, stream=stream)
    assert faultcode(answer) == "Client.MalformedRequest"
    assert stream.unread == 0 and RequestContext.of(environ).close_connection.calls == 0


def test_an_unreadable_body_closes_the_connection(gateway):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise ValueError("Invalid chunk size")

    body = envelope()
    _, _, answer, environ = call(gateway, body, content_length=None, chunked=True, stream=Broken())
    assert faultcode(answer) == "Client.MalformedRequest" and RequestContext.of(environ).close_connection.calls == 1


def test_a_request_without_length_or_chunking_has_no_body_and_reads_nothing(gateway):
    """A server without wsgi.input_terminated would block reading the next request otherwise."""
    stream = CountingStream(b"POST /soap HTTP/1.1\r\n...the next request")
    _, _, answer, _ = call(gateway, b"", content_length=None, basic=f"esb:{SECRET}", stream=stream)
    assert b"body is empty" in answer and stream.tell() == 0


def test_a_valid_request_is_served_and_never_closes(gateway):
    status, _, _, environ = call(gateway, envelope(), basic=f"esb:{SECRET}")
    assert status.startswith("200") and RequestContext.of(environ).close_connection.calls == 0


def test_created_in_the_far_past_is_refused_before_any_nonce_is_kept(gateway, cache):
    old = stamp(now() - timedelta(seconds=MAX_AGE + 5))
    body = envelope(security(token().replace(stamp(now()), old)))
    assert faultcode(call(gateway, body)[2]) == "Client.AuthenticationFailed" and not cache.seen
