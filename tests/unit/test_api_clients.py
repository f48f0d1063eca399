"""API clients (lending.api_clients) and the registration with the scoring engine
(lending.registration), with the real KeyedSecretBox and fakes of everything else."""
from __future__ import annotations

import itertools

import pytest

from lms_soap.crypto import KeyedSecretBox
from lms_soap.lending import errors
from lms_soap.lending.api_clients import add_client, authenticate, list_clients, revoke_client
from lms_soap.lending.model import Role
from lms_soap.lending.registration import SCORING_USERNAME, RegistrationDefaults, register_with_scoring_engine

from .world import World

URL = "https://lms.bank.test/api/v1/transactions"


@pytest.fixture
def world() -> World:
    return World()


def secrets_in_order():
    counter = itertools.count(1)
    return lambda: f"s3cret-{next(counter):02d}-" + "x" * 30


def add(world: World, username="esb", role=Role.BANK, generate=None, **options):
    return add_client(username, role, world.uow, world.box, world.clock,
                      generate_secret=generate or secrets_in_order(), **options)


def test_a_new_client_gets_its_secret_once_and_only_a_hash_is_stored(world):
    client, secret = add(world, "esb", Role.BANK, description="the bank's ESB")
    stored = world.uow.database.api_clients["esb"]
    assert (stored.role, stored.description, stored.created_at, stored.active) == (
        Role.BANK, "the bank's ESB", world.clock.now(), True)
    assert secret not in repr(stored) and stored.secret_hash != secret
    assert world.box.verify_secret(secret, stored.secret_hash)
    assert not world.box.verify_secret(secret + "x", stored.secret_hash)


def test_the_stored_hash_is_salted_and_keyed(world):
    box = world.box
    first, second = box.hash_secret("same"), box.hash_secret("same")
    assert first != second and box.verify_secret("same", first) and box.verify_secret("same", second)
    assert not KeyedSecretBox("another-key").verify_secret("same", first)
    assert not box.verify_secret("same", "md5$abc$def") and not box.verify_secret("same", "garbage")


def test_the_client_authenticates_with_its_secret_only(world):
    _, secret = add(world, "esb", Role.BANK)
    assert authenticate("esb", secret, world.uow, world.box).role is Role.BANK
    for username, password in [("esb", "wrong"), ("esb", ""), ("nobody", secret), ("ESB", secret)]:
        with pytest.raises(errors.AuthenticationFailed):
            authenticate(username, password, world.uow, world.box)


def test_a_username_is_taken_once(world):
    _, secret = add(world, "esb")
    with pytest.raises(ValueError, match="exists"):
        add(world, "esb", Role.ADMIN)
    assert world.uow.database.api_clients["esb"].role is Role.BANK
    assert authenticate("esb", secret, world.uow, world.box).role is Role.BANK


@pytest.mark.parametrize("username", ["ab", "with space", "x" * 65, "semi;colon", "", "ünïcode"])
def test_unusable_usernames_are_refused(world, username):
    with pytest.raises(ValueError):
        add(world, username)
    assert world.uow.database.api_clients == {}


def test_rotating_gives_a_new_secret_and_the_old_one_stops_working(world):
    generate = secrets_in_order()
    _, old = add(world, "esb", Role.BANK, generate)
    _, new = add(world, "esb", Role.ADMIN, generate, rotate=True)
    assert new != old
    assert authenticate("esb", new, world.uow, world.box).role is Role.ADMIN
    with pytest.raises(errors.AuthenticationFailed):
        authenticate("esb", old, world.uow, world.box)


def test_a_revoked_client_cannot_authenticate_and_rotation_revives_it(world):
    _, secret = add(world, "esb")
    revoked = revoke_client("esb", world.uow, world.clock)
    assert revoked.revoked_at == world.clock.now() and not revoked.active
    with pytest.raises(errors.AuthenticationFailed):
        authenticate("esb", secret, world.uow, world.box)
    _, fresh = add(world, "esb", rotate=True, generate=lambda: "fresh-secret-" + "y" * 30)
    assert authenticate("esb", fresh, world.uow, world.box).username == "esb"


