"""The loan after approval against the real database, for integration tests: a container with
fakes for the CBS, the engine and the queue, SANDBOX-FAST seeded, and disbursed loans."""
from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Iterator

from lms_soap.bootstrap import Container, build_container
from lms_soap.lending import servicing
from lms_soap.lending.customers import register_customer
from lms_soap.lending.lifecycle import ensure_product
from lms_soap.lending.model import Loan, LoanStatus
from lms_soap.lending.products import SANDBOX_FAST
from tests.conftest import make_settings
from tests.unit.fakes import FakeCoreBanking, FakeJobQueue, FakeScoringEngine, kyc


@contextlib.contextmanager
def servicing_container(db: str, clock, customers: list[str]) -> Iterator[Container]:
    """A container on `db` knowing these customers in its fake CBS, closed on leaving."""
    c = build_container(make_settings(db), cbs=FakeCoreBanking([kyc(n) for n in customers]),
                        scoring_engine=FakeScoringEngine(), queue=FakeJobQueue(), clock=clock)
    try:
        ensure_product(SANDBOX_FAST, c.uow())
        yield c
    finally:
        c.close()


def disbursed_loan(container, customer: str, *, score: int | None = None,
                   limit: Decimal | None = None) -> Loan:
    """A SANDBOX-FAST loan of 1000.00, the customer registered first, approved and disbursed now
    (as the scoring step leaves it)."""
    clock = container.clock
    register_customer(customer, container.uow(), container.cbs, clock)
    loan = Loan.submit(customer, Decimal("1000.00"), "KES", None, clock.now(), product_code=SANDBOX_FAST.code)
    loan.score, loan.limit_amount = score, limit
    loan.transition(LoanStatus.SCORING, "SCORING_STARTED", clock.now())
    loan.transition(LoanStatus.APPROVED, "WITHIN_LIMIT", clock.now())
    servicing.approved(loan, SANDBOX_FAST, clock.now())
    with container.uow() as uow:
        uow.loans.add(loan)
        uow.commit()
    return loan
