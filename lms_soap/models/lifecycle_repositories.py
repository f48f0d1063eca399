"""Repositories of release 1.1's loan servicing: loan products and the bank-notification outbox."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from lms_soap.lending.model import Notification
from lms_soap.lending.products import Product

from . import tables
from .statements import prebuilt

_DURATIONS = ("tenor", "grace", "default_after", "write_off_after", "approval_validity")
_PLAIN = ("code", "name", "currency", "min_amount", "max_amount", "fee_percent",
          "late_penalty_percent", "auto_disburse")
#: Longest error text kept on an outbox row.
ERROR_LIMIT = 500


def plain_percent(value) -> Decimal:
    """NUMERIC(7, 4) reads back as 7.5000: the percent as given (7.5; 100, not 1E+2)."""
    value = Decimal(value).normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def product_row(product: Product) -> dict:
    row = {name: getattr(product, name) for name in _PLAIN}
    row.update({f"{name}_seconds": int(getattr(product, name).total_seconds()) for name in _DURATIONS})
    return row


def _product(row) -> Product:
    values = {name: getattr(row, name) for name in _PLAIN}
    values.update({name: timedelta(seconds=getattr(row, f"{name}_seconds")) for name in _DURATIONS})
    for name in ("fee_percent", "late_penalty_percent"):
        values[name] = plain_percent(values[name])
    values["auto_disburse"] = bool(values["auto_disburse"])
    return Product(**values)


class SqlProductRepository:
    """Products are values (frozen dataclasses), read and written with Core statements."""

    def __init__(self, session: Session):
        self.session = session
        self._cache: dict[str, Product] = {}

    def add(self, product: Product) -> None:
        self.session.execute(insert(tables.products).values(**product_row(product)))

    def get(self, code: str) -> Product | None:
        if code not in self._cache:  # per transaction: the arrears job reads a product per loan
            stmt = prebuilt("product", lambda: select(tables.products).where(
                tables.products.c.code == bindparam("code")))
            row = self.session.execute(stmt, {"code": code}).first()
            if row is None:
                return None
            self._cache[code] = _product(row)
        return self._cache[code]

    def list(self) -> Sequence[Product]:
        rows = self.session.execute(select(tables.products).order_by(tables.products.c.code)).all()
        return [_product(row) for row in rows]


class SqlOutboxRepository:
    def __init__(self, session: Session):
        self.session = session

    def claim_due(self, now: datetime, lease_end: datetime, limit: int) -> Sequence[Notification]:
        t = tables.outbox
        due = self.session.scalars(
            select(Notification).where(t.c.delivered_at.is_(None), t.c.next_attempt_at <= now)
            .order_by(t.c.next_attempt_at, t.c.id).limit(limit)).all()
        claimed = []
        for row in due:
            # The claim: only if no other worker moved the row's next attempt since we read it.
            # PostgreSQL re-checks this WHERE of a concurrent second UPDATE after the first
            # commits, so of two workers one gets rowcount 1.
            stmt = prebuilt("outbox_claim", lambda: update(t).where(
                t.c.id == bindparam("row_id"), t.c.delivered_at.is_(None),
                t.c.next_attempt_at == bindparam("seen_at", type_=tables.UTC_TIME))
                .values(next_attempt_at=bindparam("lease_end", type_=tables.UTC_TIME))
                .execution_options(synchronize_session=False))
            won = self.session.execute(stmt, {"row_id": row.id, "seen_at": row.next_attempt_at,
                                              "lease_end": lease_end}).rowcount == 1
            if won:
                claimed.append(row)
        return claimed

    def mark_delivered(self, event_id: str, at: datetime, note: str | None = None) -> None:
        t = tables.outbox
        sent = 0 if note else 1  # a row marked without sending (NOT_SENT) made no attempt

        def build():
            return (update(t).where(t.c.event_id == bindparam("ev"))
                    .values(delivered_at=bindparam("at", type_=tables.UTC_TIME), next_attempt_at=None,
                            last_error=bindparam("note", type_=t.c.last_error.type),
                            attempts=t.c.attempts + sent)
                    .execution_options(synchronize_session=False))
        self.session.execute(prebuilt(f"outbox_delivered_{sent}", build), {"ev": event_id, "at": at, "note": note})

    def mark_failed(self, event_id: str, error: str, retry_at: datetime) -> int:
        t = tables.outbox
        self.session.execute(update(t).where(t.c.event_id == event_id, t.c.delivered_at.is_(None))
                             .values(attempts=t.c.attempts + 1, next_attempt_at=retry_at,
                                     last_error=error[:ERROR_LIMIT])
                             .execution_options(synchronize_session=False))
        return self.session.scalar(select(t.c.attempts).where(t.c.event_id == event_id)) or 0

    def pending_count(self) -> int:
        t = tables.outbox
        return self.session.scalar(select(func.count()).select_from(t).where(t.c.delivered_at.is_(None))) or 0
