"""WS-Security replay and freshness, the Basic challenge, through a real HTTP server with the real
Redis replay cache (shared by every LMS process), and what happens while Redis is down."""
from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis

from lms_soap.app import create_app
from lms_soap.bootstrap import build_container
from lms_soap.web.replay_cache import RedisReplayCache, ReplayCacheUnavailable, nonce_key
from tests.support.servers import free_port, serve_wsgi
from tests.support.soap import WSSE, basic, envelope, faultcode, post

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
GET_CUSTOMER = ("GetCustomer", "<tns:customerNumber>234774784</tns:customerNumber>")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def token_header(username: str, password: str, nonce: bytes | None = None,
                 created: datetime | None = None, timestamp: bool = False) -> str:
    """A Security header as SoapUI or WSS4J writes it: UsernameToken with Nonce and Created."""
    created = created or datetime.now(timezone.utc)
    stamp_el = (f"<wsu:Timestamp><wsu:Created>{stamp(created)}</wsu:Created></wsu:Timestamp>"
                if timestamp else "")
    nonce_el = (f'<wsse:Nonce EncodingType="{BASE64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
                f"<wsu:Created>{stamp(created)}</wsu:Created>" if nonce is not None else "")
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1">{stamp_el}'
            f"<wsse:UsernameToken><wsse:Username>{username}</wsse:Username>"
            f"<wsse:Password>{password}</wsse:Password>{nonce_el}</wsse:UsernameToken></wsse:Security>")


def get_customer(header: str = "") -> bytes:
    return envelope(*GET_CUSTOMER, header)


def served_by_the_lms(response) -> bool:
    """Authentication passed: the operation itself answered (the customer is not registered)."""
    return faultcode(response) == "Client.CustomerNotRegistered"


def test_an_identical_envelope_with_a_nonce_is_accepted_once(lms):
    body = get_customer(token_header(*lms.credentials("bank"), nonce=os.urandom(16)))
    assert served_by_the_lms(post(lms.url, body))
    replayed = post(lms.url, body)
    assert replayed.status_code == 500 and faultcode(replayed) == "Client.AuthenticationFailed"


def test_the_nonce_cache_is_shared_by_every_lms_process(lms):
    """A second LMS process (its own app, its own memory) refuses what the first one accepted."""
    body = get_customer(token_header(*lms.credentials("bank"), nonce=os.urandom(16)))
    assert served_by_the_lms(post(lms.url, body))
    with serve_wsgi(create_app(lms.settings, build_container(lms.settings))) as other:
        assert faultcode(post(other, body)) == "Client.AuthenticationFailed"


def test_the_nonce_is_kept_in_redis_for_the_window(lms):
    nonce = os.urandom(16)
    post(lms.url, get_customer(token_header(*lms.credentials("bank"), nonce=nonce)))
    ttl = Redis.from_url(lms.settings.redis_url).ttl(nonce_key(nonce))
    window = lms.settings.wsse_max_age + lms.settings.wsse_clock_skew
    assert window - 5 <= ttl <= window


def test_a_token_created_a_day_ago_is_refused(lms):
    """Today's main ignores the token's Created: a day-old captured envelope still passes."""
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    body = get_customer(token_header(*lms.credentials("bank"), nonce=os.urandom(16), created=yesterday))
    assert faultcode(post(lms.url, body)) == "Client.AuthenticationFailed"


def test_a_timestamp_only_security_header_beside_basic_credentials_passes(lms):
    user, password = lms.credentials("bank")
    header = (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1">'
              f"<wsu:Timestamp><wsu:Created>{stamp(datetime.now(timezone.utc))}</wsu:Created>"
              f"</wsu:Timestamp></wsse:Security>")
    assert served_by_the_lms(post(lms.url, get_customer(header), basic(user, password)))


def test_no_credentials_get_a_basic_challenge(lms):
    response = post(lms.url, get_customer())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="lms-soap"'
    assert response.headers["Content-Type"].startswith("text/xml")
    assert faultcode(response) == "Client.AuthenticationFailed"
    wrong = post(lms.url, get_customer(), basic(lms.credentials("bank")[0], "wrong"))
    assert wrong.status_code == 500 and "WWW-Authenticate" not in wrong.headers


@pytest.fixture
def redis_down_lms(lms):
    """The same LMS with REDIS_URL naming a port where nothing listens."""
    settings = lms.settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout=0.5)
    container = build_container(settings)
    with serve_wsgi(create_app(settings, container)) as url:
        yield url
    container.close()


def test_while_redis_is_down_nonce_tokens_fail_closed_and_other_credentials_pass(lms, redis_down_lms):
    user, password = lms.credentials("bank")
    refused = post(redis_down_lms, get_customer(token_header(user, password, nonce=os.urandom(16))))
    assert refused.status_code == 500 and faultcode(refused) == "Server.ServiceUnavailable"
    assert served_by_the_lms(post(redis_down_lms, get_customer(), basic(user, password)))
    assert served_by_the_lms(post(redis_down_lms, get_customer(token_header(user, password))))


def test_the_redis_cache_reports_an_unreachable_redis():
    cache = RedisReplayCache(Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5))
    with pytest.raises(ReplayCacheUnavailable):
        cache.remember(nonce_key(b"n"), 60)


def test_the_redis_cache_answers_set_nx(flushed_redis):
    cache = RedisReplayCache(Redis.from_url(flushed_redis))
    assert cache.remember("lms:wsse-nonce:test", 60) is True
    assert cache.remember("lms:wsse-nonce:test", 60) is False
