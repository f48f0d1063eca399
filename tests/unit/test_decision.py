"""The credit decision, as the contract states it: exclusion first, then the score minimum (when
one is configured), then amount <= limitAmount."""
from __future__ import annotations

from decimal import Decimal

import pytest

from lms_soap.lending.decision import decide
from lms_soap.lending.model import LoanStatus

from .fakes import score

APPROVED = (LoanStatus.APPROVED, "WITHIN_LIMIT")
EXCLUDED = (LoanStatus.REJECTED, "EXCLUDED")
ABOVE_LIMIT = (LoanStatus.REJECTED, "AMOUNT_ABOVE_LIMIT")
BELOW_MINIMUM = (LoanStatus.REJECTED, "SCORE_BELOW_MINIMUM")


@pytest.mark.parametrize("exclusion", ["No Exclusion", "", None, "no exclusion", "NO EXCLUSION",
                                       "  No Exclusion\n", "   "])
def test_no_exclusion_in_any_case_or_spacing_or_none_at_all_is_approved(exclusion):
    assert decide(Decimal("1000.00"), score(exclusion=exclusion, limit="5000.00"), None) == APPROVED


@pytest.mark.parametrize("exclusion", ["Blacklisted", "Fraud", "No Exclusions", "No-Exclusion",
                                       "Not No Exclusion"])
def test_any_other_exclusion_is_rejected_even_within_the_limit(exclusion):
    result = score(exclusion=exclusion, reason="Listed at the credit bureau", limit="5000.00")
    assert decide(Decimal("10.00"), result, None) == EXCLUDED


def test_an_amount_equal_to_the_limit_is_approved():
    assert decide(Decimal("5000.00"), score(limit="5000.00"), None) == APPROVED
    assert decide(Decimal("5000"), score(limit="5000.000"), None) == APPROVED


def test_one_cent_above_the_limit_is_rejected():
    assert decide(Decimal("5000.01"), score(limit="5000.00"), None) == ABOVE_LIMIT


def test_a_missing_limit_is_never_an_approval():
    assert decide(Decimal("1.00"), score(limit=None), None) == ABOVE_LIMIT


def test_a_zero_limit_rejects_every_amount():
    assert decide(Decimal("0.01"), score(limit="0.00"), None) == ABOVE_LIMIT


def test_without_a_configured_minimum_any_score_or_none_is_fine():
    assert decide(Decimal("100.00"), score(score=1, limit="500.00"), None) == APPROVED
    assert decide(Decimal("100.00"), score(score=None, limit="500.00"), None) == APPROVED


@pytest.mark.parametrize("value, expected", [(599, BELOW_MINIMUM), (600, APPROVED), (601, APPROVED),
                                              (None, BELOW_MINIMUM), (0, BELOW_MINIMUM)])
def test_with_a_minimum_the_score_must_reach_it(value, expected):
    assert decide(Decimal("100.00"), score(score=value, limit="500.00"), 600) == expected


def test_a_minimum_of_zero_still_accepts_a_zero_score():
    assert decide(Decimal("100.00"), score(score=0, limit="500.00"), 0) == APPROVED


def test_the_most_fundamental_refusal_is_named():
    excluded_low_above = score(score=100, limit="10.00", exclusion="Fraud")
    assert decide(Decimal("100.00"), excluded_low_above, 600) == EXCLUDED
    assert decide(Decimal("100.00"), score(score=100, limit="10.00"), 600) == BELOW_MINIMUM
