"""The throughput model of a many-host deployment, measured on the multi-host harness.

    sudo .venv/bin/python -m bench.multihost_model [--loans 150] [--threads 6]

Starts the harness (tests/multihost/cluster.py: own PostgreSQL behind PgBouncer, Redis with
Sentinels, three LMS hosts, the simulators, a client host), submits a bounded load of SubmitLoan
spread over the three LMS hosts from the client host, waits until every loan is decided, and reads:
- the CPU time (utime+stime from /proc/<pid>/stat, the process and its descendants) each host kind
  used, per loan, less what it burns idle (measured over IDLE_SECONDS before the load): web (gunicorn), worker (RQ + scoring steps), PostgreSQL, PgBouncer, Redis;
- PostgreSQL's share per loan from pg_stat_statements (the LMS's role only): statements (each a
  round-trip), transactions (COMMIT + ROLLBACK), rows;
then prints the hosts needed for 100, 1,000 and 10,000 loan requests per second, and the rate at
which one PostgreSQL primary becomes the limit. bench/README.md "Several hosts" holds a run's table.
"""
from __future__ import annotations

import argparse
import math
import os
import time

from tests.multihost.cluster import APP_HOSTS, Cluster
from tests.multihost.netns import Process

CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Planning assumptions: vCPUs of an LMS host and of the database host, and the CPU share a host
#: may run at (headroom for bursts and for losing one host).
APP_HOST_CORES, DB_HOST_CORES, TARGET_UTILISATION = 4, 16, 0.6
RATES = (100, 1_000, 10_000)
#: Seconds of quiet before the load, to measure each kind's idle CPU.
IDLE_SECONDS = 8.0


def cpu_seconds(processes: list[Process]) -> float:
    ticks = 0
    for process in processes:
        for pid in process.group_pids():
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / CLK_TCK


def kinds(cluster: Cluster) -> dict[str, list[Process]]:
    apps = [cluster.apps[r] for r in APP_HOSTS]
    return {
        "web": [a.web for a in apps], "worker": [a.worker for a in apps],
        "postgres": [cluster.db.postgres], "pgbouncer": [cluster.db.pgbouncer],
        "redis": list(cluster.redis.servers.values()),
    }


def statements(cluster: Cluster) -> dict[str, float]:
    (row,) = cluster.query(
        "SELECT coalesce(sum(calls), 0), coalesce(sum(calls) FILTER (WHERE query IN ('COMMIT', 'ROLLBACK')), 0),"
        " coalesce(sum(rows), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
        " WHERE r.rolname = 'lms'")
    return {"statements": float(row[0]), "transactions": float(row[1]), "rows": float(row[2])}


def measure(loans: int, threads: int) -> dict[str, float]:
    with Cluster() as cluster:
        warm = cluster.register_customers(780_000_000, 12)
        cluster.wait_decided(_submit(cluster, warm, threads, "warm"), timeout=120)
        numbers = cluster.register_customers(781_000_000, loans)
        cluster.query("SELECT pg_stat_statements_reset()")
        groups = kinds(cluster)
        # What each kind burns idle (RQ's polling, the reconciler, Sentinel pings), subtracted below.
        idle_start = {kind: cpu_seconds(procs) for kind, procs in groups.items()}
        time.sleep(IDLE_SECONDS)
        before = {kind: cpu_seconds(procs) for kind, procs in groups.items()}
        idle_rate = {kind: (before[kind] - idle_start[kind]) / IDLE_SECONDS for kind in groups}
        started = time.monotonic()
        ids = _submit(cluster, numbers, threads, "load")
        statuses = cluster.wait_decided(ids, timeout=300)
        elapsed = time.monotonic() - started
        after = {kind: cpu_seconds(procs) for kind, procs in groups.items()}
        undecided = sum(1 for i in ids if statuses.get(i) in (None, "PENDING", "SCORING"))
        db = statements(cluster)
    figures = {f"cpu_ms_{kind}": 1000 * max(0.0, after[kind] - before[kind] - idle_rate[kind] * elapsed) / len(ids)
               for kind in groups}
    figures.update({f"idle_cpu_{kind}": rate for kind, rate in idle_rate.items()})
    figures.update({f"{name}_per_loan": value / len(ids) for name, value in db.items()})
    figures.update({"loans": len(ids), "undecided": undecided, "seconds": elapsed})
    return figures


def _submit(cluster: Cluster, numbers: list[str], threads: int, tag: str) -> list[str]:
    plan = [cluster.submit(APP_HOSTS[i % len(APP_HOSTS)], n, f"{tag}-{n}") for i, n in enumerate(numbers)]
    results = cluster.drive({"mode": "pool", "threads": threads, "requests": plan}, timeout=600)
    return [r["loanId"] for r in results if r["http"] == 200 and r["loanId"]]


def hosts_table(f: dict[str, float]) -> list[str]:
    app_ms = f["cpu_ms_web"] + f["cpu_ms_worker"]
    pg_ms = f["cpu_ms_postgres"] + f["cpu_ms_pgbouncer"]
    pg_limit = DB_HOST_CORES * TARGET_UTILISATION * 1000 / pg_ms
    lines = [f"| loans/s | LMS hosts ({APP_HOST_CORES} vCPU) | PostgreSQL vCPU busy | Redis vCPU busy | "
             f"PG statements/s | one PostgreSQL ({DB_HOST_CORES} vCPU)? |",
             "|---:|---:|---:|---:|---:|---|"]
    for rate in RATES:
        app_hosts = math.ceil(rate * app_ms / 1000 / (APP_HOST_CORES * TARGET_UTILISATION))
        pg_cores = rate * pg_ms / 1000
        verdict = "enough" if rate <= pg_limit else f"NO: the limit (~{pg_limit:,.0f} loans/s)"
        lines.append(f"| {rate:,} | {max(app_hosts, 2)} | {pg_cores:.1f} | {rate * f['cpu_ms_redis'] / 1000:.1f} | "
                     f"{rate * f['statements_per_loan']:,.0f} | {verdict} |")
    lines.append(f"\nOne PostgreSQL primary of {DB_HOST_CORES} vCPU at {TARGET_UTILISATION:.0%} carries about "
                 f"{pg_limit:,.0f} loans/s (PostgreSQL + PgBouncer {pg_ms:.1f} ms CPU per loan).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=150)
    parser.add_argument("--threads", type=int, default=6)
    args = parser.parse_args()
    f = measure(args.loans, args.threads)
    print(f"{f['loans']:.0f} loans submitted and decided in {f['seconds']:.1f} s ({f['undecided']:.0f} undecided)")
    print("CPU per loan (ms): " + ", ".join(f"{k[7:]} {v:.2f}" for k, v in f.items() if k.startswith("cpu_ms_")))
    print("Idle CPU (cores): " + ", ".join(f"{k[9:]} {v:.3f}" for k, v in f.items() if k.startswith("idle_cpu_")))
    print(f"PostgreSQL per loan: {f['statements_per_loan']:.1f} statements (round-trips), "
          f"{f['transactions_per_loan']:.1f} transactions, {f['rows_per_loan']:.1f} rows")
    print("\n".join(hosts_table(f)))


if __name__ == "__main__":
    main()
