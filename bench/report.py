"""Where a run happened and what it found: machine, commit, settings, figures -> bench/results/."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PACKAGES = ("spyne", "lxml", "zeep", "sqlalchemy", "psycopg2-binary", "rq", "redis", "gunicorn")


def git_info() -> dict:
    def git(*args: str) -> str:
        try:
            # rstrip only: a porcelain line starts with a space (" M path") that strip() would eat.
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain", "--", "lms_soap", "jobs").splitlines()]
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "uncommitted_service_files": changed}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine_info(wrk_version: str = "", database_url: str = "", redis_url: str = "") -> dict:
    info = {
        "hostname": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
        "cpu_model": _cpu_model(), "cpus_logical": psutil.cpu_count(),
        "cpus_physical": psutil.cpu_count(False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "wrk": wrk_version,
        "packages": {name: _version(name) for name in PACKAGES},
    }
    if database_url:
        info["postgresql"] = _scalar(database_url, "SHOW server_version")
    if redis_url:
        try:
            from redis import Redis

            info["redis"] = Redis.from_url(redis_url).info("server").get("redis_version")
        except Exception:  # noqa: BLE001
            info["redis"] = "?"
    return info


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _scalar(url: str, sql: str):
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    except Exception:  # noqa: BLE001
        return "?"
    finally:
        engine.dispose()


class LoadWatch:
    """How busy the machine was meanwhile: load average and the CPU time of processes that are
    not ours (other test runs share this machine)."""

    def __init__(self, ours: set[int] | None = None):
        self.ours = ours or set()
        self.started = datetime.now(timezone.utc)
        self.load_before = os.getloadavg()
        self.cpu_before = psutil.cpu_times()

    def finish(self) -> dict:
        after = psutil.cpu_times()
        busy = lambda t: t.user + t.system + getattr(t, "nice", 0)  # noqa: E731
        total = lambda t: busy(t) + t.idle + getattr(t, "iowait", 0)  # noqa: E731
        span = total(after) - total(self.cpu_before)
        return {"loadavg_before": [round(x, 2) for x in self.load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "machine_busy_pct": (round(100 * (busy(after) - busy(self.cpu_before)) / span, 1)
                                     if span else None)}


def write(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def header(name: str, settings: dict, machine: dict) -> dict:
    return {"name": name, "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git": git_info(), "machine": machine, "settings": settings}
