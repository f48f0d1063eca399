"""The worker process's container, built once at worker start-up (never at import time)."""
from __future__ import annotations

from lms_soap.bootstrap import Container, build_container
from lms_soap.config import load_settings

_container: Container | None = None


def install(container: Container) -> None:
    global _container
    _container = container


def current() -> Container:
    """The container installed by the worker; built from the environment if a job runs elsewhere."""
    global _container
    if _container is None:
        _container = build_container(load_settings())
    return _container
