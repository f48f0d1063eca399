"""The scoring job: one step of one loan. Safe to run twice: the step re-reads the loan."""
from __future__ import annotations

from lms_soap.lending.scoring import advance_scoring

from . import context


def advance(loan_id: str) -> str | None:
    c = context.current()
    status = advance_scoring(loan_id, c.uow(), c.scoring_engine, c.queue, c.box, c.clock,
                             c.scoring_policy)
    return status.value if status else None
