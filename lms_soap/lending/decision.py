"""The credit decision: a pure function of the loan amount, the engine's answer and the policy."""
from __future__ import annotations

from decimal import Decimal

from .model import LoanStatus
from .ports import ScoreResult

NO_EXCLUSION = "no exclusion"


def decide(amount: Decimal, result: ScoreResult, min_score: int | None) -> tuple[LoanStatus, str | None]:
    """APPROVED when not excluded, amount <= limit and (if a minimum is set) score >= minimum.

    Checked in this order, so the reason names the most fundamental refusal:
    EXCLUDED, then SCORE_BELOW_MINIMUM, then AMOUNT_ABOVE_LIMIT.
    """
    exclusion = (result.exclusion or "").strip()
    if exclusion and exclusion.lower() != NO_EXCLUSION:
        return LoanStatus.REJECTED, "EXCLUDED"
    if min_score is not None and (result.score is None or result.score < min_score):
        return LoanStatus.REJECTED, "SCORE_BELOW_MINIMUM"
    if result.limit_amount is None or amount > result.limit_amount:
        return LoanStatus.REJECTED, "AMOUNT_ABOVE_LIMIT"
    return LoanStatus.APPROVED, "WITHIN_LIMIT"
