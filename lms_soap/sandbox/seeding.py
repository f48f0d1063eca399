"""The sandbox's seeding: the product SANDBOX_FAST, the registration with the scoring simulator
and the API clients whose credentials the sandbox prints (kept across restarts)."""
from __future__ import annotations

from typing import Any

from lms_soap.config import Settings

from .state import StateDir
from .supervisor import SandboxError

SANDBOX_CLIENTS = {"bank": ("sandbox-bank", "bank"), "scoring": ("sandbox-scoring", "scoring"),
                   "admin": ("sandbox-admin", "admin")}


def register_and_create_clients(settings: Settings, state: StateDir) -> dict[str, Any]:
    """createClient at the scoring simulator, then the bank/scoring/admin API clients (their
    passwords kept from credentials.json when present). Returns the new credentials.json content."""
    from lms_soap.bootstrap import build_container
    from lms_soap.crypto import generate_secret
    from lms_soap.lending.api_clients import add_client
    from lms_soap.lending.errors import LendingError
    from lms_soap.lending.model import Role
    from lms_soap.lending.registration import register_with_scoring_engine

    previous = state.credentials()
    credentials: dict[str, Any] = {
        "lms_url": settings.public_url, "wsdl_url": f"{settings.soap_url}?wsdl",
        "cbs_url": settings.cbs_customer_url.rsplit("/service/", 1)[0],
        "scoring_url": settings.scoring_base_url,
    }
    c = build_container(settings)
    try:
        from lms_soap.lending.lifecycle import ensure_product
        from lms_soap.lending.products import SANDBOX_FAST

        ensure_product(SANDBOX_FAST, c.uow())  # idempotent: kept across restarts
        try:
            register_with_scoring_engine(None, None, c.uow(), c.scoring_engine, c.box, c.clock,
                                         generate_secret, defaults=c.registration_defaults)
        except LendingError as exc:
            raise SandboxError(f"registration with the scoring simulator failed: {exc.message}") from None
        for key, (username, role) in SANDBOX_CLIENTS.items():
            old = previous.get(key) if isinstance(previous.get(key), dict) else {}
            kept = old.get("password") if old.get("username") == username else None
            _, password = add_client(username, Role(role), c.uow(), c.box, c.clock,
                                     (lambda: kept) if kept else generate_secret,
                                     description=f"sandbox {role} client", rotate=True)
            credentials[key] = {"username": username, "password": password}
    finally:
        c.close()
    return credentials
