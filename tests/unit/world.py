"""The use cases wired to fakes, so tests set up state the way the bank and the worker would."""
from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal

from lms_soap.lending import customers, lifecycle, loans, registration, scoring
from lms_soap.lending.model import Caller, KycStatus, Loan, LoanStatus, Role, ScoringRegistration
from lms_soap.lending.loans import LoanPolicy
from lms_soap.lending.products import SANDBOX_FAST, STANDARD, Product
from lms_soap.lending.scoring import ScoringPolicy

from .fakes import (
    FakeClock,
    FakeCoreBanking,
    FakeJobQueue,
    FakeScoringEngine,
    FakeUnitOfWork,
    kyc,
    score,
    secret_box,
)

# Customer numbers of the contract's test customers (their KYC here is the fakes' own).
CUSTOMER = "234774784"
OTHER = "318411216"
INACTIVE = "340397370"  # INACTIVE at the CBS
UNKNOWN = "999000111"  # unknown to the CBS

# API clients calling the use cases.
BANK_A = Caller("bank-a", Role.BANK)
BANK_B = Caller("bank-b", Role.BANK)
ADMIN = Caller("ops-admin", Role.ADMIN)

#: A product the bank disburses itself (ConfirmDisbursement), with a fee and a penalty.
MANUAL = replace(SANDBOX_FAST, code="MANUAL", name="Manual disbursement", auto_disburse=False,
                 tenor=timedelta(days=30), grace=timedelta(days=3), default_after=timedelta(days=60),
                 write_off_after=timedelta(days=180), approval_validity=timedelta(days=7))

LOAN_POLICY = LoanPolicy(min_amount=Decimal("100.00"), max_amount=Decimal("50000.00"), currency="KES")
SCORING_POLICY = ScoringPolicy(max_attempts=4, max_initiate_attempts=3, backoff_base=1.0,
                               backoff_max=8.0, jitter=0.2, deadline=600.0)


def default_cbs() -> FakeCoreBanking:
    return FakeCoreBanking([kyc(CUSTOMER), kyc(OTHER, first_name="John"),
                            kyc(INACTIVE, status=KycStatus.INACTIVE)])


@dataclass
class World:
    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    cbs: FakeCoreBanking = field(default_factory=default_cbs)
    engine: FakeScoringEngine = field(default_factory=FakeScoringEngine)
    queue: FakeJobQueue = field(default_factory=FakeJobQueue)
    clock: FakeClock = field(default_factory=FakeClock)
    box: object = field(default_factory=secret_box)
    loan_policy: LoanPolicy = LOAN_POLICY
    scoring_policy: ScoringPolicy = SCORING_POLICY
    rng: random.Random = field(default_factory=lambda: random.Random(1234))

    # --- the use cases, with this world's collaborators ---
    def register(self, customer_number: str = CUSTOMER):
        return customers.register_customer(customer_number, self.uow, self.cbs, self.clock)

    def submit(self, amount: str | Decimal = "1000.00", customer_number: str = CUSTOMER,
               request_id: str | None = None, caller: Caller = BANK_A,
               product_code: str | None = None) -> Loan:
        return loans.submit_loan(customer_number, Decimal(amount), request_id, self.uow, self.queue,
                                 self.clock, self.loan_policy, caller=caller, product_code=product_code)

    def register_scoring(self) -> ScoringRegistration:
        return registration.register_with_scoring_engine(
            "lms-test", "http://lms.test/api/v1/transactions", self.uow, self.engine, self.box,
            self.clock, generate_secret=lambda: f"generated-secret-{len(self.engine.clients)}")

    def step(self, loan_id: str) -> LoanStatus | None:
        return scoring.advance_scoring(loan_id, self.uow, self.engine, self.queue, self.box,
                                       self.clock, self.scoring_policy, self.rng)

    def step_when_due(self, loan_id: str) -> LoanStatus | None:
        """Let the clock reach the loan's next attempt, then run the step its job would run."""
        due = self.loan(loan_id).next_attempt_at
        if due is not None and due > self.clock.now():
            self.clock.set(due)
        return self.step(loan_id)

    def reconcile(self, grace_seconds: float = 10.0) -> scoring.ReconcileReport:
        return scoring.reconcile(self.uow, self.queue, self.clock, self.scoring_policy,
                                 timedelta(seconds=grace_seconds))

    # --- shortcuts to a state ---
    def loan(self, loan_id: str) -> Loan:
        """A copy of the committed row, as the next transaction would read it."""
        return copy.deepcopy(self.uow.database.loans[loan_id])

    def scoring_loan(self, amount: str = "1000.00", customer_number: str = CUSTOMER,
                     product: Product = STANDARD) -> Loan:
        """A registered customer's loan whose scoring started (SCORING, token held)."""
        if self.uow.database.registration is None:
            self.register_scoring()
        if customer_number not in self.uow.database.customers:
            self.register(customer_number)
        self.uow.database.products.setdefault(product.code, product)
        loan = self.submit(amount, customer_number, product_code=product.code)
        assert self.step(loan.id) is LoanStatus.SCORING
        return self.loan(loan.id)

    def decided_loan(self, amount: str = "1000.00", limit: str = "5000.00",
                     customer_number: str = CUSTOMER, product: Product = STANDARD, **result) -> Loan:
        loan = self.scoring_loan(amount, customer_number, product)
        self.engine.query_answers.append(score(limit=limit, **result))
        self.step_when_due(loan.id)
        return self.loan(loan.id)

    def disbursed_loan(self, amount: str = "1000.00", customer_number: str = CUSTOMER,
                       product: Product = STANDARD) -> Loan:
        """An approved loan of an autoDisburse product: DISBURSED in the decision's transaction."""
        loan = self.decided_loan(amount, limit="5000.00", customer_number=customer_number,
                                 product=product)
        assert loan.status is LoanStatus.DISBURSED
        return loan

    def approved_loan(self, amount: str = "1000.00", customer_number: str = CUSTOMER) -> Loan:
        """An approved loan waiting for ConfirmDisbursement (the MANUAL product)."""
        loan = self.decided_loan(amount, limit="5000.00", customer_number=customer_number,
                                 product=MANUAL)
        assert loan.status is LoanStatus.APPROVED
        return loan

    def add_product(self, product: Product) -> Product:
        lifecycle.ensure_product(product, self.uow)
        return product

    def arrears(self) -> lifecycle.ArrearsReport:
        return lifecycle.run_arrears(self.uow, self.clock)
