"""Every workaround of a library's behaviour lives in one module named after it, written against
one version of that library. An upgrade past that version fails here, naming the module to
re-check, instead of silently breaking (or silently losing) the workaround."""
from __future__ import annotations

from importlib.metadata import version

import pytest

from jobs import rq_compat
from lms_soap import gc_tuning
from lms_soap.services import instances, serializer
from lms_soap.web import server_errors


def _major_minor(distribution: str) -> tuple[int, int]:
    major, minor = version(distribution).split(".")[:2]
    return int(major), int(minor)


#: (distribution, the versions the seam was written against, the modules to re-check)
SEAMS = [
    ("spyne", lambda v: version("spyne") == serializer.SPYNE_VERSION == gc_tuning.SPYNE_VERSION
     == instances.SPYNE_VERSION,
     "lms_soap/services/serializer.py (FastSoap11), lms_soap/gc_tuning.py (MIN_GC_INTERVAL), "
     "lms_soap/services/instances.py (ComplexModelBase.__init__)"),
    ("SQLAlchemy", lambda v: v[0] == 2,
     "lms_soap/models/reads_without_begin.py, pool_ping.py, autocommit_insert.py"),
    ("psycopg2-binary", lambda v: v[:2] == (2, 9),
     "lms_soap/models/reads_without_begin.py, pool_ping.py, autocommit_insert.py"),
    ("gunicorn", lambda v: v[0] == server_errors.GUNICORN_MAJOR,
     "lms_soap/web/server_errors.py (write_error, http.wsgi.create), "
     "lms_soap/web/balanced_worker.py (ThreadWorker's accept loop)"),
    ("rq", lambda v: v[0] in rq_compat.RQ_MAJORS, "jobs/rq_compat.py (_shutdown_requested_date)"),
    ("requests", lambda v: v[0] == 2, "lms_soap/clients/environment.py, lms_soap/clients/deadline.py"),
    ("urllib3", lambda v: v[0] == 2, "lms_soap/clients/deadline.py (connection and response classes)"),
    ("zeep", lambda v: v[:2] == (4, 3), "lms_soap/clients/core_banking.py (_LocalTransport.post)"),
]


@pytest.mark.parametrize("distribution, written_against, module", SEAMS, ids=[s[0] for s in SEAMS])
def test_each_library_is_the_version_its_workaround_was_written_against(distribution, written_against,
                                                                        module):
    assert written_against(_major_minor(distribution)), (
        f"{distribution} is now {version(distribution)}: re-check {module} against it, "
        f"then update the version it names")


def test_rq_still_records_a_warm_shutdown_where_the_worker_looks():
    from rq.worker import BaseWorker

    # RQ sets the attribute in request_stop (its SIGTERM/SIGINT handler); the worker reads it
    # after work() returns, through rq_compat.
    assert "_shutdown_requested_date" in BaseWorker.request_stop.__code__.co_names, \
        "rq no longer records a warm shutdown in _shutdown_requested_date: re-check jobs/rq_compat.py"
    worker = type("W", (), {"_shutdown_requested_date": object()})()
    assert rq_compat.shutdown_requested(worker)
    assert not rq_compat.shutdown_requested(object())


def test_spyne_still_paces_its_forced_collection_with_min_gc_interval():
    import spyne.const

    assert hasattr(spyne.const, "MIN_GC_INTERVAL")


def test_gthread_still_accepts_through_the_methods_the_balanced_worker_wraps():
    import inspect

    from gunicorn.workers.gthread import ThreadWorker

    # BalancedThreadWorker overrides accept, set_accept_enabled and wait_for_and_dispatch_events,
    # and reads nr_conns and _accepting; the run loop must still re-enable accepting through
    # set_accept_enabled and wait through wait_for_and_dispatch_events.
    run = inspect.getsource(ThreadWorker.run)
    assert "self.set_accept_enabled(" in run and "self.wait_for_and_dispatch_events(" in run, \
        "gthread's run loop changed: re-check lms_soap/web/balanced_worker.py"
    assert "self.nr_conns += 1" in inspect.getsource(ThreadWorker.accept)
    assert "self._accepting = enabled" in inspect.getsource(ThreadWorker.set_accept_enabled)
