"""Who is calling, and may they call this operation.

Credentials come as HTTP Basic or as a WS-Security UsernameToken (PasswordText) in the SOAP
header. As WSS4J and Apache CXF do: a wsu:Created (the token's, or a wsu:Timestamp's) must lie
within max_age seconds in the past and clock_skew seconds in the future; a token with a Nonce
needs a Created (else its replay window has no bound); the Nonce itself is checked against the
shared replay cache by the gateway (web/replay_cache.py) once the password checked out.
A Security header holding only a Timestamp leaves HTTP Basic to identify the caller.
Verified credentials are cached for a few seconds per process, so a hot client costs one
dictionary lookup instead of a database read.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Callable

from lxml import etree

from lms_soap.lending import errors
from lms_soap.lending.api_clients import USERNAME, authenticate
from lms_soap.lending.model import Role
from lms_soap.lending.ports import SecretBox, UnitOfWork

if TYPE_CHECKING:
    from lms_soap.services.operations import Operation

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
)
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

#: Seconds a verified credential is trusted without a database read (revocation delay at most).
CREDENTIAL_CACHE_SECONDS = 5.0
CREDENTIAL_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    scheme: str  # "basic" or "wsse"
    nonce: bytes | None = None  # a UsernameToken's decoded wsse:Nonce: admitted once per window


class CredentialsMissing(errors.AuthenticationFailed):
    """Neither an Authorization header nor a wsse:Security header came: the fault path answers HTTP
    401 with a Basic challenge, for clients that send credentials only when challenged."""


def basic_credentials(authorization: str | None) -> Credentials | None:
    if not authorization or not authorization[:6].lower() == "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.AuthenticationFailed("malformed HTTP Basic credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise errors.AuthenticationFailed("malformed HTTP Basic credentials")
    return Credentials(username, password, "basic")


def security_header(header: etree._Element | None) -> etree._Element | None:
    """The wsse:Security element of a soap:Header, if any."""
    return None if header is None else header.find(f"{{{WSSE}}}Security")


def wsse_credentials(header: etree._Element | None, now: datetime, max_age: int,
                     clock_skew: int) -> Credentials | None:
    """The UsernameToken of a soap:Header, its Created and the wsu:Timestamp checked when present.

    None when there is no Security header, or one without a UsernameToken (a Timestamp alone)."""
    security = security_header(header)
    if security is None:
        return None
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if timestamp is not None:
        _check_timestamp(timestamp, now, max_age, clock_skew)
    token = security.find(f"{{{WSSE}}}UsernameToken")
    if token is None:
        return None
    username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
    password_el = token.find(f"{{{WSSE}}}Password")
    if not username or password_el is None:
        raise errors.AuthenticationFailed("UsernameToken needs Username and Password")
    if password_el.get("Type", PASSWORD_TEXT) != PASSWORD_TEXT:
        raise errors.AuthenticationFailed("only PasswordText UsernameTokens are accepted")
    created_el = token.find(f"{{{WSU}}}Created")
    nonce = _nonce(token.find(f"{{{WSSE}}}Nonce"))
    if created_el is not None:
        try:
            created = _parse_time(created_el.text)
        except ValueError:
            raise errors.AuthenticationFailed("the UsernameToken's Created is not readable") from None
        if not _fresh(created, now, max_age, clock_skew):
            raise errors.AuthenticationFailed("the UsernameToken's Created is stale or from the future")
    elif nonce is not None:
        raise errors.AuthenticationFailed("a UsernameToken with a Nonce needs a wsu:Created")
    return Credentials(username, password_el.text or "", "wsse", nonce)


def _nonce(element: etree._Element | None) -> bytes | None:
    if element is None:
        return None
    if element.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
        raise errors.AuthenticationFailed("a wsse:Nonce must be Base64Binary")
    try:
        value = base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise errors.AuthenticationFailed("the wsse:Nonce is not base64") from None
    if not value:
        raise errors.AuthenticationFailed("the wsse:Nonce is empty")
    return value


def _parse_time(text: str | None) -> datetime:
    if not text:
        raise ValueError("empty")
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _fresh(created: datetime, now: datetime, max_age: int, clock_skew: int) -> bool:
    return now - timedelta(seconds=max_age) <= created <= now + timedelta(seconds=clock_skew)


def _check_timestamp(timestamp: etree._Element, now: datetime, max_age: int, clock_skew: int) -> None:
    try:
        created = _parse_time(timestamp.findtext(f"{{{WSU}}}Created"))
        expires_text = timestamp.findtext(f"{{{WSU}}}Expires")
        expires = _parse_time(expires_text) if expires_text else None
    except ValueError:
        raise errors.AuthenticationFailed("wsu:Timestamp is not readable") from None
    if not _fresh(created, now, max_age, clock_skew) or (expires is not None and expires < now):
        raise errors.AuthenticationFailed("wsu:Timestamp is stale or from the future")


class Authenticator:
    """Verifies credentials against the api_clients table, with a short per-process cache."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], box: SecretBox,
                 ttl: float = CREDENTIAL_CACHE_SECONDS):
        self.uow_factory = uow_factory
        self.box = box
        self.ttl = ttl
        self._cache: dict[tuple[str, bytes], tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def verify(self, credentials: Credentials) -> Principal:
        if not USERNAME.fullmatch(credentials.username):
            # No API client has such a name: refused without a database read (a NUL byte in a
            # username would even make the driver raise, an InternalError instead of this fault).
            raise errors.AuthenticationFailed("unknown client or wrong secret")
        # The cache key holds a digest of the secret, never the secret itself.
        key = (credentials.username, hashlib.sha256(credentials.password.encode()).digest())
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        client = authenticate(credentials.username, credentials.password, self.uow_factory(), self.box)
        principal = Principal(client.username, client.role)
        with self._lock:
            if len(self._cache) >= CREDENTIAL_CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (now + self.ttl, principal)
        return principal


def verify_basic(authenticator: Authenticator, authorization: str | None, missing: str) -> Principal:
    """The principal of an HTTP Basic Authorization header (REST and /metrics take nothing else)."""
    credentials = basic_credentials(authorization)
    if credentials is None:
        raise errors.AuthenticationFailed(missing)
    return authenticator.verify(credentials)


def authorize(principal: Principal, operation: "Operation", action: str | None = None) -> None:
    """May this principal call this operation (its roles in the operation table)? `action` words
    the refusal ("read transactions"); by default "call <operation>"."""
    if principal.role not in operation.roles:
        raise errors.NotAuthorized(f"role {principal.role.value} may not {action or 'call ' + operation.name}")
