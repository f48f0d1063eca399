"""The portfolio report: per status the count and the outstanding, and portfolio at risk.

PAR-N is the outstanding principal of the loans N or more days past due, over the outstanding
principal of every loan still on the book (DISBURSED, OVERDUE, DEFAULTED), as microfinance
reports it (written-off loans have left the book; their recoveries are reported apart).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable

from .arrears import days_past_due
from .balances import ZERO

ON_BOOK = frozenset({"DISBURSED", "OVERDUE", "DEFAULTED"})
PAR_DAYS = (1, 30, 90)
RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class BookEntry:
    """One loan as the report sees it."""

    status: str
    principal_outstanding: Decimal
    total_outstanding: Decimal
    due_date: datetime | None


@dataclass(frozen=True)
class StatusLine:
    status: str
    count: int
    principal_outstanding: Decimal
    total_outstanding: Decimal


@dataclass(frozen=True)
class ParLine:
    days: int
    outstanding: Decimal  # principal of the loans at least `days` past due
    ratio: Decimal  # outstanding / the book's principal, 4 decimals (0 when the book is empty)


@dataclass(frozen=True)
class PortfolioReport:
    as_of: datetime
    statuses: list[StatusLine] = field(default_factory=list)
    par: list[ParLine] = field(default_factory=list)
    book_principal: Decimal = ZERO

    @property
    def total_outstanding(self) -> Decimal:
        return sum((line.total_outstanding for line in self.statuses), ZERO)


def build_report(entries: Iterable[BookEntry], as_of: datetime) -> PortfolioReport:
    lines: dict[str, list] = {}
    at_risk = {days: ZERO for days in PAR_DAYS}
    book = ZERO
    for entry in entries:
        line = lines.setdefault(entry.status, [0, ZERO, ZERO])
        line[0] += 1
        line[1] += entry.principal_outstanding
        line[2] += entry.total_outstanding
        if entry.status in ON_BOOK:
            book += entry.principal_outstanding
            late = days_past_due(entry.due_date, as_of)
            for days in PAR_DAYS:
                if late >= days:
                    at_risk[days] += entry.principal_outstanding
    par = [ParLine(days, at_risk[days], (at_risk[days] / book).quantize(RATIO, ROUND_HALF_UP) if book
                   else Decimal("0.0000")) for days in PAR_DAYS]
    statuses = [StatusLine(status, n, principal, total)
                for status, (n, principal, total) in sorted(lines.items())]
    return PortfolioReport(as_of=as_of, statuses=statuses, par=par, book_principal=book)
