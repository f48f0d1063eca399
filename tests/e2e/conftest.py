"""End-to-end fixtures: the LMS under gunicorn and a real worker process, with the simulators."""
from __future__ import annotations

import time

import pytest

from lms_soap.bootstrap import build_container
from lms_soap.crypto import generate_secret
from lms_soap.lending.api_clients import add_client
from lms_soap.lending.model import Role
from lms_soap.lending.registration import register_with_scoring_engine
from tests.conftest import make_settings
from tests.support.processes import Gunicorn, Worker
from tests.support.soap import zeep_client

FINAL = {"APPROVED", "DISBURSED", "REJECTED", "FAILED", "CANCELLED", "CLOSED"}


class Stack:
    """gunicorn LMS (+ optional worker) with API clients and the scoring registration in place."""

    def __init__(self, settings, gunicorn: Gunicorn):
        self.settings = gunicorn.settings
        self.url = gunicorn.url
        self.wsdl_url = f"{self.url}/soap?wsdl"
        self.gunicorn = gunicorn
        self.container = build_container(self.settings)
        self.creds = {}
        for role in ("bank", "scoring", "admin"):
            client, secret = add_client(f"e2e-{role}", Role(role), self.container.uow(), self.container.box,
                                        self.container.clock, generate_secret)
            self.creds[role] = (client.username, secret)
        register_with_scoring_engine("lms-e2e", self.settings.transactions_url, self.container.uow(),
                                     self.container.scoring_engine, self.container.box, self.container.clock,
                                     generate_secret)

    def zeep(self, role: str = "bank", wsse: bool = False):
        return zeep_client(self.wsdl_url, *self.creds[role], wsse=wsse)

    def wait_final(self, client, loan_ids, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            loans = {loan_id: client.service.GetLoanStatus(loanId=loan_id) for loan_id in loan_ids}
            if all(loan.status in FINAL for loan in loans.values()) or time.monotonic() > deadline:
                return loans
            time.sleep(0.2)


@pytest.fixture
def e2e_settings(db, flushed_redis, cbs_url, scoring_sim):
    return make_settings(db, flushed_redis,
                         cbs_customer_url=f"{cbs_url}/service/customer",
                         cbs_transactions_url=f"{cbs_url}/service/transaction-data",
                         scoring_base_url=scoring_sim.url)


@pytest.fixture
def stack(e2e_settings):
    with Gunicorn(e2e_settings, workers=2) as gunicorn:
        s = Stack(e2e_settings, gunicorn)
        yield s
        s.container.close()


@pytest.fixture
def worker(stack):
    with Worker(stack.settings) as w:
        yield w
