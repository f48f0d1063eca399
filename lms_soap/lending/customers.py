"""Use cases: register a customer from the CBS's KYC, read a customer."""
from __future__ import annotations

from . import errors
from .model import Customer, KycStatus, Loan
from .ports import Clock, CoreBanking, UnitOfWork
from .use_case import retrying


def register_customer(customer_number: str, uow: UnitOfWork, cbs: CoreBanking,
                      clock: Clock) -> tuple[Customer, bool]:
    """Fetch KYC and store (or refresh) the snapshot. Returns (customer, already_registered).

    A failure stores nothing: the CBS is asked before the transaction starts, and an unknown
    or INACTIVE customer raises before anything is written. One exception, on purpose: a
    customer we already hold whose KYC has turned INACTIVE gets that status recorded (and the
    fault), because SubmitLoan works from the stored snapshot and must stop lending to them.
    """
    kyc = cbs.fetch_customer(customer_number)
    if kyc is None:
        raise errors.CustomerNotFound(f"customer {customer_number} is unknown to the core banking system",
                                      customer_number=customer_number)
    if kyc.status is not KycStatus.ACTIVE:
        _record_inactive(customer_number, uow, clock)
        raise errors.CustomerInactive(f"customer {customer_number} has an inactive KYC status",
                                      customer_number=customer_number)
    def attempt() -> tuple[Customer, bool]:
        with uow:
            now = clock.now()
            customer = uow.customers.get(customer_number, for_update=True)
            already = customer is not None
            if customer is None:
                customer = Customer.from_kyc(kyc, now)
                uow.customers.add(customer)
            else:
                customer.refresh(kyc, now)
            uow.commit()  # a concurrent registration that inserted the row first: refresh it instead
            return customer, already

    return retrying(attempt, attempts=2, gave_up="concurrent registrations; retry")


def _record_inactive(customer_number: str, uow: UnitOfWork, clock: Clock) -> None:
    with uow:
        customer = uow.customers.get(customer_number, for_update=True)
        if customer is None or customer.kyc_status is KycStatus.INACTIVE:
            return  # a new customer: nothing is stored
        customer.kyc_status = KycStatus.INACTIVE
        customer.kyc_refreshed_at = clock.now()
        uow.commit()


def get_customer(customer_number: str, uow: UnitOfWork) -> tuple[Customer, Loan | None]:
    """The stored customer and its ongoing loan, if any."""
    with uow:
        customer = require_registered(uow, customer_number)
        return customer, uow.loans.ongoing_for(customer_number)


def require_registered(uow: UnitOfWork, customer_number: str) -> Customer:
    """The stored customer, or Client.CustomerNotRegistered. Call inside `with uow`."""
    customer = uow.customers.get(customer_number)
    if customer is None:
        raise errors.CustomerNotRegistered(f"customer {customer_number} is not registered",
                                           customer_number=customer_number)
    return customer


def require_active_customer(uow: UnitOfWork, customer_number: str) -> Customer:
    customer = require_registered(uow, customer_number)
    if customer.kyc_status is not KycStatus.ACTIVE:
        raise errors.CustomerInactive(f"customer {customer_number} has an inactive KYC status",
                                      customer_number=customer_number)
    return customer
