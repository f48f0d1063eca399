"""The customer: the KYC record the Core Banking System sends, and the snapshot the LMS keeps.
KYC_FIELDS declares the snapshot's fields once, for the model, the table, the SOAP type and the
CBS client."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .money import MONEY_LIMIT

class KycStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@dataclass(frozen=True)
class KycRecord:
    """What the Core Banking System says about a customer (a snapshot, as the CBS sent it)."""

    customer_number: str
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    gender: str | None
    id_type: str | None
    id_number: str | None
    mobile: str | None
    email: str | None
    monthly_income: Decimal | None
    status: KycStatus


@dataclass(frozen=True)
class KycField:
    """One KYC value the customer snapshot keeps."""

    name: str  #: KycRecord's and Customer's attribute, and the customers table's column
    wire: str  #: its element in the CBS's customer record and in the LMS's SOAP Customer type
    #: The longest text stored (the column's width; the CBS client refuses a longer value instead
    #: of failing in the database); None for the monthly income, NUMERIC(18, 2).
    width: int | None


KYC_FIELDS: tuple[KycField, ...] = (
    KycField("customer_number", "customerNumber", 32),
    KycField("first_name", "firstName", 100),
    KycField("middle_name", "middleName", 100),
    KycField("last_name", "lastName", 100),
    KycField("gender", "gender", 16),
    KycField("id_type", "idType", 32),
    KycField("id_number", "idNumber", 64),
    KycField("mobile", "mobile", 32),
    KycField("email", "email", 254),
    KycField("monthly_income", "monthlyIncome", None),
)
#: What of a KYC record the customer snapshot keeps, under the same names.
KYC_SNAPSHOT_FIELDS = tuple(f.name for f in KYC_FIELDS)
#: Longest value the snapshot stores per KYC text field.
KYC_TEXT_LIMITS = {f.name: f.width for f in KYC_FIELDS if f.width is not None}
#: Monthly income is NUMERIC(18, 2): below 10**16.
KYC_INCOME_LIMIT = MONEY_LIMIT


@dataclass
class Customer:
    customer_number: str
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    gender: str | None
    id_type: str | None
    id_number: str | None
    mobile: str | None
    email: str | None
    monthly_income: Decimal | None
    kyc_status: KycStatus
    registered_at: datetime
    kyc_refreshed_at: datetime

    @classmethod
    def from_kyc(cls, kyc: KycRecord, now: datetime) -> "Customer":
        return cls(**{name: getattr(kyc, name) for name in KYC_SNAPSHOT_FIELDS},
                   kyc_status=KycStatus(kyc.status), registered_at=now, kyc_refreshed_at=now)

    def refresh(self, kyc: KycRecord, now: datetime) -> None:
        for name in KYC_SNAPSHOT_FIELDS:
            setattr(self, name, getattr(kyc, name))
        self.kyc_status = KycStatus(kyc.status)
        self.kyc_refreshed_at = now
