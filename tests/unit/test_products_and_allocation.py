"""Products' money rules and repayment allocation: Decimal throughout, half-up to cents once per
charge, penalties first, then fees, then principal, and the parts always add up to the payment."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms_soap.lending import errors
from lms_soap.lending.balances import Balances, allocate
from lms_soap.lending.products import SANDBOX_FAST, STANDARD, percent_of, validate

D = Decimal


def test_the_fee_is_a_flat_percentage_rounded_half_up_to_cents_once():
    assert SANDBOX_FAST.fee_for(D("1000.00")) == D("75.00")
    assert SANDBOX_FAST.fee_for(D("0.10")) == D("0.01")  # 0.0075 -> 0.01 (half-up)
    assert SANDBOX_FAST.fee_for(D("0.06")) == D("0.00")  # 0.0045 -> 0.00
    assert percent_of(D("33.33"), D("7.5")) == D("2.50")  # 2.49975 -> 2.50
    assert STANDARD.fee_for(D("500.00")) == D("0.00")


def test_the_late_penalty_is_a_percentage_of_the_outstanding_principal():
    assert SANDBOX_FAST.penalty_for(D("400.00")) == D("20.00")
    assert SANDBOX_FAST.penalty_for(D("0.30")) == D("0.02")  # 0.015 -> 0.02


def test_standard_is_the_contracts_product():
    assert (STANDARD.tenor, STANDARD.grace, STANDARD.default_after, STANDARD.write_off_after) == (
        timedelta(days=30), timedelta(days=3), timedelta(days=60), timedelta(days=180))
    assert STANDARD.fee_percent == 0 and STANDARD.late_penalty_percent == 0 and STANDARD.auto_disburse


def test_sandbox_fast_is_the_contracts_product():
    assert (SANDBOX_FAST.tenor, SANDBOX_FAST.grace, SANDBOX_FAST.default_after,
            SANDBOX_FAST.write_off_after) == (timedelta(seconds=20), timedelta(seconds=5),
                                              timedelta(seconds=15), timedelta(seconds=60))
    assert (SANDBOX_FAST.fee_percent, SANDBOX_FAST.late_penalty_percent) == (D("7.5"), D("5"))


def test_amounts_outside_the_products_bounds_are_refused():
    SANDBOX_FAST.check_amount(D("100000.00"))
    with pytest.raises(errors.AmountOutOfRange):
        SANDBOX_FAST.check_amount(D("100000.01"))
    with pytest.raises(errors.AmountOutOfRange):
        SANDBOX_FAST.check_amount(D("0.99"))


@pytest.mark.parametrize("change, problem", [
    ({"code": "lower"}, "code"), ({"currency": "shilling"}, "currency"),
    ({"min_amount": D("10"), "max_amount": D("5")}, "min_amount"), ({"fee_percent": D("101")}, "100"),
    ({"fee_percent": D("-1")}, "fee_percent"), ({"tenor": timedelta(0)}, "tenor"),
    ({"default_after": timedelta(days=400)}, "timetable"),
])
def test_unusable_terms_are_refused_with_a_reason(change, problem):
    with pytest.raises(ValueError, match=problem):
        replace(STANDARD, **change)
    assert validate(STANDARD) == []


def test_a_repayment_pays_penalties_then_fees_then_principal():
    owed = Balances(principal=D("1000.00"), fees=D("75.00"), penalties=D("50.00"))
    assert allocate(D("30.00"), owed) == allocate(D("30.00"), owed)
    first = allocate(D("30.00"), owed)
    assert (first.penalty, first.fee, first.principal) == (D("30.00"), D("0.00"), D("0.00"))
    second = allocate(D("100.00"), owed.after(first))
    assert (second.penalty, second.fee, second.principal) == (D("20.00"), D("75.00"), D("5.00"))
    assert owed.after(first).after(second) == Balances(D("995.00"), D("0.00"), D("0.00"))


def test_more_than_is_owed_cannot_be_allocated():
    with pytest.raises(ValueError):
        allocate(D("10.01"), Balances(principal=D("10.00")))


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n) / 100)


@given(principal=cents, fees=cents, penalties=cents, payments=st.lists(
    st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=12))
def test_allocations_always_add_up_to_the_repayments(principal, fees, penalties, payments):
    owed = Balances(principal, fees, penalties)
    paid = allocated = D("0.00")
    for raw in payments:
        amount = min(D(raw) / 100, owed.total)
        if amount <= 0:
            break
        allocation = allocate(amount, owed)
        assert min(allocation.penalty, allocation.fee, allocation.principal) >= 0
        # Nothing goes to fees while a penalty is owed, nor to principal while a fee is.
        assert allocation.fee == 0 or allocation.penalty == owed.penalties
        assert allocation.principal == 0 or allocation.fee == owed.fees
        owed = owed.after(allocation)
        paid += amount
        allocated += allocation.total
        assert allocation.total == amount
    assert paid == allocated
    assert owed.total == principal + fees + penalties - paid
    assert min(owed.principal, owed.fees, owed.penalties) >= 0
