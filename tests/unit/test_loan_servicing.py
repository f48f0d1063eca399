"""The loan after approval, with fakes and a fake clock: products on SubmitLoan, disbursement,
repayment allocation and recovery, the arrears job, write-off, the statement, the portfolio report
and the outbox rows each transition writes."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from lms_soap.lending import errors
from lms_soap.lending.lifecycle import (
    confirm_disbursement,
    ensure_product,
    list_products,
    portfolio_report,
    run_arrears,
    write_off_loan,
)
from lms_soap.lending.loans import cancel_loan, repay_loan
from lms_soap.lending.model import ChargeType, LoanStatus as S
from lms_soap.lending.products import SANDBOX_FAST, STANDARD
from lms_soap.lending.statement import get_statement

from .world import CUSTOMER, MANUAL, OTHER, World

D = Decimal


@pytest.fixture
def world() -> World:
    w = World()
    w.uow.database.products.update({p.code: p for p in (SANDBOX_FAST, MANUAL)})
    return w


def outbox(world: World, loan_id: str) -> list[tuple]:
    rows = sorted((r for r in world.uow.database.outbox.values() if r.loan_id == loan_id),
                  key=lambda r: r.occurred_at)
    return [(r.previous_status, r.status, r.reason) for r in rows]


def repay(world, loan_id, amount, reference):
    return repay_loan(loan_id, D(amount), reference, world.uow, world.clock)


# --- products and SubmitLoan ---------------------------------------------------------------
def test_products_are_listed_by_code_and_seeding_is_idempotent(world):
    assert [p.code for p in list_products(world.uow)] == ["MANUAL", "SANDBOX-FAST", "STANDARD"]
    assert ensure_product(SANDBOX_FAST, world.uow) is False


def test_an_unknown_product_is_refused_and_nothing_is_stored(world):
    world.register()
    with pytest.raises(errors.ProductNotFound) as refused:
        world.submit("1000.00", product_code="NO-SUCH")
    assert refused.value.faultcode == "Client.ProductNotFound"
    assert world.uow.database.loans == {} and world.queue.scheduled == []


def test_the_amount_must_lie_within_the_products_bounds(world):
    world.register()
    world.uow.database.products["SMALL"] = replace(SANDBOX_FAST, code="SMALL", max_amount=D("500.00"))
    with pytest.raises(errors.AmountOutOfRange):
        world.submit("500.01", product_code="SMALL")
    assert world.submit("500.00", product_code="SMALL").product_code == "SMALL"


def test_a_loan_names_its_product_and_the_replay_compares_it(world):
    world.register()
    loan = world.submit("1000.00", request_id="r-1", product_code="SANDBOX-FAST")
    assert loan.product_code == "SANDBOX-FAST"
    assert world.submit("1000.00", request_id="r-1", product_code="SANDBOX-FAST").id == loan.id
    with pytest.raises(errors.IdempotencyConflict):
        world.submit("1000.00", request_id="r-1")  # STANDARD: another request


def test_without_a_product_code_a_loan_is_standard(world):
    world.register()
    assert world.submit("1000.00").product_code == STANDARD.code


# --- disbursement ----------------------------------------------------------------------------
def test_an_auto_disburse_product_disburses_at_approval_and_charges_its_fee(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    now = world.clock.now()
    assert (loan.disbursed_at, loan.due_date) == (now, now + SANDBOX_FAST.tenor)
    assert loan.disbursement_reference == f"AUTO-{loan.id}"
    assert [(c.type, c.amount, c.applied_at) for c in loan.charges] == [(ChargeType.FEE, D("75.00"), now)]
    assert (loan.principal_outstanding, loan.fees_outstanding, loan.outstanding) == (
        D("1000.00"), D("75.00"), D("1075.00"))
    assert outbox(world, loan.id) == [(S.SCORING, S.APPROVED, "WITHIN_LIMIT"),
                                      (S.APPROVED, S.DISBURSED, "AUTO_DISBURSED")]


def test_a_standard_loan_charges_no_fee_and_is_due_in_30_days(world):
    loan = world.disbursed_loan("1000.00")
    assert loan.charges == [] and loan.outstanding == D("1000.00")
    assert loan.due_date - loan.disbursed_at == timedelta(days=30)


def test_a_manual_product_waits_for_confirm_disbursement_which_is_idempotent_on_reference(world):
    loan = world.approved_loan("1000.00")
    assert loan.disbursed_at is None and loan.outstanding is None
    paid_at = world.clock.advance(3600) - timedelta(minutes=10)
    disbursed = confirm_disbursement(loan.id, "BANK-TX-1", paid_at, world.uow, world.clock)
    assert (disbursed.status, disbursed.disbursed_at, disbursed.due_date) == (
        S.DISBURSED, paid_at, paid_at + MANUAL.tenor)
    assert disbursed.fees_outstanding == D("75.00")
    again = confirm_disbursement(loan.id, "BANK-TX-1", None, world.uow, world.clock)
    assert again.disbursed_at == paid_at and len(world.loan(loan.id).charges) == 1
    with pytest.raises(errors.IdempotencyConflict):
        confirm_disbursement(loan.id, "BANK-TX-2", None, world.uow, world.clock)


@pytest.mark.parametrize("when", [timedelta(minutes=10), -timedelta(hours=2)])
def test_a_disbursement_time_in_the_future_or_before_the_approval_is_refused(world, when):
    loan = world.approved_loan("1000.00")
    world.clock.advance(3600)
    with pytest.raises(errors.SchemaValidationError):
        confirm_disbursement(loan.id, "TX", world.clock.now() + when, world.uow, world.clock)
    assert world.loan(loan.id).status is S.APPROVED


def test_only_an_approved_loan_can_be_disbursed(world):
    world.register()
    loan = world.submit()
    with pytest.raises(errors.InvalidLoanState):
        confirm_disbursement(loan.id, "TX", None, world.uow, world.clock)
    with pytest.raises(errors.LoanNotFound):
        confirm_disbursement("LN-NOPE", "TX", None, world.uow, world.clock)


def test_an_approval_not_disbursed_in_time_expires_and_frees_the_customer(world):
    loan = world.approved_loan("1000.00")
    world.clock.advance(MANUAL.approval_validity.total_seconds() - 1)
    assert run_arrears(world.uow, world.clock).changed == {}
    world.clock.advance(1)
    assert run_arrears(world.uow, world.clock).changed == {loan.id: ["EXPIRED"]}
    stored = world.loan(loan.id)
    assert (stored.status, stored.status_reason) == (S.EXPIRED, "APPROVAL_VALIDITY_PASSED")
    assert outbox(world, loan.id)[-1] == (S.APPROVED, S.EXPIRED, "APPROVAL_VALIDITY_PASSED")
    assert world.submit("500.00").status is S.PENDING


def test_an_approved_loan_can_be_cancelled_and_then_not_disbursed(world):
    loan = world.approved_loan("1000.00")
    cancel_loan(loan.id, "customer declined", world.uow, world.clock)
    with pytest.raises(errors.InvalidLoanState):
        confirm_disbursement(loan.id, "TX", None, world.uow, world.clock)


# --- repayments ------------------------------------------------------------------------------
def test_a_partial_repayment_pays_penalties_then_fees_then_principal(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    world.clock.advance((SANDBOX_FAST.tenor + SANDBOX_FAST.grace).total_seconds())
    run_arrears(world.uow, world.clock)
    assert world.loan(loan.id).penalties_outstanding == D("50.00")  # 5 % of the principal
    repay(world, loan.id, "100.00", "TX-1")
    stored = world.loan(loan.id)
    r = stored.repayments[0]
    assert (r.penalty_part, r.fee_part, r.principal_part, r.recovery) == (D("50.00"), D("50.00"), D("0.00"), False)
    assert (stored.penalties_outstanding, stored.fees_outstanding, stored.principal_outstanding) == (
        D("0.00"), D("25.00"), D("1000.00"))
    closed = repay(world, loan.id, "1025.00", "TX-2")
    assert closed.status is S.CLOSED and closed.outstanding == 0
    assert outbox(world, loan.id)[-1] == (S.OVERDUE, S.CLOSED, "REPAID")


def test_more_than_the_total_outstanding_is_refused(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    with pytest.raises(errors.AmountExceedsOutstanding):
        repay(world, loan.id, "1075.01", "TX-1")
    assert world.loan(loan.id).repayments == []


def test_an_approved_loan_not_disbursed_takes_no_repayment(world):
    loan = world.approved_loan()
    with pytest.raises(errors.InvalidLoanState):
        repay(world, loan.id, "10.00", "TX-1")


# --- the arrears job -------------------------------------------------------------------------
def test_a_fast_loan_walks_overdue_defaulted_written_off_with_one_penalty_and_each_step_recorded(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    due = loan.due_date
    world.clock.set(due + SANDBOX_FAST.grace)
    assert run_arrears(world.uow, world.clock).changed == {loan.id: ["OVERDUE"]}
    assert run_arrears(world.uow, world.clock).changed == {}  # run twice: nothing more
    world.clock.set(due + SANDBOX_FAST.default_after)
    assert run_arrears(world.uow, world.clock).changed == {loan.id: ["DEFAULTED"]}
    world.clock.set(due + SANDBOX_FAST.write_off_after)
    assert run_arrears(world.uow, world.clock).changed == {loan.id: ["WRITTEN_OFF"]}
    stored = world.loan(loan.id)
    assert [c.type for c in stored.charges] == [ChargeType.FEE, ChargeType.PENALTY]
    assert [(e.to_status, e.reason) for e in stored.events[-3:]] == [
        (S.OVERDUE, "PAST_DUE"), (S.DEFAULTED, "DEFAULT_PERIOD_PASSED"),
        (S.WRITTEN_OFF, "WRITE_OFF_PERIOD_PASSED")]
    assert stored.written_off_at == due + SANDBOX_FAST.write_off_after and stored.next_arrears_at is None
    assert [s for _, s, _ in outbox(world, loan.id)][-3:] == [S.OVERDUE, S.DEFAULTED, S.WRITTEN_OFF]
    assert run_arrears(world.uow, world.clock).changed == {}


def test_a_loan_the_job_missed_takes_every_step_in_one_pass_each_at_its_time(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    world.clock.set(loan.due_date + timedelta(hours=1))
    assert run_arrears(world.uow, world.clock).changed == {loan.id: ["OVERDUE", "DEFAULTED", "WRITTEN_OFF"]}
    stored = world.loan(loan.id)
    assert [e.at - loan.due_date for e in stored.events[-3:]] == [
        SANDBOX_FAST.grace, SANDBOX_FAST.default_after, SANDBOX_FAST.write_off_after]
    assert len([c for c in stored.charges if c.type is ChargeType.PENALTY]) == 1


def test_a_concurrent_run_that_committed_first_makes_the_other_change_nothing(world):
    loan = world.disbursed_loan("1000.00", product=SANDBOX_FAST)
    world.clock.set(loan.due_date + SANDBOX_FAST.grace)
    world.uow.interleave(lambda other: run_arrears(other, world.clock))
    report = run_arrears(world.uow, world.clock)
    assert report.changed == {} and report.skipped == 1
    stored = world.loan(loan.id)
    assert [c.type for c in stored.charges].count(ChargeType.PENALTY) == 1
    assert [e.to_status for e in stored.events].count(S.OVERDUE) == 1
    assert [s for _, s, _ in outbox(world, loan.id)].count(S.OVERDUE) == 1


def test_a_repaid_loan_leaves_the_arrears_job_alone(world):
    loan = world.disbursed_loan("1000.00")
    repay(world, loan.id, "1000.00", "TX-ALL")
    world.clock.advance(days=365)
    assert run_arrears(world.uow, world.clock).changed == {}


# --- write-off and recovery ------------------------------------------------------------------
def overdue_loan(world, product=SANDBOX_FAST):
    loan = world.disbursed_loan("1000.00", product=product)
    world.clock.set(loan.due_date + product.grace)
    run_arrears(world.uow, world.clock)
    return world.loan(loan.id)


def test_an_admin_writes_off_an_overdue_loan_and_a_repayment_after_it_is_a_recovery(world):
    loan = overdue_loan(world)
    written = write_off_loan(loan.id, "fraud suspected", world.uow, world.clock)
    assert (written.status, written.status_reason, written.written_off_at) == (
        S.WRITTEN_OFF, "fraud suspected", world.clock.now())
    assert written.outstanding == D("1125.00")  # 1000 + 75 fee + 50 penalty, unrecovered
    recovered = repay(world, loan.id, "200.00", "REC-1")
    assert recovered.status is S.WRITTEN_OFF and recovered.recovered == D("200.00")
    assert recovered.repayments[-1].recovery is True
    assert recovered.outstanding == D("925.00")


def test_a_written_off_loan_not_recovered_in_full_keeps_its_customer_from_borrowing(world):
    loan = overdue_loan(world)
    write_off_loan(loan.id, None, world.uow, world.clock)
    with pytest.raises(errors.CustomerInArrears) as refused:
        world.submit("100.00")
    assert refused.value.faultcode == "Client.CustomerInArrears"
    world.register(OTHER)
    assert world.submit("100.00", customer_number=OTHER).status is S.PENDING  # only that customer
    repay(world, loan.id, "1125.00", "REC-ALL")
    assert world.loan(loan.id).status is S.WRITTEN_OFF
    assert world.submit("100.00").status is S.PENDING


@pytest.mark.parametrize("make", ["disbursed", "approved"])
def test_only_overdue_or_defaulted_loans_can_be_written_off(world, make):
    loan = world.disbursed_loan() if make == "disbursed" else world.approved_loan()
    with pytest.raises(errors.InvalidLoanState):
        write_off_loan(loan.id, None, world.uow, world.clock)


# --- statement and portfolio -----------------------------------------------------------------
def test_the_statement_shows_dates_charges_allocated_repayments_and_balances(world):
    loan = overdue_loan(world)
    repay(world, loan.id, "60.00", "TX-1")
    world.clock.set(loan.due_date + timedelta(days=2, seconds=1))
    s = get_statement(loan.id, world.uow, world.clock)
    assert (s.disbursed_at, s.due_date, s.days_past_due) == (loan.disbursed_at, loan.due_date, 2)
    assert [(c.type, c.amount) for c in s.charges] == [(ChargeType.FEE, D("75.00")), (ChargeType.PENALTY, D("50.00"))]
    assert [(r.reference, r.penalty_part, r.fee_part, r.principal_part) for r in s.repayments] == [
        ("TX-1", D("50.00"), D("10.00"), D("0.00"))]
    assert (s.principal_outstanding, s.fees_outstanding, s.penalties_outstanding, s.total_outstanding,
            s.recovered) == (D("1000.00"), D("65.00"), D("0.00"), D("1065.00"), D("0.00"))
    assert s.allocation_order == "PENALTIES, FEES, PRINCIPAL"


def test_the_portfolio_report_adds_up_to_the_loans_balances(world):
    daily = replace(MANUAL, code="DAILY", auto_disburse=True)
    late = overdue_loan(world, daily)
    world.register(OTHER)
    fresh = world.disbursed_loan("500.00", customer_number=OTHER)
    world.clock.set(late.due_date + timedelta(days=31))
    run_arrears(world.uow, world.clock)
    report = portfolio_report(world.uow, world.clock.now())
    lines = {line.status: line for line in report.statuses}
    assert (lines["OVERDUE"].count, lines["OVERDUE"].total_outstanding) == (1, D("1125.00"))
    assert lines["DISBURSED"].total_outstanding == world.loan(fresh.id).outstanding
    assert report.total_outstanding == sum(world.loan(i).outstanding for i in (late.id, fresh.id))
    par = {p.days: p for p in report.par}
    assert par[30].outstanding == D("1000.00") and par[90].outstanding == D("0.00")
