"""Use cases: manage the API clients that may call the LMS, and authenticate them."""
from __future__ import annotations

import re
from typing import Callable, Sequence

from . import errors
from .model import ApiClient, Role
from .ports import Clock, SecretBox, UnitOfWork

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")


def add_client(username: str, role: Role, uow: UnitOfWork, box: SecretBox, clock: Clock,
               generate_secret: Callable[[], str], description: str | None = None,
               rotate: bool = False) -> tuple[ApiClient, str]:
    """Create an API client (or, with rotate=True, give an existing one a new secret and role).

    Returns the client and its secret: the only time the secret exists in clear.
    """
    if not USERNAME.match(username):
        raise ValueError("username: 3-64 characters among letters, digits, '.', '_' and '-'")
    secret = generate_secret()
    with uow:
        client = uow.api_clients.get(username)
        if client is not None and not rotate:
            raise ValueError(f"an API client named {username!r} exists; revoke it or rotate it")
        if client is None:
            client = ApiClient(username=username, role=Role(role), secret_hash=box.hash_secret(secret),
                               created_at=clock.now(), description=description)
            uow.api_clients.add(client)
        else:
            client.role = Role(role)
            client.secret_hash = box.hash_secret(secret)
            client.revoked_at = None
        uow.commit()
    return client, secret


def list_clients(uow: UnitOfWork) -> Sequence[ApiClient]:
    with uow:
        return list(uow.api_clients.list())


def revoke_client(username: str, uow: UnitOfWork, clock: Clock) -> ApiClient:
    with uow:
        client = uow.api_clients.get(username)
        if client is None:
            raise ValueError(f"no API client named {username!r}")
        if client.revoked_at is None:
            client.revoked_at = clock.now()
        uow.commit()
        return client


def authenticate(username: str, secret: str, uow: UnitOfWork, box: SecretBox) -> ApiClient:
    with uow:
        client = uow.api_clients.get(username)
    known = client is not None and client.active
    # An unknown or revoked client costs the same hash check as a wrong secret, so the time an
    # answer takes does not tell which usernames exist.
    matches = box.verify_secret(secret, client.secret_hash if known else box.dummy_hash())
    if not (known and matches):
        raise errors.AuthenticationFailed("unknown client or wrong secret")
    return client