def test_revoking_twice_keeps_the_first_date_and_unknown_names_are_refused(world):
    add(world, "esb")
    first = revoke_client("esb", world.uow, world.clock).revoked_at
    world.clock.advance(60)
    assert revoke_client("esb", world.uow, world.clock).revoked_at == first
    with pytest.raises(ValueError):
        revoke_client("nobody", world.uow, world.clock)


def test_clients_are_listed_by_name(world):
    for name in ("zeta", "alpha", "mid"):
        add(world, name)
    assert [c.username for c in list_clients(world.uow)] == ["alpha", "mid", "zeta"]


# --- ScoringRegister --------------------------------------------------------------------
def register(world: World, generate=None, name="lms-soap", url=URL):
    return register_with_scoring_engine(name, url, world.uow, world.engine, world.box, world.clock,
                                        generate or secrets_in_order())


def test_registration_stores_the_engine_token_encrypted(world):
    registration = register(world)
    stored = world.uow.database.registration
    assert (stored.client_id, stored.name, stored.url, stored.username, stored.registered_at) == (
        "1", "lms-soap", URL, SCORING_USERNAME, world.clock.now())
    assert "client-token-1" not in stored.token_ciphertext
    assert world.box.decrypt(stored.token_ciphertext) == "client-token-1"
    assert registration == stored


def test_registration_creates_the_scoring_client_with_the_password_sent_to_the_engine(world):
    register(world)
    [body] = world.engine.clients
    assert (body["url"], body["name"], body["username"]) == (URL, "lms-soap", SCORING_USERNAME)
    assert len(body["password"]) >= 32
    client = authenticate(SCORING_USERNAME, body["password"], world.uow, world.box)
    assert client.role is Role.SCORING
    assert body["password"] not in world.uow.database.api_clients[SCORING_USERNAME].secret_hash


def test_a_registration_without_name_or_url_takes_the_configured_defaults(world):
    defaults = RegistrationDefaults(name="lms-configured", url="https://lms.bank.example/api/v1/transactions")
    registration = register_with_scoring_engine(None, "", world.uow, world.engine, world.box, world.clock,
                                                secrets_in_order(), defaults=defaults)
    [body] = world.engine.clients
    assert (body["name"], body["url"]) == (defaults.name, defaults.url)
    assert (registration.name, registration.url) == (defaults.name, defaults.url)
    register_with_scoring_engine("given", URL, world.uow, world.engine, world.box, world.clock,
                                 secrets_in_order(), defaults=defaults)
    assert (world.engine.clients[-1]["name"], world.engine.clients[-1]["url"]) == ("given", URL)


def test_registering_again_rotates_the_password_and_the_token(world):
    generate = secrets_in_order()
    register(world, generate)
    world.clock.advance(3600)
    register(world, generate, name="lms-soap-2")
    old, new = (body["password"] for body in world.engine.clients)
    assert old != new
    assert authenticate(SCORING_USERNAME, new, world.uow, world.box).role is Role.SCORING
    with pytest.raises(errors.AuthenticationFailed):
        authenticate(SCORING_USERNAME, old, world.uow, world.box)
    stored = world.uow.database.registration
    assert world.box.decrypt(stored.token_ciphertext) == "client-token-2"
    assert (stored.client_id, stored.name, stored.registered_at) == ("2", "lms-soap-2", world.clock.now())


def test_an_engine_failure_changes_nothing(world):
    register(world)
    password = world.engine.clients[0]["password"]
    before = (dict(world.uow.database.api_clients), world.uow.database.registration)
    world.engine.unavailable = True
    with pytest.raises(errors.ScoringEngineUnavailable):
        register(world, generate=lambda: "never-used-" + "z" * 30)
    assert (dict(world.uow.database.api_clients), world.uow.database.registration) == before
    assert authenticate(SCORING_USERNAME, password, world.uow, world.box).role is Role.SCORING


def test_a_first_registration_that_fails_stores_nothing(world):
    world.engine.unavailable = True
    with pytest.raises(errors.ScoringEngineUnavailable):
        register(world)
    assert world.uow.database.api_clients == {} and world.uow.database.registration is None
    assert world.uow.commits == 0
