"""Two or more runs side by side, as a Markdown table.

    .venv/bin/python -m bench.compare before after [before-2 after-2 ...]   (names in bench/results/)
"""
from __future__ import annotations

import json
import sys

from bench.http import OPERATIONS
from bench.report import RESULTS


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def _pg(ms: float) -> str:
    # Backends that exit during the measurement take their CPU time with them: with a pool that
    # opens and closes connections (the "before" figures) PostgreSQL's share is not measurable.
    return f"{ms:.2f}" if ms > 0.05 else "n/a"


def _op_rows(op: str, runs: dict[str, dict]) -> list[list[str]]:
    rows = []
    for label, getter in (
            ("req/s", lambda f: f"{f['rps']:.0f}"),
            ("of the baseline (req/s)", lambda f: f"{f['ratio_to_baseline']:.1%} of {f['baseline_rps']:.0f}"),
            ("CPU cost vs baseline", lambda f: f"{f['cpu_cost_ratio_to_baseline']:.1%}"
             if f.get("cpu_cost_ratio_to_baseline") else "-"),
            ("p50 / p99 ms", lambda f: f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f}"),
            ("CPU ms/request: LMS + PostgreSQL", lambda f: "{:.2f} + {}".format(
                f["cpu_ms_per_request"].get("lms", 0), _pg(f["cpu_ms_per_request"].get("postgres", 0)))),
            ("PostgreSQL connections opened", lambda f: str(f.get("pg_connections_opened", "-")))):
        cells = []
        for run in runs.values():
            f = run["http"].get(op)
            cells.append(getter(f) if f else "-")
        rows.append([f"{op} {label}", *cells])
    return rows


def table(names: list[str]) -> str:
    runs = {name: load(name) for name in names}
    rows: list[list[str]] = []
    for op in OPERATIONS:
        rows += _op_rows(op, runs)
    pipe = [r.get("pipeline") or {} for r in runs.values()]
    rows.append(["pipeline loans decided/s", *[str(p.get("loans_decided_per_s", "-")) for p in pipe]])
    rows.append(["pipeline job overhead ms/loan (LMS + RQ)", *[
        "{job_overhead} ({lms_overhead} + {rq_overhead})".format(**p["per_loan_ms"]) if p else "-"
        for p in pipe]])
    rows.append(["pipeline CPU ms/loan (worker / all)", *[
        f"{p['cpu_ms_per_loan']['worker']:.1f} / {p['cpu_ms_per_loan']['total']:.1f}"
        if p.get("cpu_ms_per_loan") else "-" for p in pipe]])
    rows.append(["RSS per LMS worker after the run, MB", *[
        " / ".join(str(m["rss_mb"]) for m in r["memory_after_run"]["lms"]) for r in runs.values()]])
    rows.append(["machine busy (all processes) %",
                 *[str(r["load"]["machine_busy_pct"]) for r in runs.values()]])
    out = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or ["before", "after"]
    print(table(names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
