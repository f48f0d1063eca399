"""The loan figures of /metrics, read at scrape time from the database (through the unit of
work's loan repository): loans by status, decided loans by status and reason, scoring polls."""
from __future__ import annotations

from decimal import Decimal

from lms_soap.lending.loans import cancel_loan, submit_loan
from lms_soap.lending.model import Caller, LoanStatus, Role
from lms_soap.web.metrics import LendingCollector


def figures(container) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in LendingCollector(container).collect() for sample in family.samples
            if sample.name != "lms_queue_depth"}


def test_the_figures_count_the_loans_in_the_database(lms):
    c = lms.container
    lms.register_customers("234774784", "318411216")
    caller = Caller(username="bank", role=Role.BANK)
    first = submit_loan("234774784", Decimal("100.00"), None, c.uow(), c.queue, c.clock, c.loan_policy,
                        caller=caller)
    cancel_loan(first.id, "CHANGED_MIND", c.uow(), c.clock)
    submit_loan("234774784", Decimal("200.00"), None, c.uow(), c.queue, c.clock, c.loan_policy, caller=caller)
    failed = submit_loan("318411216", Decimal("300.00"), None, c.uow(), c.queue, c.clock, c.loan_policy,
                         caller=caller)
    with c.uow() as uow:  # as the reconciler fails a loan the engine never answered for
        loan = uow.loans.get(failed.id)
        loan.scoring_attempts = 3
        loan.transition(LoanStatus.FAILED, "SCORING_UNAVAILABLE", c.clock.now())
        uow.commit()

    assert figures(c) == {
        ("lms_loans", (("status", "CANCELLED"),)): 1.0,
        ("lms_loans", (("status", "PENDING"),)): 1.0,
        ("lms_loans", (("status", "FAILED"),)): 1.0,
        ("lms_loan_outcomes", (("reason", "SCORING_UNAVAILABLE"), ("status", "FAILED"))): 1.0,
        ("lms_scoring_attempts", ()): 3.0,
    }


def test_an_empty_book_has_no_status_lines_and_no_attempts(lms):
    assert figures(lms.container) == {("lms_scoring_attempts", ()): 0.0}
