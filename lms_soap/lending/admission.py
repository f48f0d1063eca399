"""What SubmitLoan must know of existing loans before it creates one, read in one statement."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .loan import ONGOING, Loan, LoanStatus, total_outstanding
from .money import ZERO


def unrecovered(loan: Loan) -> bool:
    """A WRITTEN_OFF loan with something still outstanding: the customer may not borrow again
    (a missing balance counts as zero, as in the repository's SQL)."""
    owed = total_outstanding(loan.principal_outstanding or ZERO, loan.fees_outstanding,
                             loan.penalties_outstanding)
    return loan.status is LoanStatus.WRITTEN_OFF and owed > 0


@dataclass(frozen=True)
class Admission:
    """The three loans SubmitLoan checks, in the order it checks them: the loan this API client
    already submitted with this requestId (a replay), the customer's ongoing loan, and a
    written-off loan of the customer not recovered in full."""
    replayed: Loan | None
    ongoing: Loan | None
    unrecovered_write_off: Loan | None

    @classmethod
    def among(cls, loans: Iterable[Loan], created_by: str, request_id: str | None,
              customer_number: str) -> "Admission":
        """Picks them out of `loans` (a repository narrows these to the candidates first)."""
        replayed = ongoing = written_off = None
        for loan in loans:
            if request_id and loan.created_by == created_by and loan.request_id == request_id:
                replayed = replayed or loan
            if loan.customer_number == customer_number:
                if loan.status in ONGOING:
                    ongoing = ongoing or loan
                elif unrecovered(loan):
                    written_off = written_off or loan
        return cls(replayed, ongoing, written_off)
