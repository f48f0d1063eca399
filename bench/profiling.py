"""Sampling profiles of the LMS under load: py-spy records every gunicorn worker of the LMS while
an operation is measured (`python -m bench.run --profile`), and the samples are summarised.

py-spy is not a dependency of the project: `pip install py-spy` (into any environment; only its
binary is used), or point PY_SPY at it. Samples are taken with --nonblocking (the workers are not
paused) and --idle (threads waiting on PostgreSQL, Redis or a simulator are counted: the time a
request spends is what matters, not only its CPU); `--profile-cpu` leaves --idle out, to see where
the CPU per request goes.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Iterator

OURS = ("lms_soap/", "jobs/")


def find_py_spy() -> str:
    path = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if not path:
        raise SystemExit("error: --profile needs py-spy: `pip install py-spy` (or PY_SPY=/path/to/py-spy)")
    return path


class Profiler:
    def __init__(self, py_spy: str, out_dir: Path, idle: bool = True):
        self.py_spy = py_spy
        self.idle = idle
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def record(self, label: str, pids: list[int], seconds: int) -> Iterator[list[Path]]:
        files = [self.out_dir / f"{label}-{pid}.collapsed" for pid in pids]
        procs = [subprocess.Popen([self.py_spy, "record", "--pid", str(pid), "--duration", str(seconds),
                                   "--rate", "250", "--format", "raw", "--nonblocking",
                                   *(["--idle"] if self.idle else []), "--output", str(path)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for pid, path in zip(pids, files)]
        try:
            yield files
        finally:
            for proc in procs:
                try:
                    proc.wait(seconds + 30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _frames(stack: str) -> list[str]:
    # py-spy raw lines: "thread;frame (file:line);frame (file:line) count"
    return [f for f in stack.split(";") if "(" in f]


def _name(frame: str) -> str:
    func, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/", "/tmp/lms-before/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{func} ({path})"


def summarize(files: list[Path], top: int = 25) -> dict:
    """Inclusive and self share of the samples of request threads (gunicorn's idle poller and
    the main loop are left out), by function."""
    inclusive, own, total = Counter(), Counter(), 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            frames = _frames(stack)
            if not any("handle_request" in f or "handle (" in f for f in frames):
                continue  # a thread that is not serving a request (poller, arbiter loop)
            n = int(count)
            total += n
            names = [_name(f) for f in frames]
            for name in set(names):
                inclusive[name] += n
            if names:
                own[names[-1]] += n
    pct = lambda n: round(100.0 * n / total, 1) if total else 0.0  # noqa: E731
    return {"samples": total,
            "inclusive_pct": [(name, pct(n)) for name, n in inclusive.most_common(top)],
            "self_pct": [(name, pct(n)) for name, n in own.most_common(top)],
            "ours_inclusive_pct": [(name, pct(n)) for name, n in inclusive.most_common()
                                   if any(o in name for o in OURS)][:top]}
