"""The SOAP types of the published contract (namespace urn:lms-soap:v1), and their packing from
domain objects. These classes are the wire format only: the domain lives in lending.model."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from spyne import (
    ComplexModel,
    DateTime,
    Decimal,
    Enum,
    Double,
    Integer32,
    Integer64,
    Unicode,
)

from lms_soap.lending.model import CENTS, KYC_FIELDS
from lms_soap.lending.model import Customer as DomainCustomer
from lms_soap.lending.model import Loan as DomainLoan
from lms_soap.lending.model import LoanStatus as DomainLoanStatus
from lms_soap.lending.model import ScoringRegistration as DomainRegistration
from lms_soap.lending.loan_view import LoanView
from lms_soap.lending.transaction_fields import TRANSACTION_FIELDS
from .instances import build

TNS = "urn:lms-soap:v1"


# --- simple types ------------------------------------------------------------------------------
#: xs:decimal with 2 fraction digits. Values are quantized when packed (money()), so they are
#: written as "100.00". (Spyne's str_format would also format the facets, breaking the schema.)
Money = Decimal(total_digits=18, fraction_digits=2)
#: An amount a caller sends: positive, at most 2 decimals (the service bounds are checked later).
PositiveMoney = Decimal(total_digits=18, fraction_digits=2, gt=0, min_occurs=1, nillable=False)
UtcDateTime = DateTime(as_timezone=timezone.utc)
CustomerNumber = Unicode(min_len=1, max_len=32, pattern=r"[A-Za-z0-9\-]{1,32}")
LoanId = Unicode(min_len=1, max_len=40, pattern=r"[A-Za-z0-9\-]{1,40}")
RequestId = Unicode(min_len=1, max_len=64, pattern=r"[A-Za-z0-9._:\-]{1,64}")
Reference = Unicode(min_len=1, max_len=64, pattern=r"[A-Za-z0-9._:/\-]{1,64}")
FreeText = Unicode(max_len=255, pattern=r"[^\t\n\r]*")  # one line (XML 1.0 already bars other controls)
# Enumerations are named types of the contract (Enum keeps them in our namespace).
LoanStatusType = Enum(*[s.value for s in DomainLoanStatus], type_name="LoanStatus", __namespace__=TNS)
KycStatusType = Enum("ACTIVE", "INACTIVE", type_name="KycStatus", __namespace__=TNS)


def money(value):
    return None if value is None else value.quantize(CENTS)


def required(model):
    return model.customize(min_occurs=1, nillable=False)


# --- complex types -----------------------------------------------------------------------------
class _Base(ComplexModel):
    __namespace__ = TNS


class LoanEvent(_Base):
    _type_info = [
        ("fromStatus", LoanStatusType),
        ("toStatus", required(LoanStatusType)),
        ("reason", Unicode),
        ("at", required(UtcDateTime)),
    ]


class Loan(_Base):
    _type_info = [
        ("loanId", required(Unicode)),
        ("customerNumber", required(Unicode)),
        ("amount", required(Money)),
        ("currency", required(Unicode)),
        ("status", required(LoanStatusType)),
        ("statusReason", Unicode),
        ("score", Integer32),
        ("limitAmount", Money),
        ("exclusion", Unicode),
        ("exclusionReason", Unicode),
        ("scoringAttempts", required(Integer32)),
        ("outstanding", Money),
        ("requestId", Unicode),
        ("createdAt", required(UtcDateTime)),
        ("updatedAt", required(UtcDateTime)),
        ("decidedAt", UtcDateTime),
        # An addition to the contract's list: the kept history, oldest first (GetLoanStatus only).
        ("history", LoanEvent.customize(max_occurs="unbounded")),
        # Release 1.1, appended (additive): the product and, once disbursed, the dates and balances.
        ("productCode", required(Unicode)),
        ("disbursedAt", UtcDateTime),
        ("dueDate", UtcDateTime),
        ("principalOutstanding", Money),
        ("feesOutstanding", Money),
        ("penaltiesOutstanding", Money),
        ("recovered", Money),
    ]


class Customer(_Base):
    _type_info = [
        ("customerNumber", required(Unicode)),
        *[(f.wire, Money if f.width is None else Unicode) for f in KYC_FIELDS if f.name != "customer_number"],
        ("kycStatus", required(KycStatusType)),
        ("registeredAt", required(UtcDateTime)),
        ("kycRefreshedAt", required(UtcDateTime)),
        ("ongoingLoan", Loan),
    ]


class ScoringRegistration(_Base):
    _type_info = [
        ("clientId", required(Unicode)),
        ("name", required(Unicode)),
        ("url", required(Unicode)),
        ("username", required(Unicode)),
        ("registeredAt", required(UtcDateTime)),
    ]


_XS = {"string": Unicode, "double": Double, "int": Integer32, "long": Integer64, "dateTime": UtcDateTime}


class TransactionData(_Base):
    """The CBS transactionData record, same names, types and optionality as the bank's WSDL."""

    __type_name__ = "transactionData"
    _type_info = [
        (name, _XS[xs_type] if optional else required(_XS[xs_type]))
        for name, xs_type, optional in TRANSACTION_FIELDS
    ]


