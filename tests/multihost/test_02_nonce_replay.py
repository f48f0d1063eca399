"""A WS-Security nonce used on one host is refused on another (the replay cache lives in Redis,
shared by every LMS process and host; CONTRACT.md "Security rules added").

Switched off (a per-process replay cache), the second host accepts the replayed request."""
import base64
import secrets
from datetime import datetime, timedelta, timezone

from tests.support.soap import WSSE

from .cluster import BANK_USER

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def security_header(password: str) -> str:
    now = datetime.now(timezone.utc)
    created = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expires = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = base64.b64encode(secrets.token_bytes(16)).decode()
    return (f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" soap:mustUnderstand="1">'
            f"<wsu:Timestamp><wsu:Created>{created}</wsu:Created><wsu:Expires>{expires}</wsu:Expires></wsu:Timestamp>"
            f"<wsse:UsernameToken><wsse:Username>{BANK_USER}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_TEXT}">{password}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{BASE64}">{nonce}</wsse:Nonce><wsu:Created>{created}</wsu:Created>'
            f"</wsse:UsernameToken></wsse:Security>")


def test_a_nonce_used_on_one_host_is_refused_on_another(cluster, customers):
    (customer,) = customers(1)
    header = security_header(cluster.bank_password)
    fields = f"<tns:customerNumber>{customer}</tns:customerNumber>"
    first, = cluster.drive({"mode": "burst", "requests": [cluster.soap("app1", "GetCustomer", fields, header)]})
    assert first["http"] == 200, first  # the first use is accepted

    replays = cluster.drive({"mode": "burst", "requests": [cluster.soap(role, "GetCustomer", fields, header)
                                                           for role in ("app2", "app3")]})
    assert [r["fault"] for r in replays] == ["Client.AuthenticationFailed"] * 2, \
        f"the nonce used on app1 was accepted again: {replays}"
