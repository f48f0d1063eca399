"""Money: Decimal amounts in cents, below the NUMERIC(18, 2) limit of the columns."""
from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

CENTS = Decimal("0.01")
#: Money columns are NUMERIC(18, 2): every stored amount lies below 10**16.
MONEY_LIMIT = Decimal(10) ** 16


def cents_down(value: Decimal) -> Decimal:
    """`value` rounded DOWN to cents: a limit shown or stored this way never exceeds the real one
    (and, amounts having at most 2 decimals, amount <= cents_down(limit) iff amount <= limit)."""
    return value.quantize(CENTS, rounding=ROUND_FLOOR)


ZERO = Decimal("0.00")
