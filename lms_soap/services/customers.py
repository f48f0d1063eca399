"""Operations: RegisterCustomer, GetCustomer."""
from __future__ import annotations

from spyne import Boolean, rpc

from lms_soap.lending.customers import get_customer, register_customer

from .context import deps, note
from .faults import LmsFault
from .types import Customer, CustomerNumber, pack_customer, required


@rpc(required(CustomerNumber),
     _returns=(required(Customer), required(Boolean)), _out_variable_names=("customer", "alreadyRegistered"),
     _throws=[LmsFault])
def RegisterCustomer(ctx, customerNumber):
    """Registers a customer of the bank with the LMS, from the KYC record the Core Banking System
    gives; registering again refreshes that snapshot and answers alreadyRegistered=true. Roles bank,
    admin. Faults: CustomerNotFound, CustomerInactive, CoreBankingUnavailable."""
    note(ctx, customer=customerNumber)
    d = deps(ctx)
    customer, already = register_customer(customerNumber, d.uow(), d.cbs, d.clock)
    return pack_customer(customer), already


@rpc(required(CustomerNumber), _returns=required(Customer), _out_variable_name="customer", _throws=[LmsFault])
def GetCustomer(ctx, customerNumber):
    """The registered customer's stored KYC snapshot, with the ongoing loan if there is one. Roles
    bank, admin. Faults: CustomerNotRegistered."""
    note(ctx, customer=customerNumber)
    customer, ongoing = get_customer(customerNumber, deps(ctx).uow())
    return pack_customer(customer, ongoing)
