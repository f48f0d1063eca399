"""Who is calling (services/auth.py): HTTP Basic, WS-Security UsernameToken with its Created and
Nonce and the wsu:Timestamp, the credential cache, the dummy hash for unknown clients, and the
contract's role table. (The Nonce's replay cache is tested in test_gateway.py.)"""
from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from lms_soap.lending import errors
from lms_soap.lending.api_clients import add_client, revoke_client
from lms_soap.lending.model import Role
from lms_soap.services.auth import (
    BASE64_BINARY,
    PASSWORD_TEXT,
    WSSE,
    WSU,
    Authenticator,
    Credentials,
    Principal,
    authorize,
    basic_credentials,
    wsse_credentials,
)
from lms_soap.services.operations import SOAP_OPERATIONS, UNKNOWN

from .fakes import secret_box
from .world import World

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PASSWORD_DIGEST = PASSWORD_TEXT.replace("#PasswordText", "#PasswordDigest")
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
MAX_AGE = 300
SKEW = 60


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


# --- HTTP Basic -----------------------------------------------------------------------------
def test_basic_credentials_are_read():
    assert basic_credentials(basic(b"esb:s3cret")) == Credentials("esb", "s3cret", "basic")


def test_basic_keeps_colons_in_the_password_and_ignores_the_scheme_case():
    assert basic_credentials("bAsIc " + base64.b64encode(b"esb:a:b:c").decode()).password == "a:b:c"
    assert basic_credentials(basic("ésb:pässword".encode())) == Credentials("ésb", "pässword", "basic")


@pytest.mark.parametrize("header", [None, "", "Bearer abc.def", "Digest username=esb"])
def test_no_basic_credentials_at_all(header):
    assert basic_credentials(header) is None


@pytest.mark.parametrize("header", ["Basic !!!not-base64!!!", "Basic ZXNiOnMzY3JldA",  # bad padding
                                    "Basic ZXNi!OnMz*Y3JldA==",  # esb:s3cret with junk inside
                                    basic(b"no-colon-here"), basic(b"\xff\xfe:\xff"), "Basic "])
def test_malformed_basic_credentials_are_refused(header):
    with pytest.raises(errors.AuthenticationFailed) as refused:
        basic_credentials(header)
    assert refused.value.faultcode == "Client.AuthenticationFailed"


# --- WS-Security --------------------------------------------------------------------------
def header(username="esb", password="s3cret", password_type=PASSWORD_TEXT, created=None, expires=None,
           token=True, security=True, nonce=None, token_created=None,
           nonce_encoding=BASE64_BINARY) -> etree._Element:
    head = etree.Element(f"{{{SOAP_ENV}}}Header")
    if not security:
        return head
    sec = etree.SubElement(head, f"{{{WSSE}}}Security")
    if created is not None or expires is not None:
        stamp = etree.SubElement(sec, f"{{{WSU}}}Timestamp")
        if created is not None:
            etree.SubElement(stamp, f"{{{WSU}}}Created").text = created
        if expires is not None:
            etree.SubElement(stamp, f"{{{WSU}}}Expires").text = expires
    if token:
        tok = etree.SubElement(sec, f"{{{WSSE}}}UsernameToken")
        if username is not None:
            etree.SubElement(tok, f"{{{WSSE}}}Username").text = username
        if password is not None:
            el = etree.SubElement(tok, f"{{{WSSE}}}Password")
            el.text = password
            if password_type is not None:
                el.set("Type", password_type)
        if nonce is not None:
            el = etree.SubElement(tok, f"{{{WSSE}}}Nonce")
            el.text = nonce
            if nonce_encoding is not None:
                el.set("EncodingType", nonce_encoding)
        if token_created is not None:
            etree.SubElement(tok, f"{{{WSU}}}Created").text = token_created
    return head


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read(head) -> Credentials | None:
    return wsse_credentials(head, NOW, MAX_AGE, SKEW)


def test_a_password_text_username_token_is_read():
    assert read(header()) == Credentials("esb", "s3cret", "wsse")
    assert read(header(password_type=None)) == Credentials("esb", "s3cret", "wsse")  # Type defaults to text


def test_no_header_or_no_security_means_no_wsse_credentials():
    assert read(None) is None
    assert read(header(security=False)) is None


def test_a_security_header_with_only_a_timestamp_gives_no_wsse_credentials():
    """HTTP Basic then identifies the caller (the gateway's tests send both)."""
    assert read(header(token=False, created=iso(NOW))) is None
    with pytest.raises(errors.AuthenticationFailed, match="stale"):  # the Timestamp still counts
        read(header(token=False, created=iso(NOW - timedelta(days=1))))


@pytest.mark.parametrize("broken", [dict(password=None), dict(username=None), dict(username="  "),
                                    dict(password_type=PASSWORD_DIGEST)])
