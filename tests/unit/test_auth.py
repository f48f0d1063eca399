"""Who is calling (services/auth.py): HTTP Basic, WS-Security UsernameToken with wsu:Timestamp,
the credential cache, and the contract's role table."""
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

from .world import World

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PASSWORD_DIGEST = PASSWORD_TEXT.replace("#PasswordText", "#PasswordDigest")
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
MAX_AGE = 300


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
           token=True, security=True) -> etree._Element:
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
    return head


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def read(head) -> Credentials | None:
    return wsse_credentials(head, NOW, MAX_AGE)


def test_a_password_text_username_token_is_read():
    assert read(header()) == Credentials("esb", "s3cret", "wsse")
    assert read(header(password_type=None)) == Credentials("esb", "s3cret", "wsse")  # Type defaults to text


def test_no_header_or_no_security_means_no_wsse_credentials():
    assert read(None) is None
    assert read(header(security=False)) is None


@pytest.mark.parametrize("broken", [dict(password=None), dict(username=None), dict(username="  "),
                                    dict(token=False), dict(password_type=PASSWORD_DIGEST)])
def test_incomplete_or_digest_tokens_are_refused(broken):
    with pytest.raises(errors.AuthenticationFailed):
        read(header(**broken))


@pytest.mark.parametrize("created, expires", [
    (iso(NOW - timedelta(seconds=10)), iso(NOW + timedelta(minutes=5))),
    (iso(NOW - timedelta(seconds=299)), None),
    (iso(NOW + timedelta(seconds=30)), None),  # a little clock skew
    ("2024-03-01T11:59:00+03:00", None),  # an offset other than Z, one minute ago
    ("2024-03-01T08:59:30", None),  # no zone: read as UTC
])
def test_a_fresh_timestamp_is_accepted(created, expires):
    assert read(header(created=created, expires=expires)).username == "esb"


@pytest.mark.parametrize("created, expires", [
    (iso(NOW - timedelta(seconds=301)), None),  # stale
    (iso(NOW - timedelta(days=1)), iso(NOW + timedelta(days=1))),  # stale, whatever Expires says
    (iso(NOW + timedelta(seconds=301)), None),  # from the future
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
        authorize(principal, operation)
    else:
        with pytest.raises(errors.NotAuthorized) as refused:
            authorize(principal, operation)
        assert refused.value.faultcode == "Client.NotAuthorized"


def test_the_roles_are_the_contracts_three():
    assert {role.value for role in Role} == {"bank", "scoring", "admin"}


@pytest.mark.parametrize("role", list(Role))
def test_an_unknown_operation_is_refused_to_everyone(role):
    with pytest.raises(errors.NotAuthorized):
        authorize(Principal("caller", role), "DropAllTables")
