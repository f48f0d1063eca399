"""The arrears timetable of a disbursed loan, as a pure function of its due date, its product and
the time: which transitions are due. The arrears job (jobs/) applies them; tests move a fake clock.

  due date + grace         -> OVERDUE      (the late penalty is charged once, here)
  due date + defaultAfter  -> DEFAULTED
  due date + writeOffAfter -> WRITTEN_OFF

A loan the job has not seen for a while takes every step it missed in one pass, in order, each
recorded in its history with the time it fell due, so the history reads as if the job never slept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .products import Product

OVERDUE, DEFAULTED, WRITTEN_OFF = "OVERDUE", "DEFAULTED", "WRITTEN_OFF"
#: The order a loan walks in arrears, from the status before each step.
_LADDER = (("DISBURSED", OVERDUE, "PAST_DUE"), (OVERDUE, DEFAULTED, "DEFAULT_PERIOD_PASSED"),
           (DEFAULTED, WRITTEN_OFF, "WRITE_OFF_PERIOD_PASSED"))
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ArrearsStep:
    to_status: str
    reason: str
    due_at: datetime  # when the step fell due (recorded as the transition's time)


def _threshold(to_status: str, product: Product) -> timedelta:
    return {OVERDUE: product.grace, DEFAULTED: product.default_after,
            WRITTEN_OFF: product.write_off_after}[to_status]


def due_steps(status: str, due_date: datetime | None, product: Product, now: datetime) -> list[ArrearsStep]:
    """The arrears transitions due for a loan in `status`, oldest first (empty when none)."""
    if due_date is None:
        return []
    steps = []
    for from_status, to_status, reason in _LADDER:
        if status != from_status:
            continue
        due_at = due_date + _threshold(to_status, product)
        if now < due_at:
            break
        steps.append(ArrearsStep(to_status, reason, due_at))
        status = to_status
    return steps


def days_past_due(due_date: datetime | None, now: datetime) -> int:
    """Whole days since the due date (0 until a full day has passed, and before it)."""
    if due_date is None or now <= due_date:
        return 0
    return (now - due_date) // ONE_DAY
