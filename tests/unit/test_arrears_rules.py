"""The arrears timetable and the portfolio report, with time moved by a fake clock instead of slept."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from lms_soap.lending.arrears import days_past_due, due_steps
from lms_soap.lending.portfolio import BookEntry, build_report
from lms_soap.lending.products import SANDBOX_FAST, STANDARD

from .fakes import FakeClock

D = Decimal


def statuses(steps):
    return [step.to_status for step in steps]


def test_a_standard_loan_walks_overdue_defaulted_written_off_on_its_timetable():
    clock = FakeClock()
    due = clock.now() + STANDARD.tenor
    clock.set(due + timedelta(days=3) - timedelta(seconds=1))
    assert due_steps("DISBURSED", due, STANDARD, clock.now()) == []
    clock.advance(1)
    assert statuses(due_steps("DISBURSED", due, STANDARD, clock.now())) == ["OVERDUE"]
    clock.set(due + timedelta(days=60))
    assert statuses(due_steps("OVERDUE", due, STANDARD, clock.now())) == ["DEFAULTED"]
    clock.set(due + timedelta(days=180))
    assert statuses(due_steps("DEFAULTED", due, STANDARD, clock.now())) == ["WRITTEN_OFF"]
    assert due_steps("WRITTEN_OFF", due, STANDARD, clock.now()) == []


def test_a_loan_the_job_did_not_see_for_a_while_takes_each_missed_step_at_its_own_time():
    clock = FakeClock()
    due = clock.now()
    clock.advance(SANDBOX_FAST.write_off_after.total_seconds() + 30)
    steps = due_steps("DISBURSED", due, SANDBOX_FAST, clock.now())
    assert statuses(steps) == ["OVERDUE", "DEFAULTED", "WRITTEN_OFF"]
    assert [s.due_at - due for s in steps] == [SANDBOX_FAST.grace, SANDBOX_FAST.default_after,
                                               SANDBOX_FAST.write_off_after]


def test_loans_that_are_not_in_arrears_take_no_step():
    clock = FakeClock()
    for status in ("APPROVED", "CLOSED", "REJECTED", "EXPIRED"):
        assert due_steps(status, clock.now() - timedelta(days=999), STANDARD, clock.now()) == []
    assert due_steps("DISBURSED", None, STANDARD, clock.now()) == []


def test_days_past_due_count_whole_days():
    clock = FakeClock()
    due = clock.now()
    assert days_past_due(due, clock.now()) == 0
    assert days_past_due(due, clock.advance(hours=23)) == 0
    assert days_past_due(due, clock.advance(hours=1)) == 1
    assert days_past_due(due, due + timedelta(days=90, seconds=1)) == 90
    assert days_past_due(None, clock.now()) == 0


def test_the_portfolio_adds_up_and_par_counts_principal_of_late_loans_over_the_book():
    clock = FakeClock()
    now = clock.now()
    entries = [
        BookEntry("DISBURSED", D("100.00"), D("107.50"), now + timedelta(days=5)),
        BookEntry("OVERDUE", D("200.00"), D("210.00"), now - timedelta(days=2)),
        BookEntry("DEFAULTED", D("300.00"), D("330.00"), now - timedelta(days=45)),
        BookEntry("DEFAULTED", D("400.00"), D("400.00"), now - timedelta(days=100)),
        BookEntry("WRITTEN_OFF", D("50.00"), D("55.00"), now - timedelta(days=200)),
        BookEntry("CLOSED", D("0.00"), D("0.00"), now - timedelta(days=1)),
    ]
    report = build_report(entries, now)
    by_status = {line.status: line for line in report.statuses}
    assert by_status["DEFAULTED"].count == 2 and by_status["DEFAULTED"].total_outstanding == D("730.00")
    assert report.total_outstanding == sum(e.total_outstanding for e in entries)
    assert report.book_principal == D("1000.00")  # written-off loans have left the book
    par = {line.days: line for line in report.par}
    assert (par[1].outstanding, par[30].outstanding, par[90].outstanding) == (
        D("900.00"), D("700.00"), D("400.00"))
    assert (par[1].ratio, par[30].ratio, par[90].ratio) == (D("0.9000"), D("0.7000"), D("0.4000"))


def test_an_empty_portfolio_has_no_risk():
    report = build_report([], FakeClock().now())
    assert report.statuses == [] and all(line.ratio == 0 for line in report.par)
