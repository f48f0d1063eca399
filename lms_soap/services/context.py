"""What a handler reaches through Spyne's ctx: the process's container and the request's notes."""
from __future__ import annotations

from typing import Any

from lms_soap.lending.model import Caller

ENV_OUTCOME = "lms.outcome"
ENV_CONTAINER = "lms.container"
#: Set by web/gateway.py once the credentials are verified (a services.auth.Principal).
ENV_PRINCIPAL = "lms.principal"


def deps(ctx) -> Any:
    """The composition root (bootstrap.Container) of the app serving this request.

    It travels in the WSGI environ rather than in Application(config=...): Spyne keeps
    per-process global state for an application's messages, and a second Application built
    from the same operations in one process answered empty responses, so the Spyne
    application is built once per process and shared by every LmsApp (tests build several).
    """
    return ctx.transport.req_env[ENV_CONTAINER]


def note(ctx, *, customer: str | None = None, loan: str | None = None) -> None:
    """Record which customer and loan a call touched, for the audit log and the logs."""
    outcome = ctx.transport.req_env.setdefault(ENV_OUTCOME, {})
    if customer:
        outcome["customer"] = customer
    if loan:
        outcome["loan"] = loan


def caller(ctx) -> Caller:
    """The authenticated API client of this request, as the use cases know it.

    The one place handlers learn who calls: the gateway leaves the principal in the WSGI environ
    today; when it moves into a typed request context, only this function changes."""
    principal = ctx.transport.req_env[ENV_PRINCIPAL]
    return Caller(principal.username, principal.role)
