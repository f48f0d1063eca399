"""SubmitLoan, GetLoanStatus, ListLoans, CancelLoan and RepayLoan (lending.loans) with fakes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from lms_soap.lending import errors
from lms_soap.lending.loans import cancel_loan, get_loan, list_loans, repay_loan, submit_loan
from lms_soap.lending.model import Customer, KycStatus, LoanStatus as S

from .fakes import kyc, score
from .world import ADMIN, BANK_A, BANK_B, CUSTOMER, OTHER, UNKNOWN, World


@pytest.fixture
def world() -> World:
    w = World()
    w.register(CUSTOMER)
    w.register(OTHER)
    return w


def submit(world: World, amount="1000.00", customer=CUSTOMER, request_id=None, caller=BANK_A):
    return submit_loan(customer, Decimal(amount), request_id, world.uow, world.queue, world.clock,
                       world.loan_policy, caller=caller)


# --- SubmitLoan ---------------------------------------------------------------------------
def test_a_loan_is_accepted_pending_and_its_scoring_queued(world):
    loan = submit(world, "2500.50", request_id="req-1")
    assert (loan.customer_number, loan.amount, loan.currency, loan.status, loan.request_id) == (
        CUSTOMER, Decimal("2500.50"), "KES", S.PENDING, "req-1")
    assert loan.created_at == loan.updated_at == world.clock.now() and loan.scoring_attempts == 0
    assert world.uow.database.loans[loan.id].status is S.PENDING
    assert world.queue.scheduled == [(loan.id, None)]


def test_loan_ids_are_opaque_and_distinct(world):
    first = submit(world)
    cancel_loan(first.id, None, world.uow, world.clock)
    second = submit(world)
    assert first.id != second.id and len(first.id) >= 24 and CUSTOMER not in first.id


@pytest.mark.parametrize("amount", ["100.00", "100", "50000.00", "1234.5", "100.000"])
def test_amounts_within_the_bounds_with_at_most_two_decimals_are_accepted(world, amount):
    assert submit(world, amount).amount == Decimal(amount)


@pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", "-5000", "99.99", "50000.01", "150.001",
                                    "0.001", "NaN", "Infinity", "-Infinity"])
def test_other_amounts_are_out_of_range_and_nothing_is_stored(world, amount):
    with pytest.raises(errors.AmountOutOfRange) as refused:
        submit(world, amount)
    assert refused.value.faultcode == "Client.AmountOutOfRange"
    assert world.uow.database.loans == {} and world.queue.scheduled == []


def test_an_unregistered_customer_cannot_apply(world):
    with pytest.raises(errors.CustomerNotRegistered):
        submit(world, customer=UNKNOWN)
    assert world.uow.database.loans == {}


def test_a_customer_stored_inactive_cannot_apply(world):
    with world.uow:  # a snapshot written INACTIVE (no use case stores one; the rule still holds)
        world.uow.customers.add(Customer.from_kyc(kyc("555000111", KycStatus.INACTIVE), world.clock.now()))
        world.uow.commit()
    with pytest.raises(errors.CustomerInactive):
        submit(world, customer="555000111")
    assert world.uow.database.loans == {}


def test_submitting_works_from_the_snapshot_while_the_cbs_is_down(world):
    world.cbs.unavailable = True
    assert submit(world).status is S.PENDING


@pytest.mark.parametrize("ongoing", [S.PENDING, S.SCORING, S.APPROVED, S.DISBURSED])
def test_a_second_loan_while_one_is_ongoing_names_the_ongoing_one(world, ongoing):
    first = {S.PENDING: lambda: submit(world), S.SCORING: world.scoring_loan,
             S.APPROVED: world.approved_loan, S.DISBURSED: world.disbursed_loan}[ongoing]()
    scheduled = list(world.queue.scheduled)
    with pytest.raises(errors.LoanInProgress) as refused:
        submit(world, "300.00")
    assert refused.value.loan_id == first.id and refused.value.customer_number == CUSTOMER
    assert list(world.uow.database.loans) == [first.id] and world.queue.scheduled == scheduled


def test_another_customer_is_not_blocked(world):
    submit(world, customer=CUSTOMER)
    assert submit(world, customer=OTHER).status is S.PENDING


def finish(world: World, how: S) -> str:
    if how is S.CANCELLED:
        loan = submit(world)
        cancel_loan(loan.id, "changed my mind", world.uow, world.clock)
    elif how is S.REJECTED:
        loan = world.decided_loan("6000.00", limit="5000.00")
    elif how is S.FAILED:
        world.engine.unavailable = True
        loan = submit(world)
        for _ in range(world.scoring_policy.max_initiate_attempts):
            world.step_when_due(loan.id)
        world.engine.unavailable = False
    else:
        loan = world.disbursed_loan("1000.00")
        repay_loan(loan.id, Decimal("1000.00"), "TX-ALL", world.uow, world.clock)
    assert world.loan(loan.id).status is how
    return loan.id


@pytest.mark.parametrize("how", [S.REJECTED, S.FAILED, S.CANCELLED, S.CLOSED])
def test_after_a_loan_ends_a_new_one_is_accepted(world, how):
    old_id = finish(world, how)
    world.clock.advance(60)
    loan = submit(world, "800.00")
    assert loan.id != old_id and loan.status is S.PENDING


def test_the_same_request_id_replays_the_same_loan(world):
    first = submit(world, "1000.00", request_id="req-42")
    world.clock.advance(30)
    again = submit(world, "1000.0", request_id="req-42")
    assert again.id == first.id and again.created_at == first.created_at
    assert len(world.uow.database.loans) == 1 and world.queue.scheduled == [(first.id, None)]


def test_a_replay_is_answered_even_after_the_loan_was_decided(world):
    world.register_scoring()
    loan = submit(world, "6000.00", request_id="req-9")
    world.step(loan.id)
    world.engine.query_answers.append(score(limit="5000.00"))
    assert world.step_when_due(loan.id) is S.REJECTED
    replay = submit(world, "6000.00", request_id="req-9")
    assert (replay.id, replay.status, replay.status_reason) == (loan.id, S.REJECTED, "AMOUNT_ABOVE_LIMIT")
    assert len(world.uow.database.loans) == 1


@pytest.mark.parametrize("amount, customer", [("1000.01", CUSTOMER), ("1000.00", OTHER)])
def test_the_same_request_id_with_other_values_is_a_conflict(world, amount, customer):
    first = submit(world, "1000.00", request_id="req-42")
    with pytest.raises(errors.IdempotencyConflict) as refused:
        submit(world, amount, customer=customer, request_id="req-42")
    assert refused.value.loan_id == first.id
    assert list(world.uow.database.loans) == [first.id]


# --- requestId belongs to its API client; faults name only the caller's own loans ----------------
def test_two_clients_may_use_the_same_request_id(world):
    mine = submit(world, "1000.00", CUSTOMER, request_id="order-1", caller=BANK_A)
    theirs = submit(world, "2000.00", OTHER, request_id="order-1", caller=BANK_B)
    assert mine.id != theirs.id and (mine.created_by, theirs.created_by) == ("bank-a", "bank-b")
    assert submit(world, "2000.00", OTHER, request_id="order-1", caller=BANK_B).id == theirs.id
    assert submit(world, "1000.00", CUSTOMER, request_id="order-1", caller=BANK_A).id == mine.id


def test_another_clients_request_id_is_no_conflict_and_names_no_loan(world):
    """Client B reusing client A's requestId (other values) meets no IdempotencyConflict naming
    A's loan: B's request is judged on its own."""
    submit(world, "1000.00", CUSTOMER, request_id="order-1", caller=BANK_A)
    theirs = submit(world, "1500.00", OTHER, request_id="order-1", caller=BANK_B)
    assert theirs.status is S.PENDING and len(world.uow.database.loans) == 2


def test_an_ongoing_loan_of_another_client_is_not_named(world):
    first = submit(world, "1000.00", CUSTOMER, request_id="order-1", caller=BANK_A)
    for request_id in ("order-1", None):  # A's requestId and values, or none: no replay of A's loan
        with pytest.raises(errors.LoanInProgress) as refused:
            submit(world, "1000.00", CUSTOMER, request_id=request_id, caller=BANK_B)
        assert refused.value.loan_id is None and first.id not in refused.value.message
        assert refused.value.customer_number == CUSTOMER
        assert "ongoing loan" in refused.value.message
    with pytest.raises(errors.LoanInProgress) as seen_by_admin:
        submit(world, "300.00", CUSTOMER, caller=ADMIN)
    assert seen_by_admin.value.loan_id == first.id
    assert list(world.uow.database.loans) == [first.id]


def test_a_concurrent_submission_by_another_client_is_not_named(world):
    rival = {}
    world.uow.interleave(lambda other: rival.setdefault("loan", submit_loan(
        CUSTOMER, Decimal("700.00"), "r-1", other, world.queue, world.clock, world.loan_policy,
        caller=BANK_B)))
    with pytest.raises(errors.LoanInProgress) as refused:
        submit(world, "900.00", request_id="r-1", caller=BANK_A)
    assert refused.value.loan_id is None and rival["loan"].id not in refused.value.message


def test_when_the_queue_is_down_the_loan_is_still_accepted_and_waits_for_the_reconciler(world):
    world.queue.unavailable = True
    loan = submit(world)
    stored = world.loan(loan.id)
    assert stored.status is S.PENDING and stored.next_attempt_at == world.clock.now()
    assert world.queue.scheduled == []
    world.queue.unavailable = False
    world.clock.advance(60)
    assert world.reconcile().requeued == 1 and world.queue.scheduled == [(loan.id, None)]


def test_the_job_is_queued_only_once_the_loan_is_committed(world):
    seen = []
    world.queue.on_schedule = lambda loan_id, at: seen.append(loan_id in world.uow.database.loans)
    submit(world)
    assert seen == [True]


def test_a_concurrent_submission_that_committed_first_wins(world):
    rival = {}
    world.uow.interleave(lambda other: rival.setdefault("loan", submit_loan(
        CUSTOMER, Decimal("700.00"), None, other, world.queue, world.clock, world.loan_policy,
        caller=BANK_A)))
    with pytest.raises(errors.LoanInProgress) as refused:
        submit(world, "900.00")
    assert refused.value.loan_id == rival["loan"].id
    assert [x.amount for x in world.uow.database.loans.values()] == [Decimal("700.00")]


def test_a_concurrent_replay_of_the_same_request_id_returns_the_one_loan(world):
    rival = {}
    world.uow.interleave(lambda other: rival.setdefault("loan", submit_loan(
        CUSTOMER, Decimal("900.00"), "req-7", other, world.queue, world.clock, world.loan_policy,
        caller=BANK_A)))
    loan = submit(world, "900.00", request_id="req-7")
    assert loan.id == rival["loan"].id and len(world.uow.database.loans) == 1


# --- GetLoanStatus, ListLoans ---------------------------------------------------------------
def test_get_loan_by_id_and_unknown_id(world):
    loan = submit(world)
    assert get_loan(world.uow, loan_id=loan.id).id == loan.id
    with pytest.raises(errors.LoanNotFound) as refused:
        get_loan(world.uow, loan_id="LN-NOT-THERE")
    assert refused.value.loan_id == "LN-NOT-THERE"


def test_get_loan_by_customer_gives_the_latest(world):
    old = submit(world)
    cancel_loan(old.id, None, world.uow, world.clock)
    world.clock.advance(60)
    new = submit(world, "200.00")
    assert get_loan(world.uow, customer_number=CUSTOMER).id == new.id


def test_get_loan_by_customer_without_loans_or_registration(world):
    with pytest.raises(errors.LoanNotFound):
        get_loan(world.uow, customer_number=CUSTOMER)
    with pytest.raises(errors.CustomerNotRegistered):
        get_loan(world.uow, customer_number=UNKNOWN)
    with pytest.raises(errors.SchemaValidationError):
        get_loan(world.uow)


@pytest.fixture
def history(world):
    """Five loans of CUSTOMER, oldest first: four cancelled, the last one PENDING."""
    ids = []
    for n in range(5):
        loan = submit(world, f"{100 + n}.00")
        ids.append(loan.id)
        if n < 4:
            cancel_loan(loan.id, None, world.uow, world.clock)
        world.clock.advance(60)
    submit(world, customer=OTHER)
    return ids


def test_list_loans_newest_first_with_total(world, history):
    loans, total = list_loans(world.uow, CUSTOMER)
    assert [x.id for x in loans] == history[::-1] and total == 5


def test_list_loans_filters_by_status(world, history):
    loans, total = list_loans(world.uow, CUSTOMER, S.CANCELLED)
    assert [x.id for x in loans] == history[3::-1] and total == 4
    assert list_loans(world.uow, CUSTOMER, S.APPROVED) == ([], 0)


def test_list_loans_pages(world, history):
    loans, total = list_loans(world.uow, CUSTOMER, offset=1, limit=2)
    assert [x.id for x in loans] == [history[3], history[2]] and total == 5
    loans, total = list_loans(world.uow, CUSTOMER, offset=5, limit=100)
    assert list(loans) == [] and total == 5


@pytest.mark.parametrize("offset, limit", [(-1, 20), (0, 0), (0, 101), (0, -5)])
def test_list_loans_refuses_paging_out_of_bounds(world, offset, limit):
    with pytest.raises(errors.SchemaValidationError):
        list_loans(world.uow, CUSTOMER, offset=offset, limit=limit)


def test_list_loans_of_an_unregistered_customer(world):
    with pytest.raises(errors.CustomerNotRegistered):
        list_loans(world.uow, UNKNOWN)


# --- CancelLoan ---------------------------------------------------------------------------
@pytest.mark.parametrize("status", [S.PENDING, S.SCORING, S.APPROVED])
def test_a_loan_not_yet_disbursed_can_be_cancelled(world, status):
    loan = {S.PENDING: lambda: submit(world), S.SCORING: world.scoring_loan,
            S.APPROVED: world.approved_loan}[status]()
    at = world.clock.advance(5)
    cancelled = cancel_loan(loan.id, "customer asked", world.uow, world.clock)
    stored = world.loan(loan.id)
    assert (cancelled.status, stored.status, stored.status_reason) == (
        S.CANCELLED, S.CANCELLED, "customer asked")
    assert (stored.events[-1].from_status, stored.events[-1].at) == (status, at)


def test_a_cancellation_without_reason_gets_a_default_one(world):
    loan = submit(world)
    assert cancel_loan(loan.id, None, world.uow, world.clock).status_reason == "CANCELLED_BY_REQUEST"


@pytest.mark.parametrize("status", [S.DISBURSED, S.REJECTED, S.FAILED, S.CANCELLED, S.CLOSED])
def test_other_loans_cannot_be_cancelled(world, status):
    loan_id = world.disbursed_loan().id if status is S.DISBURSED else finish(world, status)
    before = world.loan(loan_id)
    with pytest.raises(errors.InvalidLoanState) as refused:
        cancel_loan(loan_id, None, world.uow, world.clock)
    assert refused.value.loan_id == loan_id and world.loan(loan_id) == before


def test_cancelling_an_unknown_loan(world):
    with pytest.raises(errors.LoanNotFound):
        cancel_loan("LN-NOT-THERE", None, world.uow, world.clock)


def test_a_decision_committed_during_the_cancellation_wins(world):
    loan = world.scoring_loan()
    world.engine.query_answers.append(score())
    world.clock.set(world.loan(loan.id).next_attempt_at)
    world.uow.interleave(lambda other: World(uow=other, engine=world.engine, clock=world.clock).step(loan.id))
    with pytest.raises(errors.InvalidLoanState):
        cancel_loan(loan.id, None, world.uow, world.clock)
    assert world.loan(loan.id).status is S.DISBURSED  # approved and disbursed at once (STANDARD)


# --- RepayLoan ----------------------------------------------------------------------------
def test_repayments_are_stored_and_the_last_one_closes_the_loan(world):
    loan = world.disbursed_loan("1000.00")
    partly = repay_loan(loan.id, Decimal("250.00"), "TX-1", world.uow, world.clock)
    assert partly.outstanding == Decimal("750.00")
    assert world.loan(loan.id).outstanding == Decimal("750.00")
    closed = repay_loan(loan.id, Decimal("750.00"), "TX-2", world.uow, world.clock)
    stored = world.loan(loan.id)
    assert closed.status is stored.status is S.CLOSED and stored.outstanding == 0
    assert [(r.reference, r.amount) for r in stored.repayments] == [("TX-1", Decimal("250.00")),
                                                                   ("TX-2", Decimal("750.00"))]


def test_a_repeated_repayment_is_applied_once(world):
    loan = world.disbursed_loan("1000.00")
    repay_loan(loan.id, Decimal("250.00"), "TX-1", world.uow, world.clock)
    again = repay_loan(loan.id, Decimal("250.00"), "TX-1", world.uow, world.clock)
    assert again.outstanding == world.loan(loan.id).outstanding == Decimal("750.00")


def test_a_repayment_that_raced_with_its_own_repeat_is_applied_once(world):
    loan = world.disbursed_loan("1000.00")
    world.uow.interleave(lambda other: repay_loan(loan.id, Decimal("250.00"), "TX-1", other, world.clock))
    repaid = repay_loan(loan.id, Decimal("250.00"), "TX-1", world.uow, world.clock)
    assert repaid.outstanding == world.loan(loan.id).outstanding == Decimal("750.00")
    assert len(world.loan(loan.id).repayments) == 1


@pytest.mark.parametrize("amount, error", [
    ("0.00", errors.AmountOutOfRange), ("-10.00", errors.AmountOutOfRange),
    ("10.005", errors.AmountOutOfRange), ("1000.01", errors.AmountExceedsOutstanding)])
def test_bad_repayments_are_refused_and_change_nothing(world, amount, error):
    loan = world.disbursed_loan("1000.00")
    with pytest.raises(error):
        repay_loan(loan.id, Decimal(amount), "TX-1", world.uow, world.clock)
    assert world.loan(loan.id) == loan


def test_repaying_a_loan_that_is_not_disbursed_or_unknown(world):
    loan = submit(world)
    with pytest.raises(errors.InvalidLoanState):
        repay_loan(loan.id, Decimal("10.00"), "TX-1", world.uow, world.clock)
    with pytest.raises(errors.LoanNotFound):
        repay_loan("LN-NOT-THERE", Decimal("10.00"), "TX-1", world.uow, world.clock)


def test_a_reference_reused_with_another_amount_is_a_conflict(world):
    loan = world.disbursed_loan("1000.00")
    repay_loan(loan.id, Decimal("250.00"), "TX-1", world.uow, world.clock)
    with pytest.raises(errors.IdempotencyConflict):
        repay_loan(loan.id, Decimal("300.00"), "TX-1", world.uow, world.clock)
    assert world.loan(loan.id).outstanding == Decimal("750.00")
