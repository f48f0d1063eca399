"""The worker process's container, installed once at worker start-up (never at import time).

A job reaches the container only through `current()`; there is no fallback that would build a
second composition root from the environment behind the worker's back.
"""
from __future__ import annotations

from lms_soap.bootstrap import Container

_container: Container | None = None


class NoContainerInstalled(RuntimeError):
    """A job ran in a process whose worker did not install a container."""


def install(container: Container | None) -> None:
    global _container
    _container = container


def current() -> Container:
    """The container the worker installed (jobs/worker.py run_worker)."""
    if _container is None:
        raise NoContainerInstalled(
            "no container installed: jobs run inside `lms-soap worker` (jobs.worker.run_worker), "
            "or call jobs.context.install(build_container(settings)) first")
    return _container
