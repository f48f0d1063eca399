"""Use case: a customer's transaction records, read live from the CBS."""
from __future__ import annotations

from typing import Any

from .ports import CoreBanking


def get_transactions(customer_number: str, cbs: CoreBanking) -> list[dict[str, Any]]:
    """Every record the CBS holds for the customer ([] when none); CoreBankingUnavailable on failure."""
    return cbs.fetch_transactions(customer_number)