# --- packing ------------------------------------------------------------------------------------
def pack_loan(loan: DomainLoan | LoanView, with_history: bool = False) -> Loan:
    return build(
        Loan,
        loanId=loan.id,
        customerNumber=loan.customer_number,
        amount=money(loan.amount),
        currency=loan.currency,
        status=loan.status.value,
        statusReason=loan.status_reason,
        score=loan.score,
        limitAmount=money(loan.limit_amount),
        exclusion=loan.exclusion,
        exclusionReason=loan.exclusion_reason,
        scoringAttempts=loan.scoring_attempts,
        outstanding=money(loan.outstanding),
        requestId=loan.request_id,
        createdAt=loan.created_at,
        updatedAt=loan.updated_at,
        decidedAt=loan.decided_at,
        history=[
            build(LoanEvent, fromStatus=e.from_status.value if e.from_status else None,
                  toStatus=e.to_status.value, reason=e.reason, at=e.at)
            for e in loan.events
        ] if with_history else None,
        productCode=loan.product_code,
        disbursedAt=loan.disbursed_at,
        dueDate=loan.due_date,
        principalOutstanding=money(loan.principal_outstanding),
        feesOutstanding=money(loan.fees_outstanding),
        penaltiesOutstanding=money(loan.penalties_outstanding),
        recovered=money(loan.recovered) if loan.disbursed_at is not None else None,
    )


def pack_customer(customer: DomainCustomer, ongoing: DomainLoan | None = None) -> Customer:
    kyc = {f.wire: getattr(customer, f.name) if f.width else money(getattr(customer, f.name)) for f in KYC_FIELDS}
    return build(
        Customer,
        **kyc,
        kycStatus=customer.kyc_status.value,
        registeredAt=customer.registered_at,
        kycRefreshedAt=customer.kyc_refreshed_at,
        ongoingLoan=pack_loan(ongoing) if ongoing is not None else None,
    )


def pack_registration(registration: DomainRegistration) -> ScoringRegistration:
    return build(
        ScoringRegistration,
        clientId=registration.client_id,
        name=registration.name,
        url=registration.url,
        username=registration.username,
        registeredAt=registration.registered_at,
    )


def pack_transaction(record: dict[str, Any]) -> TransactionData:
    return build(TransactionData, **{name: _utc(record.get(name)) for name, _, _ in TRANSACTION_FIELDS})


def _utc(value: Any) -> Any:
    # Spyne's Soap11 writes dateTimes with their own offset (it ignores as_timezone): convert here.
    return value.astimezone(timezone.utc) if isinstance(value, datetime) and value.tzinfo else value
