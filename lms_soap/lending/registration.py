"""Use case: register the LMS with the scoring engine (createClient), rotating credentials."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .api_clients import add_client
from .model import Role, ScoringRegistration
from .ports import Clock, ScoringEngine, SecretBox, UnitOfWork

#: The API client the scoring engine uses to pull transaction data (HTTP Basic).
SCORING_USERNAME = "scoring-engine"


@dataclass(frozen=True)
class RegistrationDefaults:
    """The name and transaction-data URL a registration gets when its caller gives none
    (SCORING_CLIENT_NAME; SCORING_TRANSACTIONS_URL or LMS_PUBLIC_URL/api/v1/transactions)."""
    name: str
    url: str


def register_with_scoring_engine(name: str | None, url: str | None, uow: UnitOfWork, engine: ScoringEngine,
                                 box: SecretBox, clock: Clock, generate_secret: Callable[[], str], *,
                                 defaults: RegistrationDefaults | None = None) -> ScoringRegistration:
    """Generate fresh credentials, give them to the engine with createClient, then store the
    engine's token (encrypted) and the credentials' hash. Calling again rotates both. An empty
    `name` or `url` is taken from `defaults`.

    The engine is called first: if it refuses, nothing changes here and the old credentials
    keep working; if our commit failed afterwards, a retry rotates again.
    """
    if defaults is not None:
        name, url = name or defaults.name, url or defaults.url
    if not name or not url:
        raise ValueError("a scoring registration needs a name and a URL")
    password = generate_secret()
    engine_client = engine.create_client(url, name, SCORING_USERNAME, password)
    add_client(SCORING_USERNAME, Role.SCORING, uow, box, clock, generate_secret=lambda: password,
               description=f"scoring engine {name}", rotate=True)
    with uow:
        registration = uow.registrations.get()
        token = box.encrypt(engine_client.token)
        if registration is None:
            registration = ScoringRegistration(client_id=str(engine_client.client_id), name=name,
                                               url=url, username=SCORING_USERNAME,
                                               token_ciphertext=token, registered_at=clock.now())
            uow.registrations.add(registration)
        else:
            registration.client_id = str(engine_client.client_id)
            registration.name, registration.url = name, url
            registration.username = SCORING_USERNAME
            registration.token_ciphertext = token
            registration.registered_at = clock.now()
        uow.commit()
        return registration
