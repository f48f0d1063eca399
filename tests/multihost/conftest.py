"""The multi-host checks: one cluster (tests/multihost/cluster.py) for the whole session.

They are marked `multihost` and deselected from the default run (setup.cfg); run them with
`python -m tests.multihost` (or `pytest -m multihost tests/multihost`). Each check prints one line,
`multihost check <name>: PASS|FAIL (<seconds> s)`. A machine without network namespaces FAILS the
session: nothing is skipped.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from .netns import namespaces_supported

HERE = Path(__file__).resolve().parent
_blocks = itertools.count(761_000_000, 10_000)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.multihost)


@pytest.fixture(scope="session")
def cluster():
    from .cluster import Cluster

    ok, why = namespaces_supported()
    if not ok:
        pytest.fail(f"the multi-host harness needs network namespaces: {why}", pytrace=False)
    with Cluster(keep_logs=os.environ.get("LMS_MULTIHOST_KEEP_LOGS", "") == "1") as c:
        yield c


@pytest.fixture
def customers(cluster):
    """customers(n): n new registered customers, never shared between checks."""
    return lambda count: cluster.register_customers(next(_blocks), count)


@pytest.hookimpl(trylast=True)  # after the terminal reporter's progress mark
def pytest_runtest_logreport(report):
    if "multihost" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        verdict = "PASS" if report.passed else "FAIL"
        line = f"multihost check {report.nodeid.rsplit('::', 1)[-1]}: {verdict} ({report.duration:.1f} s)"
        reporter = _reporter
        if reporter is not None:
            reporter.write("\n")  # after the progress mark of -q
            reporter.write_line(line)
        else:
            print(line, flush=True)


_reporter = None


def pytest_configure(config):
    global _reporter
    _reporter = config.pluginmanager.get_plugin("terminalreporter")
