"""The end-of-run checks: scoring settled, every accepted loan final and stored once, one ongoing loan
per customer at most, balances equal to amount minus repayments, no internal error."""
from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

from .client import Stats
from .database import loan_rows, status_of
from .traffic import Ledger

FINAL = {"APPROVED", "REJECTED", "FAILED", "CANCELLED", "CLOSED"}
ONGOING = {"PENDING", "SCORING", "APPROVED"}


def wait_settled(database_url: str, customers: list[str], timeout: float) -> tuple[list, float]:
    """The customers' loan rows once none is PENDING or SCORING (or after `timeout` seconds), and the
    seconds that took."""
    settle_started = time.monotonic()
    while True:
        rows = loan_rows(database_url, customers)
        busy = [r for r in rows if status_of(r) in ("PENDING", "SCORING")]
        if not busy or time.monotonic() - settle_started > timeout:
            break
        time.sleep(0.5)
    return rows, time.monotonic() - settle_started


def consistency_violations(rows: list, ledger: Ledger, stats: Stats) -> list[str]:
    """What is wrong with the loans in the database, the answers seen and the outcomes recorded."""
    violations = list(stats.problems)
    by_id = {r.id: r for r in rows}
    not_final = [i for i in ledger.loans if i not in by_id or status_of(by_id[i]) not in FINAL]
    if not_final:
        examples = [(i, status_of(by_id[i]) if i in by_id else "missing") for i in not_final[:5]]
        violations.append(f"{len(not_final)} accepted loans not in a final state (or missing), "
                          f"e.g. {examples}")
    per_request = Counter(r.request_id for r in rows if r.request_id)
    duplicated = [rid for rid, n in per_request.items() if n > 1]
    if duplicated:
        violations.append(f"requestIds naming several loans: {duplicated[:5]}")
    ongoing = Counter(r.customer_number for r in rows if status_of(r) in ONGOING)
    crowded = [c for c, n in ongoing.items() if n > 1]
    if crowded:
        violations.append(f"customers with more than one ongoing loan: {crowded[:5]}")
    wrong_balance = [r.id for r in rows if r.repaid is not None
                     and Decimal(r.amount) - Decimal(r.repaid) != Decimal(r.outstanding or 0)]
    if wrong_balance:
        violations.append(f"loans whose outstanding is not amount - repayments: {wrong_balance[:5]}")
    internal = {k: v for k, v in stats.outcomes.items()
                if k == "Server.InternalError" or k.startswith(("not-soap", "transport", "HTTP"))}
    if internal:
        violations.append(f"internal errors or non-SOAP answers: {internal}")
    return violations


def verdict(violations: list[str]) -> int:
    """Prints the failed checks (exit status 1), or that all passed (0)."""
    if violations:
        print("\nCHECKS FAILED:")
        for v in violations:
            print(f"  - {v}")
        return 1
    print("\nchecks: all accepted loans final; no duplicate requestId; at most one ongoing loan per "
          "customer; balances = amount - repayments; no internal error; worker memory flat. OK")
    return 0
