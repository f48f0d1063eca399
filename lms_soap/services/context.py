"""What a handler reaches through Spyne's ctx: the process's container, who calls, and the notes
of the request (all kept in its RequestContext, services/request_context.py)."""
from __future__ import annotations

from typing import Any

from lms_soap.lending.model import Caller

from .request_context import RequestContext


def deps(ctx) -> Any:
    """The composition root (bootstrap.Container) of the app serving this request.

    It travels in the request context rather than in Application(config=...): Spyne keeps
    per-process global state for an application's messages, and a second Application built
    from the same operations in one process answered empty responses, so the Spyne
    application is built once per process and shared by every LmsApp (tests build several).
    """
    return RequestContext.of_spyne(ctx).container


def note(ctx, *, customer: str | None = None, loan: str | None = None) -> None:
    """Record which customer and loan a call touched, for the audit log and the logs."""
    RequestContext.of_spyne(ctx).note(customer=customer, loan=loan)


def caller(ctx) -> Caller:
    """The authenticated API client of this request, as the use cases know it (the one place
    handlers learn who calls)."""
    principal = RequestContext.of_spyne(ctx).principal
    return Caller(principal.username, principal.role)