def test_incomplete_or_digest_tokens_are_refused(broken):
    with pytest.raises(errors.AuthenticationFailed):
        read(header(**broken))


@pytest.mark.parametrize("created, expires", [
    (iso(NOW - timedelta(seconds=10)), iso(NOW + timedelta(minutes=5))),
    (iso(NOW - timedelta(seconds=299)), None),
    (iso(NOW + timedelta(seconds=30)), None),  # a little clock skew
    (iso(NOW + timedelta(seconds=SKEW)), None),  # at the skew
    ("2024-03-01T11:59:00+03:00", None),  # an offset other than Z, one minute ago
    ("2024-03-01T08:59:30", None),  # no zone: read as UTC
])
def test_a_fresh_timestamp_is_accepted(created, expires):
    assert read(header(created=created, expires=expires)).username == "esb"


@pytest.mark.parametrize("created, expires", [
    (iso(NOW - timedelta(seconds=301)), None),  # stale
    (iso(NOW - timedelta(days=1)), iso(NOW + timedelta(days=1))),  # stale, whatever Expires says
    (iso(NOW + timedelta(seconds=301)), None),  # from the future
    (iso(NOW + timedelta(seconds=SKEW + 1)), None),  # ahead by more than the skew
    (iso(NOW - timedelta(seconds=10)), iso(NOW - timedelta(seconds=1))),  # expired
])
def test_a_stale_future_or_expired_timestamp_is_refused(created, expires):
    with pytest.raises(errors.AuthenticationFailed, match="stale"):
        read(header(created=created, expires=expires))


@pytest.mark.parametrize("created, expires", [("yesterday", None), ("", None), (None, iso(NOW)),
                                              (iso(NOW), "soon"), ("2024-13-45T99:00:00Z", None)])
def test_an_unreadable_timestamp_is_refused(created, expires):
    head = header(created=created, expires=expires)
    if created is None:  # a Timestamp with Expires only
        assert head.find(f"{{{WSSE}}}Security/{{{WSU}}}Timestamp") is not None
    with pytest.raises(errors.AuthenticationFailed, match="not readable"):
        read(head)


# --- the UsernameToken's own Created and Nonce (as WSS4J checks them) ---------------------------
NONCE = b"\x00\x01 sixteen bytes!"
NONCE_B64 = base64.b64encode(NONCE).decode()


@pytest.mark.parametrize("offset", [-MAX_AGE + 1, 0, SKEW - 1])
def test_a_token_created_within_the_window_is_accepted(offset):
    credentials = read(header(token_created=iso(NOW + timedelta(seconds=offset)), nonce=NONCE_B64))
    assert credentials.username == "esb" and credentials.nonce == NONCE


@pytest.mark.parametrize("offset", [-MAX_AGE - 1, -86400, SKEW + 1])
def test_a_token_created_too_long_ago_or_too_far_ahead_is_refused(offset):
    """Today's main ignores the token's Created: an envelope captured a day ago still passes."""
    with pytest.raises(errors.AuthenticationFailed, match="Created is stale"):
        read(header(token_created=iso(NOW + timedelta(seconds=offset)), nonce=NONCE_B64))
    with pytest.raises(errors.AuthenticationFailed, match="Created is stale"):  # with no Nonce too
        read(header(token_created=iso(NOW + timedelta(seconds=offset))))


def test_a_nonce_without_created_is_refused():
    """Its replay window could not be bounded (WSS4J refuses it likewise)."""
    with pytest.raises(errors.AuthenticationFailed, match="needs a wsu:Created"):
        read(header(nonce=NONCE_B64))


def test_a_token_with_neither_nonce_nor_created_is_still_accepted():
    """What zeep's and suds' PasswordText UsernameToken send: like Basic, no replay check."""
    assert read(header()).nonce is None


def test_the_nonce_is_decoded_whatever_its_line_breaks():
    spelled = NONCE_B64[:8] + "\n  " + NONCE_B64[8:]
    assert read(header(nonce=spelled, token_created=iso(NOW))).nonce == NONCE
    assert read(header(nonce=NONCE_B64, token_created=iso(NOW), nonce_encoding=None)).nonce == NONCE


@pytest.mark.parametrize("nonce, encoding", [("!!not base64!!", BASE64_BINARY), ("", BASE64_BINARY),
                                             (NONCE.hex(), "urn:example#HexBinary")])
def test_a_nonce_that_cannot_be_read_is_refused(nonce, encoding):
    with pytest.raises(errors.AuthenticationFailed, match="Nonce"):
        read(header(nonce=nonce, token_created=iso(NOW), nonce_encoding=encoding))


def test_an_unreadable_token_created_is_refused():
    with pytest.raises(errors.AuthenticationFailed, match="not readable"):
        read(header(token_created="an hour ago", nonce=NONCE_B64))


