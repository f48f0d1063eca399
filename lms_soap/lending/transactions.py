"""Use case: a registered customer's transaction records, read live from the CBS."""
from __future__ import annotations

from typing import Any

from .customers import require_registered
from .ports import CoreBanking, UnitOfWork


def get_transactions(customer_number: str, uow: UnitOfWork, cbs: CoreBanking) -> list[dict[str, Any]]:
    """Every record the CBS holds for the customer ([] when none); CoreBankingUnavailable on failure.

    Only for customers registered with the LMS (else CustomerNotRegistered, and the CBS is not
    asked): the scoring credential reads the data of the LMS's customers, not of the bank's.
    """
    with uow:
        require_registered(uow, customer_number)
    return cbs.fetch_transactions(customer_number)  # outside the transaction: no connection held
