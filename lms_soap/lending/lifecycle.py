"""Use cases of the loan after its approval: ConfirmDisbursement, WriteOffLoan, the arrears job,
products and the portfolio report. The rules themselves are in lending/servicing.py."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from . import errors, servicing
from .model import Loan, LoanStatus
from .portfolio import PortfolioReport, build_report
from .ports import Clock, UnitOfWork
from .products import Product, require_product, validate
from .use_case import require_loan, retrying

log = logging.getLogger(__name__)

#: A disbursement time given by the bank may lie this far ahead of our clock (clock skew).
DISBURSED_AT_SKEW = timedelta(minutes=5)
#: Loans the arrears job reads per pass.
ARREARS_BATCH = 200
MAX_REFERENCE = 64


# --- products ---------------------------------------------------------------------------------
def list_products(uow: UnitOfWork) -> Sequence[Product]:
    with uow:
        return uow.products.list()


def get_product(code: str, uow: UnitOfWork) -> Product:
    with uow:
        return require_product(uow, code)


def add_product(product: Product, uow: UnitOfWork) -> Product:
    """Store a new product (the CLI's `products add`); a code already used is a Conflict."""
    problems = validate(product)
    if problems:
        raise errors.SchemaValidationError("; ".join(problems))
    with uow:
        if uow.products.get(product.code) is not None:
            raise errors.Conflict(f"product {product.code} exists", constraint="pk_products")
        uow.products.add(product)
        uow.commit()
    return product


def ensure_product(product: Product, uow: UnitOfWork) -> bool:
    """Add `product` unless its code exists (the sandbox's seeding, idempotent). True when added."""
    try:
        add_product(product, uow)
        return True
    except errors.Conflict:
        return False


# --- disbursement and write-off ------------------------------------------------------------
def confirm_disbursement(loan_id: str, reference: str, disbursed_at: datetime | None, uow: UnitOfWork,
                         clock: Clock) -> Loan:
    """The bank paid an APPROVED loan out. Idempotent on `reference`: the same reference again
    returns the loan as it is; another reference on a loan already disbursed is an
    IdempotencyConflict (it was disbursed once, under the first reference)."""
    if not reference or len(reference) > MAX_REFERENCE:
        raise errors.SchemaValidationError(f"reference must be 1-{MAX_REFERENCE} characters")

    def attempt() -> Loan:
        with uow:
            loan = require_loan(uow, loan_id)
            if loan.disbursement_reference is not None:
                if loan.disbursement_reference == reference:
                    return loan
                raise errors.IdempotencyConflict(
                    f"loan {loan_id} was already disbursed under another reference", loan_id=loan_id)
            if loan.status is not LoanStatus.APPROVED:
                raise errors.InvalidLoanState(
                    f"loan {loan_id} is {loan.status.value}; only APPROVED loans can be disbursed",
                    loan_id=loan_id)
            now = clock.now()
            at = disbursed_at or now
            if at > now + DISBURSED_AT_SKEW or (loan.decided_at and at < loan.decided_at):
                raise errors.SchemaValidationError(
                    "disbursedAt must lie between the approval and now", loan_id=loan_id)
            servicing.disburse(loan, require_product(uow, loan.product_code), reference, at, now)
            uow.commit()
            return loan

    return retrying(attempt)


def write_off_loan(loan_id: str, reason: str | None, uow: UnitOfWork, clock: Clock) -> Loan:
    """An admin writes an OVERDUE or DEFAULTED loan off; repayments after it are recoveries."""
    def attempt() -> Loan:
        with uow:
            loan = require_loan(uow, loan_id)
            servicing.write_off(loan, reason or "WRITTEN_OFF_BY_ADMIN", clock.now())
            uow.commit()
            return loan

    return retrying(attempt)


# --- the arrears job ------------------------------------------------------------------------
@dataclass
class ArrearsReport:
    #: loan id -> the statuses it reached in this pass, in order.
    changed: dict[str, list[str]] = field(default_factory=dict)
    #: Loans a concurrent writer (another worker, a repayment) changed first: left to the next pass.
    skipped: int = 0


def run_arrears(uow: UnitOfWork, clock: Clock, batch: int = ARREARS_BATCH) -> ArrearsReport:
    """Take every due time-driven step: EXPIRED for approvals past their validity; OVERDUE (with
    the late penalty), DEFAULTED and WRITTEN_OFF on the arrears timetable. Idempotent, and safe
    with several workers: each loan is changed in its own transaction under its version, so of
    two runs that read the same loan one commits and the other's commit is refused."""
    report = ArrearsReport()
    now = clock.now()
    with uow:
        due = [loan.id for loan in uow.loans.due_for_arrears(now, batch)]
    for loan_id in due:
        with uow:
            loan = uow.loans.get(loan_id)
            if loan is None:
                continue
            product = require_product(uow, loan.product_code)
            if servicing.expire_if_due(loan, product, now):
                reached = [LoanStatus.EXPIRED.value]
            else:
                reached = servicing.apply_arrears(loan, product, now)
                if not reached:
                    servicing.schedule_arrears(loan, product)  # a product changed: re-aim
            try:
                uow.commit()
            except errors.Conflict:
                report.skipped += 1
                continue
        if reached:
            report.changed[loan_id] = reached
    if report.changed:
        log.info("arrears: %d loan(s) moved: %s", len(report.changed),
                 ", ".join(f"{k}->{'/'.join(v)}" for k, v in list(report.changed.items())[:10]))
    return report


# --- the portfolio report -------------------------------------------------------------------
def portfolio_report(uow: UnitOfWork, as_of: datetime) -> PortfolioReport:
    with uow:
        entries = uow.loans.book_entries()
    return build_report(entries, as_of)
