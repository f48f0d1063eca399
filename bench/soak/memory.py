"""Memory of the gunicorn workers: their VmRSS sampled once a second from /proc, and the comparison of
the first and the last third of the run."""
from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from pathlib import Path


def child_pids(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                pids.append(int(stat.parent.name))
        return pids


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the VmRSS of every gunicorn worker (children of the master) once a second."""

    def __init__(self, master_pid: int, interval: float = 1.0):
        super().__init__(name="rss-sampler", daemon=True)
        self.master_pid, self.interval = master_pid, interval
        self.samples: list[tuple[float, int, int]] = []  # (monotonic time, pid, kB)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            now = time.monotonic()
            for pid in child_pids(self.master_pid):
                kb = rss_kb(pid)
                if kb is not None:
                    self.samples.append((now, pid, kb))
            self.stopped.wait(self.interval)


def memory_report(sampler: RssSampler, start: float, end: float,
                  limit_mb: float) -> tuple[list[str], list[str]]:
    third = (end - start) / 3
    lines, violations = [], []
    by_pid = defaultdict(list)
    for t, pid, kb in sampler.samples:
        if start <= t <= end:
            by_pid[pid].append((t, kb))
    for pid, samples in sorted(by_pid.items()):
        first = [kb for t, kb in samples if t < start + third]
        last = [kb for t, kb in samples if t >= end - third]
        peak = max(kb for _, kb in samples) / 1024
        if not first or not last:
            lines.append(f"  worker pid {pid}: not alive for the whole run (recycled?), peak {peak:.1f} MB")
            continue
        a, b = statistics.mean(first) / 1024, statistics.mean(last) / 1024
        growth = b - a
        verdict = "ok" if growth <= limit_mb else "TOO MUCH"
        lines.append(f"  worker pid {pid}: first third {a:.1f} MB, last third {b:.1f} MB, "
                     f"growth {growth:+.1f} MB (limit {limit_mb} MB) {verdict}; peak {peak:.1f} MB")
        if growth > limit_mb:
            violations.append(f"gunicorn worker {pid} RSS grew {growth:.1f} MB (> {limit_mb} MB)")
    if not by_pid:
        violations.append("no gunicorn worker RSS samples (is /proc readable?)")
    return lines, violations
