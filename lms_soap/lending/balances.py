"""What a disbursed loan owes, and how a repayment is split over it.

Allocation order (the contract's, as Fineract's default strategy for micro-loans): penalties, then
fees, then principal. The parts of an allocation always add up to the amount paid: nothing is
rounded here (every charge was rounded to cents once, when it was charged).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import ZERO


@dataclass(frozen=True)
class Balances:
    principal: Decimal = ZERO
    fees: Decimal = ZERO
    penalties: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.principal + self.fees + self.penalties

    def after(self, allocation: "Allocation") -> "Balances":
        return Balances(self.principal - allocation.principal, self.fees - allocation.fee,
                        self.penalties - allocation.penalty)


@dataclass(frozen=True)
class Allocation:
    penalty: Decimal = ZERO
    fee: Decimal = ZERO
    principal: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.penalty + self.fee + self.principal


def allocate(amount: Decimal, owed: Balances) -> Allocation:
    """Split `amount` (0 < amount <= owed.total) penalties first, then fees, then principal."""
    if amount <= 0 or amount > owed.total:
        raise ValueError(f"cannot allocate {amount} against {owed.total}")
    penalty = min(amount, owed.penalties)
    fee = min(amount - penalty, owed.fees)
    principal = amount - penalty - fee
    return Allocation(penalty=penalty, fee=fee, principal=principal)
