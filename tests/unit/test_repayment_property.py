"""A property of repayment allocation over random repayment sequences: the allocations add up to
the repayments, no balance ever goes negative, and what is paid plus what is owed is what was
charged (principal, fee, penalty)."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings, strategies as st

from lms_soap.lending import errors
from lms_soap.lending.model import Loan, LoanStatus
from lms_soap.lending.products import SANDBOX_FAST
from lms_soap.lending.servicing import apply_arrears, balances_of, disburse, repay, write_off

from .fakes import FakeClock

cents = st.integers(min_value=1, max_value=200_000).map(lambda n: Decimal(n).scaleb(-2))


def disbursed(amount: Decimal, clock: FakeClock) -> Loan:
    loan = Loan.submit("C1", amount, "KES", None, clock.now())
    for status in (LoanStatus.SCORING, LoanStatus.APPROVED):
        loan.transition(status, None, clock.now())
    disburse(loan, SANDBOX_FAST, "TX-D", clock.now(), clock.now())
    return loan


@settings(max_examples=300, deadline=None)
@given(principal=cents, payments=st.lists(cents, min_size=1, max_size=12),
       late=st.booleans(), written_off=st.booleans())
def test_allocations_add_up_to_repayments_and_balances_never_go_negative(principal, payments, late,
                                                                          written_off):
    clock = FakeClock()
    loan = disbursed(principal, clock)
    if late:
        clock.set(loan.due_date + SANDBOX_FAST.grace)
        apply_arrears(loan, SANDBOX_FAST, clock.now())
        if written_off:
            write_off(loan, "TEST", clock.now())
    charged = balances_of(loan)
    accepted = []
    for n, amount in enumerate(payments):
        clock.advance(1)
        try:
            repay(loan, amount, f"TX-{n}", clock.now())
            accepted.append(amount)
        except errors.AmountExceedsOutstanding:
            assert amount > balances_of(loan).total
        except errors.InvalidLoanState:
            assert loan.status is LoanStatus.CLOSED
        owed = balances_of(loan)
        assert min(owed.principal, owed.fees, owed.penalties) >= 0
    parts = [(r.penalty_part, r.fee_part, r.principal_part) for r in loan.repayments]
    assert all(p + f + q == r.amount for (p, f, q), r in zip(parts, loan.repayments))
    assert sum((r.amount for r in loan.repayments), Decimal(0)) == sum(accepted, Decimal(0))
    owed = balances_of(loan)
    assert sum((p for p, _, _ in parts), Decimal(0)) + owed.penalties == charged.penalties
    assert sum((f for _, f, _ in parts), Decimal(0)) + owed.fees == charged.fees
    assert sum((q for _, _, q in parts), Decimal(0)) + owed.principal == charged.principal
    if loan.status is LoanStatus.WRITTEN_OFF:
        assert loan.recovered == sum(accepted, Decimal(0))
    else:
        assert (loan.status is LoanStatus.CLOSED) == (owed.total == 0)
