"""Hot statements built once and reused (the repositories' reads and claims)."""
from __future__ import annotations

from typing import Any, Callable

_statements: dict[str, Any] = {}


def prebuilt(key: str, build: Callable[[], Any]) -> Any:
    """A hot query, built once with bound parameters and reused: building a Select (operators,
    coercions, load options) cost more than SQLAlchemy's cached compilation of it. Built at first
    use: the mapping exists only after start_mappers()."""
    stmt = _statements.get(key)
    if stmt is None:
        stmt = _statements[key] = build()
    return stmt
