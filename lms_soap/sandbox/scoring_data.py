"""The scoring simulator's deterministic outcomes, one per documented customer number.

The same customer always gets the same answer, whatever transactions were fetched, so that the
sandbox, the README and the tests can each show an outcome with a known customer number.

| customerNumber          | score   | limitAmount        | exclusion    | exclusionReason                  | shows                                  |
|-------------------------|---------|--------------------|--------------|----------------------------------|----------------------------------------|
| 234774784               | 720     | 50000.00           | No Exclusion | -                                | APPROVED for amounts <= 50000          |
| 318411216               | 540     | 500.00             | No Exclusion | -                                | REJECTED AMOUNT_ABOVE_LIMIT above 500  |
| 340397370               | 300     | 0.00               | Excluded     | Defaulted on a previous facility | REJECTED EXCLUDED                      |
| 366585630               | -       | -                  | -            | -                                | never ready: FAILED SCORING_TIMEOUT    |
| 397178638               | 680     | 20000.00           | No Exclusion | -                                | slow: ready after 3 x not_ready_polls  |
| 555000002               | 0       | 0.00               | No Exclusion | -                                | no transactions: above limit           |
| 700000000..799999999    | formula | formula            | see below    | see below                        | synthetic load-test customers          |
| any other               | 600     | 10000.00           | No Exclusion | -                                | APPROVED for amounts <= 10000          |

"-" as exclusionReason is JSON null. Synthetic customers n (nine digits, 700000000..799999999):
score = 500 + n % 351 (500..850); limitAmount = 5000 + ((n // 10) % 451) * 100 (5000..50000, a
multiple of 100); when n % 10 == 7 (every 10th number) exclusion "Excluded", limitAmount 0.00 and
exclusionReason EXCLUSION_REASONS[(n // 10) % 4].
Every result is answered after `not_ready_polls` "not ready" polls (404), except where noted.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NO_EXCLUSION = "No Exclusion"
EXCLUDED = "Excluded"
#: Reasons given to excluded synthetic customers, picked by (n // 10) % 4.
EXCLUSION_REASONS = (
    "Defaulted on a previous facility",
    "Listed at a credit reference bureau",
    "Fraud alert on the account",
    "Account under court order",
)
SYNTHETIC_FIRST = 700_000_000
SYNTHETIC_LAST = 799_999_999


@dataclass(frozen=True)
class Outcome:
    """What the engine answers for one customer, and when."""

    score: int | None
    limit_amount: Decimal | None
    exclusion: str | None
    exclusion_reason: str | None = None
    #: Polls answered "not ready" = not_ready_polls * this factor; None: never ready.
    delay_factor: int | None = 1


NEVER_READY = Outcome(score=None, limit_amount=None, exclusion=None, delay_factor=None)
DEFAULT_OUTCOME = Outcome(600, Decimal("10000.00"), NO_EXCLUSION)

#: The documented customers (the CBS simulator knows the first five; 555000002 has no transactions).
OUTCOMES: dict[str, Outcome] = {
    "234774784": Outcome(720, Decimal("50000.00"), NO_EXCLUSION),
    "318411216": Outcome(540, Decimal("500.00"), NO_EXCLUSION),
    "340397370": Outcome(300, Decimal("0.00"), EXCLUDED, "Defaulted on a previous facility"),
    "366585630": NEVER_READY,
    "397178638": Outcome(680, Decimal("20000.00"), NO_EXCLUSION, delay_factor=3),
    "555000002": Outcome(0, Decimal("0.00"), NO_EXCLUSION),
}


def synthetic_outcome(number: int) -> Outcome:
    """The outcome of a synthetic customer (see the module docstring for the formula)."""
    score = 500 + number % 351
    if number % 10 == 7:
        reason = EXCLUSION_REASONS[(number // 10) % len(EXCLUSION_REASONS)]
        return Outcome(score, Decimal("0.00"), EXCLUDED, reason)
    limit = Decimal(5000 + ((number // 10) % 451) * 100).quantize(Decimal("0.01"))
    return Outcome(score, limit, NO_EXCLUSION)


def outcome_for(customer_number: str) -> Outcome:
    if customer_number in OUTCOMES:
        return OUTCOMES[customer_number]
    if len(customer_number) == 9 and customer_number.isascii() and customer_number.isdigit():
        number = int(customer_number)
        if SYNTHETIC_FIRST <= number <= SYNTHETIC_LAST:
            return synthetic_outcome(number)
    return DEFAULT_OUTCOME


def result_json(result_id: int, customer_number: str, outcome: Outcome) -> dict[str, object]:
    """The queryScore body. limitAmount is a JSON number, as at the real engine."""
    limit = outcome.limit_amount
    return {
        "id": result_id,
        "customerNumber": customer_number,
        "score": outcome.score,
        "limitAmount": float(limit) if limit is not None else None,
        "exclusion": outcome.exclusion,
        "exclusionReason": outcome.exclusion_reason,
    }
