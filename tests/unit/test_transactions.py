"""GetTransactions and the REST transaction data serve only customers registered with the LMS: a
scoring credential is no way to read the CBS's data of any customer number."""
from __future__ import annotations

import pytest

from lms_soap.lending import errors
from lms_soap.lending.transactions import get_transactions

from .world import CUSTOMER, OTHER, World

RECORD = {"customerNumber": CUSTOMER, "accountNumber": "332216783322167555621628"}


@pytest.fixture
def world() -> World:
    w = World()
    w.cbs.transactions = {CUSTOMER: [RECORD], OTHER: [dict(RECORD, customerNumber=OTHER)]}
    return w


def test_a_registered_customer_gets_the_cbs_records(world):
    world.register(CUSTOMER)
    world.cbs.calls.clear()

    assert get_transactions(CUSTOMER, world.uow, world.cbs) == [RECORD]
    assert world.cbs.calls == [("Transactions", CUSTOMER)]


def test_an_unregistered_customer_is_refused_without_asking_the_cbs(world):
    world.register(CUSTOMER)
    world.cbs.calls.clear()

    with pytest.raises(errors.CustomerNotRegistered) as refused:
        get_transactions(OTHER, world.uow, world.cbs)

    assert refused.value.customer_number == OTHER
    assert world.cbs.calls == []  # the CBS never heard of the request
