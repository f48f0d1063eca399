"""What the scoring simulator keeps (its clients, its tickets) and how it answers (JSON replies)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .scoring_data import Outcome

JSON_TYPE = "application/json"


@dataclass
class _Client:
    id: int
    url: str
    name: str
    username: str
    password: str
    token: str


@dataclass
class _Ticket:
    """One initiated scoring: whose, for which customer, how many polls so far."""

    id: int
    client_token: str
    customer_number: str
    outcome: Outcome
    polls: int = 0


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json_reply(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode(), JSON_TYPE, headers or [])


def _error(status: int, message: str) -> _Reply:
    return _json_reply(status, {"status": status, "error": message})
