"""Every outbound call has a total deadline, not only a timeout per read (issue 10, defect 5).

A slow-drip dependency sends a few bytes at a time, each gap well under the read timeout, slow
headers or a slow body: the call must still end in its Server.*Unavailable error within the
deadline plus a small slack. The drip lasts 30 s, so without a deadline the bounds below fail.
"""
from __future__ import annotations

import time

import pytest

from lms_soap.clients.core_banking import ZeepCoreBanking
from lms_soap.clients.scoring_engine import HttpScoringEngine
from lms_soap.lending.errors import CoreBankingUnavailable, ScoringEngineUnavailable
from tests.conftest import make_settings, serve_lms
from tests.support.drip_server import DripServer
from tests.support.servers import free_port
from tests.support.soap import faultcode

READ_TIMEOUT = 1.0  # each drip (every 0.2 s) comes well within it
DEADLINE = 2.0
#: What the call may take beyond its deadline (thread scheduling on a loaded machine): a bound on
#: a call that would otherwise take 30 s, not a measure of speed.
SLACK = 2.0
DRIPS = ("headers", "body")


def _settings(url: str, **overrides):
    return make_settings("sqlite://", cbs_customer_url=f"{url}/service/customer",
                         cbs_transactions_url=f"{url}/service/transaction-data", scoring_base_url=url,
                         cbs_read_timeout=READ_TIMEOUT, scoring_read_timeout=READ_TIMEOUT,
                         cbs_call_deadline=DEADLINE, scoring_call_deadline=DEADLINE, **overrides)


def _bounded(call, error):
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call()
    elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + SLACK, f"the call ran {elapsed:.1f} s, past its {DEADLINE} s deadline"
    return raised.value


@pytest.mark.parametrize("drip", DRIPS)
def test_a_slow_drip_core_banking_system_fails_within_the_deadline(drip):
    with DripServer(drip) as url:
        cbs = ZeepCoreBanking.from_settings(_settings(url))
        try:
            _bounded(lambda: cbs.fetch_customer("234774784"), CoreBankingUnavailable)
            _bounded(lambda: cbs.fetch_transactions("234774784"), CoreBankingUnavailable)
        finally:
            cbs.close()


@pytest.mark.parametrize("drip", DRIPS)
def test_a_slow_drip_scoring_engine_fails_within_the_deadline(drip):
    with DripServer(drip) as url:
        engine = HttpScoringEngine.from_settings(_settings(url))
        try:
            error = _bounded(lambda: engine.initiate("234774784", "client-token"), ScoringEngineUnavailable)
            assert "timed out" in error.message
            _bounded(lambda: engine.query_score("score-token", "client-token"), ScoringEngineUnavailable)
        finally:
            engine.close()


def test_a_healthy_dependency_is_not_cut_by_the_deadline(cbs_url, scoring_sim):
    """The deadline bounds the call, it does not shorten a normal one (nor break pooled reuse)."""
    settings = make_settings("sqlite://", cbs_customer_url=f"{cbs_url}/service/customer",
                             cbs_transactions_url=f"{cbs_url}/service/transaction-data",
                             cbs_call_deadline=DEADLINE)
    cbs = ZeepCoreBanking.from_settings(settings)
    try:
        for _ in range(3):  # the same pooled connection, call after call
            assert cbs.fetch_customer("234774784").customer_number == "234774784"
            assert len(cbs.fetch_transactions("234774784")) > 0
    finally:
        cbs.close()


def test_register_customer_on_a_slow_drip_cbs_is_a_core_banking_fault_within_the_deadline(db):
    with DripServer("body") as cbs:
        port = free_port()
        settings = _settings(cbs, public_url=f"http://127.0.0.1:{port}").replace(database_url=db)
        with serve_lms(settings, port) as lms:
            response, elapsed = lms.timed_call(
                "RegisterCustomer", "<tns:customerNumber>234774784</tns:customerNumber>", timeout=60)
    assert faultcode(response) == "Server.CoreBankingUnavailable"
    assert elapsed < DEADLINE + SLACK, f"RegisterCustomer held its thread {elapsed:.1f} s"
