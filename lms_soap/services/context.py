"""What a handler reaches through Spyne's ctx: the process's container and the request's notes."""
from __future__ import annotations

from typing import Any

ENV_OUTCOME = "lms.outcome"


def deps(ctx) -> Any:
    """The composition root built once per process (bootstrap.Container)."""
    return ctx.app.config


def note(ctx, *, customer: str | None = None, loan: str | None = None) -> None:
    """Record which customer and loan a call touched, for the audit log and the logs."""
    outcome = ctx.transport.req_env.setdefault(ENV_OUTCOME, {})
    if customer:
        outcome["customer"] = customer
    if loan:
        outcome["loan"] = loan
