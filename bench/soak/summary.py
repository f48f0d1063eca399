"""The summary printed after a soak run: requests per operation with latencies, outcomes by faultcode,
unexpected outcomes, loans by status and reason, and the gunicorn workers' memory."""
from __future__ import annotations

from collections import Counter

from .client import EXPECTED_FAULTS, Stats
from .database import status_of
from .traffic import Ledger


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def print_summary(stats: Stats, ledger: Ledger, rows: list, *, seconds: float, settle_seconds: float,
                  memory_lines: list[str], threads: int, workers: int, gunicorn_threads: int,
                  customers: int) -> None:
    total = sum(stats.calls.values())
    print(f"\n=== soak summary: {seconds:.1f} s, {threads} threads, gunicorn "
          f"{workers}x{gunicorn_threads}, {customers} customers ===")
    print(f"requests: {total} ({total / seconds:.1f}/s)")
    for operation, count in sorted(stats.calls.items()):
        lat = stats.latency[operation]
        print(f"  {operation:<18} {count:>7}   p50 {percentile(lat, .5) * 1000:7.1f} ms   "
              f"p95 {percentile(lat, .95) * 1000:7.1f} ms   max {max(lat) * 1000:7.1f} ms")
    print("outcomes:")
    for outcome, count in stats.outcomes.most_common():
        marker = "" if outcome == "OK" or outcome in EXPECTED_FAULTS else "   <- unexpected"
        print(f"  {outcome:<36} {count:>7}{marker}")
    if stats.errors:
        print("errors (unexpected outcomes) by operation:")
        for key, count in stats.errors.most_common():
            print(f"  {key:<52} {count:>6}")
    else:
        print("errors: none")
    unacknowledged = len([r for r in rows if r.id not in ledger.loans])
    statuses = Counter(status_of(r) for r in rows)
    reasons = Counter(f"{status_of(r)}/{r.status_reason}" for r in rows if status_of(r) != "APPROVED")
    print(f"loans: {len(rows)} in the database, {len(ledger.loans)} accepted by this run "
          f"({unacknowledged} stored without an answer seen), settled {settle_seconds:.1f} s "
          f"after the traffic")
    print("  by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print("  by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    print(f"  requestIds used: {len(ledger.request_ids)}; loans with repayments: "
          f"{sum(1 for r in rows if r.repaid is not None)}, of which closed: "
          f"{sum(1 for r in rows if r.repaid is not None and status_of(r) == 'CLOSED')}")
    print("memory (VmRSS of the gunicorn workers, averages of 1 s samples):")
    for line in memory_lines:
        print(line)
