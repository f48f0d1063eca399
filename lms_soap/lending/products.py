"""Loan products: the terms a loan is granted on (amount bounds, tenor, fee, late penalty, arrears
timetable). Plain values; models/ stores them, the CLI and ListProducts manage and show them.

Percentages are Decimal percents (7.5 means 7.5 %); durations are timedeltas (xs:duration on the
wire). A loan keeps the code of its product; the terms that matter later (fee, penalty, the
timetable) are read from the product row when they apply.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from . import errors

CENTS = Decimal("0.01")
HUNDRED = Decimal(100)
#: Product codes are short upper-case identifiers (STANDARD, SANDBOX-FAST).
PRODUCT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
DEFAULT_PRODUCT_CODE = "STANDARD"


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """`percent` % of `amount`, rounded half-up to cents once (the contract's rounding rule)."""
    return (amount * percent / HUNDRED).quantize(CENTS, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    currency: str
    min_amount: Decimal
    max_amount: Decimal
    tenor: timedelta
    fee_percent: Decimal
    late_penalty_percent: Decimal
    grace: timedelta
    default_after: timedelta
    write_off_after: timedelta
    approval_validity: timedelta
    auto_disburse: bool

    def __post_init__(self) -> None:
        problems = validate(self)
        if problems:
            raise ValueError(f"product {self.code!r}: " + "; ".join(problems))

    def fee_for(self, principal: Decimal) -> Decimal:
        return percent_of(principal, self.fee_percent)

    def penalty_for(self, principal_outstanding: Decimal) -> Decimal:
        return percent_of(principal_outstanding, self.late_penalty_percent)

    def check_amount(self, amount: Decimal) -> None:
        if not self.min_amount <= amount <= self.max_amount:
            raise errors.AmountOutOfRange(
                f"product {self.code} lends between {self.min_amount} and {self.max_amount}")

    def due_date(self, disbursed_at: datetime) -> datetime:
        return disbursed_at + self.tenor


def validate(product: Product) -> list[str]:
    """What is wrong with a product's terms (empty when nothing): used by the CLI before storing."""
    problems = []
    if not PRODUCT_CODE.fullmatch(product.code or ""):
        problems.append("code must be 1-32 of A-Z, 0-9, '-' or '_', starting with a letter or digit")
    if not (product.name or "").strip():
        problems.append("name is required")
    if not re.fullmatch(r"[A-Z]{3}", product.currency or ""):
        problems.append("currency must be an ISO 4217 code such as KES")
    for name in ("min_amount", "max_amount", "fee_percent", "late_penalty_percent"):
        value = getattr(product, name)
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            problems.append(f"{name} must be a non-negative amount")
    if not problems:
        if product.min_amount <= 0 or product.min_amount > product.max_amount:
            problems.append("min_amount must be above 0 and at most max_amount")
        if product.fee_percent > HUNDRED or product.late_penalty_percent > HUNDRED:
            problems.append("percentages are at most 100")
    if product.tenor <= timedelta(0):
        problems.append("tenor must be positive")
    if min(product.grace, product.approval_validity) < timedelta(0):
        problems.append("durations cannot be negative")
    if not product.grace <= product.default_after <= product.write_off_after:
        problems.append("the arrears timetable must run grace <= defaultAfter <= writeOffAfter")
    return problems


def require_product(uow, code: str) -> Product:
    """The product `code` from the unit of work's products, or errors.ProductNotFound."""
    product = uow.products.get(code)
    if product is None:
        raise errors.ProductNotFound(f"no product {code!r}")
    return product


#: Seeded by the first 1.1 migration: what a caller that never names a product gets.
STANDARD = Product(
    code=DEFAULT_PRODUCT_CODE, name="Standard micro-loan", currency="KES",
    min_amount=Decimal("1.00"), max_amount=Decimal("1000000.00"), tenor=timedelta(days=30),
    fee_percent=Decimal("0"), late_penalty_percent=Decimal("0"), grace=timedelta(days=3),
    default_after=timedelta(days=60), write_off_after=timedelta(days=180),
    approval_validity=timedelta(days=7), auto_disburse=True)

#: Seeded by the sandbox: the whole arrears path in about a minute.
SANDBOX_FAST = Product(
    code="SANDBOX-FAST", name="Sandbox fast-arrears loan", currency="KES",
    min_amount=Decimal("1.00"), max_amount=Decimal("100000.00"), tenor=timedelta(seconds=20),
    fee_percent=Decimal("7.5"), late_penalty_percent=Decimal("5"), grace=timedelta(seconds=5),
    default_after=timedelta(seconds=15), write_off_after=timedelta(seconds=60),
    approval_validity=timedelta(seconds=60), auto_disburse=True)
