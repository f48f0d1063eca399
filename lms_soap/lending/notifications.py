"""Delivery of the bank notifications (NotifyLoanEvent) from the outbox, at least once.

Each pass claims the due rows (a lease on each: a row another worker holds is skipped), sends each
outside any transaction, then marks it delivered or schedules its retry with a capped exponential
back-off. Nothing is ever given up: a row that keeps failing is retried every `backoff_max` seconds
and counted (attempts, last_error), and logged at each failure. A worker that dies mid-send leaves
its rows claimed until the lease ends; then another pass sends them again, with the same eventId.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from . import errors
from .ports import BankNotifier, Clock, UnitOfWork

log = logging.getLogger(__name__)

#: Recorded on rows that were never sent because BANK_CALLBACK_URL is unset.
NOT_SENT = "not sent: BANK_CALLBACK_URL is unset"


@dataclass(frozen=True)
class DeliveryPolicy:
    backoff_base: float = 1.0  # seconds before the first retry; doubled per failed attempt
    backoff_max: float = 300.0  # the longest wait between two attempts, seconds
    #: Seconds a claimed row is held by its sender: longer than one send can take (the notifier's
    #: deadline), so only a crashed sender's row is taken over.
    lease: float = 60.0
    batch: int = 50

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max))


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    not_sent: int = 0


def deliver_notifications(uow: UnitOfWork, notifier: BankNotifier | None, clock: Clock,
                          policy: DeliveryPolicy = DeliveryPolicy()) -> DeliveryReport:
    """One pass over the due outbox rows. With no notifier (BANK_CALLBACK_URL unset) the rows
    are marked delivered with NOT_SENT as their note: nothing is sent, nothing piles up."""
    now = clock.now()
    with uow:
        claimed = list(uow.outbox.claim_due(now, now + timedelta(seconds=policy.lease), policy.batch))
        uow.commit()
    if notifier is None:
        with uow:
            for row in claimed:
                uow.outbox.mark_delivered(row.event_id, now, NOT_SENT)
            uow.commit()
        return DeliveryReport(not_sent=len(claimed))
    delivered = failed = 0
    for row in claimed:
        with uow:
            loan = uow.loans.get(row.loan_id)
        try:
            notifier.notify(row, loan)
        except errors.BankCallbackFailed as exc:
            failed += 1
            with uow:
                attempts = uow.outbox.mark_failed(row.event_id, str(exc), clock.now() + policy.delay(row.attempts + 1))
                uow.commit()
            log.warning("NotifyLoanEvent %s (loan %s %s) failed, attempt %d: %s", row.event_id,
                        row.loan_id, row.status.value, attempts, exc)
            continue
        delivered += 1
        with uow:
            uow.outbox.mark_delivered(row.event_id, clock.now())
            uow.commit()
    return DeliveryReport(delivered=delivered, failed=failed)