# --- Authenticator ------------------------------------------------------------------------
class CountingUowFactory:
    def __init__(self, world: World):
        self.world = world
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.world.uow.sibling()


@pytest.fixture
def world_with_client():
    world = World()
    _, secret = add_client("esb", Role.BANK, world.uow, world.box, world.clock, lambda: "s3cret-" + "k" * 30)
    return world, Credentials("esb", secret, "basic")


def test_a_verified_client_is_cached_for_the_ttl(world_with_client):
    world, credentials = world_with_client
    factory = CountingUowFactory(world)
    auth = Authenticator(factory, world.box, ttl=60.0)
    assert auth.verify(credentials) == Principal("esb", Role.BANK)
    assert auth.verify(credentials) == Principal("esb", Role.BANK)
    assert factory.calls == 1


def test_a_wrong_secret_is_never_served_from_the_cache(world_with_client):
    world, credentials = world_with_client
    factory = CountingUowFactory(world)
    auth = Authenticator(factory, world.box, ttl=60.0)
    auth.verify(credentials)
    for _ in range(2):
        with pytest.raises(errors.AuthenticationFailed):
            auth.verify(Credentials("esb", credentials.password + "x", "basic"))
    assert factory.calls == 3


def test_a_revoked_client_is_refused_once_the_ttl_has_passed(world_with_client):
    world, credentials = world_with_client
    auth = Authenticator(CountingUowFactory(world), world.box, ttl=0.05)
    auth.verify(credentials)
    revoke_client("esb", world.uow, world.clock)
    time.sleep(0.06)
    with pytest.raises(errors.AuthenticationFailed):
        auth.verify(credentials)


class CountingBox:
    """The real SecretBox, recording which stored hashes it was asked to verify against."""

    def __init__(self, box):
        self.box = box
        self.verified: list[str] = []

    def __getattr__(self, name):
        return getattr(self.box, name)

    def verify_secret(self, secret: str, stored_hash: str) -> bool:
        self.verified.append(stored_hash)
        return self.box.verify_secret(secret, stored_hash)


def test_unknown_and_revoked_clients_cost_a_hash_check_like_a_wrong_secret(world_with_client):
    """Today's main answers an unknown username without hashing: its answer is faster, telling
    which usernames exist. Each refusal now checks a hash (a dummy one when there is no client)."""
    world, credentials = world_with_client
    box = CountingBox(world.box)
    auth = Authenticator(CountingUowFactory(world), box, ttl=60.0)
    with pytest.raises(errors.AuthenticationFailed):
        auth.verify(Credentials("esb", "a-wrong-secret", "basic"))
    with pytest.raises(errors.AuthenticationFailed):
        auth.verify(Credentials("nobody", credentials.password, "basic"))
    revoke_client("esb", world.uow, world.clock)
    with pytest.raises(errors.AuthenticationFailed):
        auth.verify(credentials)
    assert len(box.verified) == 3
    assert box.verified[1] == box.verified[2] == world.box.dummy_hash()
    assert box.verified[0] != world.box.dummy_hash()


def test_the_dummy_hash_is_a_real_hash_that_no_secret_matches():
    box = secret_box()
    scheme, salt, digest = box.dummy_hash().split("$")
    assert scheme == "hmac-sha256" and salt and len(digest) == 64
    assert not box.verify_secret("", box.dummy_hash())


# --- authorize(): the contract's table ------------------------------------------------------
CONTRACT_ROLES = {
    "RegisterCustomer": {"bank", "admin"},
    "GetCustomer": {"bank", "admin"},
    "SubmitLoan": {"bank", "admin"},
    "GetLoanStatus": {"bank", "admin"},
    "ListLoans": {"bank", "admin"},
    "CancelLoan": {"bank", "admin"},
    "RepayLoan": {"bank", "admin"},
    "ScoringRegister": {"admin"},
    "GetTransactions": {"scoring", "admin"},
}


@pytest.mark.parametrize("operation", sorted(CONTRACT_ROLES))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_call_exactly_its_operations(operation, role):
    principal = Principal("caller", role)
    if role.value in CONTRACT_ROLES[operation]:
        authorize(principal, SOAP_OPERATIONS[operation])
    else:
        with pytest.raises(errors.NotAuthorized) as refused:
            authorize(principal, SOAP_OPERATIONS[operation])
        assert refused.value.faultcode == "Client.NotAuthorized"


def test_the_roles_are_the_contracts_three():
    assert {role.value for role in Role} == {"bank", "scoring", "admin"}


@pytest.mark.parametrize("role", list(Role))
def test_an_unknown_operation_is_refused_to_everyone(role):
    with pytest.raises(errors.NotAuthorized):
        authorize(Principal("caller", role), UNKNOWN)
