"""What the worker reads of RQ's internals (written against rq 2.x-3.x, checked by
tests/unit/test_library_seams.py).

RQ's work loop returns both when Redis goes away and on a warm shutdown (SIGTERM/SIGINT); the
worker restarts it after the first but must stop after the second. RQ has no public way to tell
them apart: it records the shutdown in the private attribute `_shutdown_requested_date`.
"""
from __future__ import annotations

#: The rq major versions whose Worker records a warm shutdown in _shutdown_requested_date.
RQ_MAJORS = (2, 3)


def shutdown_requested(worker) -> bool:
    """True when `worker`'s loop ended because a warm shutdown was asked for."""
    return bool(getattr(worker, "_shutdown_requested_date", None))
