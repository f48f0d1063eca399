"""RegisterCustomer and GetCustomer (lending.customers) against a fake CBS and unit of work."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from lms_soap.lending import errors
from lms_soap.lending.customers import get_customer, register_customer
from lms_soap.lending.model import KycStatus, LoanStatus

from .fakes import FakeCoreBanking, kyc
from .world import CUSTOMER, INACTIVE, OTHER, UNKNOWN, World


@pytest.fixture
def world() -> World:
    return World()


def test_a_new_customer_is_stored_with_the_cbs_snapshot(world):
    customer, already = register_customer(CUSTOMER, world.uow, world.cbs, world.clock)
    assert already is False
    assert (customer.customer_number, customer.first_name, customer.last_name, customer.monthly_income,
            customer.kyc_status) == (CUSTOMER, "Jane", "Doe", Decimal("7216.72"), KycStatus.ACTIVE)
    assert customer.registered_at == customer.kyc_refreshed_at == world.clock.now()
    assert world.uow.database.customers[CUSTOMER] == customer
    assert world.cbs.calls == [("Customer", CUSTOMER)]


def test_registering_again_says_so_and_refreshes_the_snapshot(world):
    registered_at = world.clock.now()
    world.register(CUSTOMER)
    world.cbs.customers[CUSTOMER] = replace(world.cbs.customers[CUSTOMER], mobile="+254722999888",
                                            monthly_income=Decimal("9100.00"))
    refreshed_at = world.clock.advance(hours=2)
    customer, already = register_customer(CUSTOMER, world.uow, world.cbs, world.clock)
    assert already is True
    stored = world.uow.database.customers[CUSTOMER]
    assert (stored.mobile, stored.monthly_income) == ("+254722999888", Decimal("9100.00"))
    assert (stored.registered_at, stored.kyc_refreshed_at) == (registered_at, refreshed_at)
    assert customer == stored


def test_an_unknown_customer_is_not_found_and_nothing_is_stored(world):
    with pytest.raises(errors.CustomerNotFound) as refused:
        register_customer(UNKNOWN, world.uow, world.cbs, world.clock)
    assert refused.value.customer_number == UNKNOWN
    assert world.uow.database.customers == {} and world.uow.commits == 0


def test_an_inactive_customer_is_refused_and_nothing_is_stored(world):
    with pytest.raises(errors.CustomerInactive):
        register_customer(INACTIVE, world.uow, world.cbs, world.clock)
    assert world.uow.database.customers == {} and world.uow.commits == 0


def test_a_registered_customer_turned_inactive_is_marked_inactive_and_cannot_borrow(world):
    world.register(CUSTOMER)
    before = world.uow.database.customers[CUSTOMER]
    world.cbs.customers[CUSTOMER] = kyc(CUSTOMER, status=KycStatus.INACTIVE, first_name="Changed")
    world.clock.advance(60)
    with pytest.raises(errors.CustomerInactive):
        register_customer(CUSTOMER, world.uow, world.cbs, world.clock)
    stored = world.uow.database.customers[CUSTOMER]
    assert stored.kyc_status is KycStatus.INACTIVE  # the snapshot SubmitLoan works from
    assert stored.first_name == before.first_name  # nothing else of the refused KYC is taken
    with pytest.raises(errors.CustomerInactive):
        world.submit()


def test_the_cbs_down_is_a_server_fault_and_nothing_is_stored(world):
    world.cbs.unavailable = True
    with pytest.raises(errors.CoreBankingUnavailable) as refused:
        register_customer(CUSTOMER, world.uow, world.cbs, world.clock)
    assert refused.value.faultcode == "Server.CoreBankingUnavailable"
    assert world.uow.database.customers == {} and world.uow.commits == 0


def test_a_concurrent_first_registration_makes_this_one_a_refresh(world):
    rival_cbs = FakeCoreBanking([kyc(CUSTOMER, first_name="Rival")])
    world.uow.interleave(lambda other: register_customer(CUSTOMER, other, rival_cbs, world.clock))
    customer, already = register_customer(CUSTOMER, world.uow, world.cbs, world.clock)
    assert already is True
    assert world.uow.database.customers[CUSTOMER].first_name == "Jane"  # our fresher snapshot wins
    assert customer.first_name == "Jane"


def test_get_customer_returns_the_snapshot_and_no_loan(world):
    world.register(CUSTOMER)
    customer, ongoing = get_customer(CUSTOMER, world.uow)
    assert customer.customer_number == CUSTOMER and ongoing is None


def test_get_customer_returns_the_ongoing_loan(world):
    world.register(CUSTOMER)
    world.register(OTHER)
    world.submit("500.00", OTHER)
    loan = world.submit("700.00", CUSTOMER)
    customer, ongoing = get_customer(CUSTOMER, world.uow)
    assert ongoing is not None and (ongoing.id, ongoing.status) == (loan.id, LoanStatus.PENDING)


def test_get_customer_without_an_ongoing_loan_after_a_rejection(world):
    world.decided_loan("6000.00", limit="5000.00")
    _, ongoing = get_customer(CUSTOMER, world.uow)
    assert ongoing is None


def test_get_customer_of_someone_never_registered(world):
    with pytest.raises(errors.CustomerNotRegistered):
        get_customer(CUSTOMER, world.uow)
    assert world.cbs.calls == []  # reads the stored snapshot, never the CBS
