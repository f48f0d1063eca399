"""Garbage collection tuned for a long-lived server process (bench/README.md has the figures);
written against spyne 2.14, checked by tests/unit/test_library_seams.py.

- Spyne runs a full gc.collect() at most once a second at the end of a request (for the files of
  attachments, which the LMS never receives), paced by `spyne.const.MIN_GC_INTERVAL`. With the
  LMS's ~100 000 objects that pause took tens of milliseconds, holding the GIL over every thread
  of the worker: the p99 of every operation. Python's own generational collection still runs.
- gc.freeze() moves everything built so far (modules, Spyne, zeep and SQLAlchemy metadata, the
  container) out of the collector's sight: it lives as long as the process anyway, so no
  collection needs to walk it again.
"""
from __future__ import annotations

import gc

import spyne.const

#: The spyne version whose MIN_GC_INTERVAL paces that forced collection.
SPYNE_VERSION = "2.14.0"


def tune_for_server() -> None:
    """Call once, after the application is built."""
    spyne.const.MIN_GC_INTERVAL = float("inf")
    gc.freeze()
