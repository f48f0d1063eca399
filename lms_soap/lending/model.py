"""The domain objects: customers (lending/customer.py), loans with their status machine
(lending/loan.py), API clients and the scoring registration (here). Everything is re-exported
here, so `from lms_soap.lending.model import ...` reaches any of them.

Plain dataclasses; models/orm.py maps them to tables imperatively, so the rules here never see SQL.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from .customer import (KYC_FIELDS, KYC_INCOME_LIMIT, KYC_SNAPSHOT_FIELDS, KYC_TEXT_LIMITS,  # noqa: F401
                       Customer, KycField, KycRecord, KycStatus)
from .loan import (IN_SCORING, NOTIFIED, ON_BOOK, ONGOING, TRANSITIONS, Charge, ChargeType, Loan,  # noqa: F401
                   LoanEvent, LoanStatus, Notification, Repayment, new_loan_id)
from .money import CENTS, MONEY_LIMIT, ZERO, cents_down  # noqa: F401


class Role(str, enum.Enum):
    BANK = "bank"
    SCORING = "scoring"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """Who calls a use case: the authenticated API client."""

    username: str
    role: Role

    def may_see(self, loan: Loan) -> bool:
        """May this caller be told that `loan` exists (its id in a fault)? Its creator and admins."""
        return self.role is Role.ADMIN or loan.created_by == self.username


@dataclass
class ApiClient:
    """A caller of the LMS: its secret is stored only as a keyed hash."""

    username: str
    role: Role
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    description: str | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass
class ScoringRegistration:
    """The LMS's registration with the scoring engine (one row; registering again rotates it)."""

    client_id: str
    name: str
    url: str
    username: str
    token_ciphertext: str  # the engine's client-token, encrypted with LMS_SECRET_KEY
    registered_at: datetime
    id: int = 1
