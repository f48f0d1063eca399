"""What a handler reaches through Spyne's ctx: the process's container and the request's notes."""
from __future__ import annotations

from typing import Any

ENV_OUTCOME = "lms.outcome"
ENV_CONTAINER = "lms.container"


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
