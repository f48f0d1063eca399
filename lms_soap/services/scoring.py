"""Operations of the scoring side: ScoringRegister (admin) and GetTransactions (scoring, admin)."""
from __future__ import annotations

from spyne import Unicode, rpc

from lms_soap.crypto import generate_secret
from lms_soap.lending.registration import register_with_scoring_engine
from lms_soap.lending.transactions import get_transactions

from .context import deps, note
from .faults import LmsFault
from .types import (
    CustomerNumber,
    ScoringRegistration,
    TransactionData,
    pack_registration,
    pack_transaction,
    required,
)

Name = Unicode(min_len=1, max_len=100, pattern=r"[^\t\n\r]+")
Url = Unicode(min_len=1, max_len=500, pattern=r"https?://[^\s]+")


@rpc(Name, Url, _returns=required(ScoringRegistration), _out_variable_name="registration", _throws=[LmsFault])
def ScoringRegister(ctx, name, url):
    """Registers the LMS with the scoring engine (createClient) with new generated credentials for
    its transaction-data callbacks; registering again rotates them. Role admin. Faults:
    ScoringEngineUnavailable."""
    d = deps(ctx)
    registration = register_with_scoring_engine(name, url, d.uow(), d.scoring_engine, d.box, d.clock,
                                                generate_secret, defaults=d.registration_defaults)
    return pack_registration(registration)


@rpc(required(CustomerNumber), _returns=TransactionData.customize(max_occurs="unbounded"),
     _out_variable_name="transactions", _throws=[LmsFault])
def GetTransactions(ctx, customerNumber):
    """The customer's transaction records, read live from the Core Banking System, the CBS
    transactionData fields repeated directly; none is an empty answer, not a fault. Roles scoring,
    admin. Faults: CoreBankingUnavailable."""
    note(ctx, customer=customerNumber)
    d = deps(ctx)
    records = get_transactions(customerNumber, d.uow(), d.cbs)
    return [pack_transaction(record) for record in records]
