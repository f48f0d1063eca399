"""The scoring job: one step of one loan. Safe to run twice: the step re-reads the loan."""
from __future__ import annotations

from lms_soap import correlation
from lms_soap.lending.scoring import advance_scoring

from . import context


def advance(loan_id: str, request_id: str | None = None) -> str | None:
    """`request_id`: the correlation id of the request that started the loan's scoring (logs,
    the engine call and the next step carry it)."""
    c = context.current()
    with correlation.bound(request_id):
        status = advance_scoring(loan_id, c.uow(), c.scoring_engine, c.queue, c.box, c.clock,
                                 c.scoring_policy)
    return status.value if status else None
