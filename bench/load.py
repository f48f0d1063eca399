"""The load generator: wrk (keeps its connections open), one Lua script per operation (bench/lua/)."""
from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
INSTALL_HINT = ("wrk (the HTTP load generator) is not installed. On Debian/Ubuntu: "
                "`sudo apt-get update && sudo apt-get install -y wrk`; on macOS: `brew install wrk`; "
                "or build it from https://github.com/wg/wrk and put it on PATH (or set WRK=/path/to/wrk).")


class WrkMissing(SystemExit):
    pass


def find_wrk() -> str:
    path = os.environ.get("WRK") or shutil.which("wrk")
    if not path or not os.access(path, os.X_OK):
        raise WrkMissing(f"error: {INSTALL_HINT}")
    return path


def wrk_version(path: str) -> str:
    out = subprocess.run([path, "-v"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].strip() if (out.stdout or out.stderr) else "?"


def basic_token(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class Load:
    """How hard and how long: the same for every operation and the baseline of one run."""

    connections: int = 8
    duration: int = 5  # seconds measured
    warmup: int = 2  # seconds run first, figures discarded
    threads: int = 1  # wrk threads (one event loop is plenty for 8 connections)
    timeout: int = 5  # seconds before wrk counts a request as timed out


@dataclass
class Figures:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: dict[str, int]
    body_bytes: int | None = None
    first_error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict:
        return {"requests": self.requests, "seconds": round(self.seconds, 3), "rps": round(self.rps, 1),
                "p50_ms": self.p50_ms, "p90_ms": self.p90_ms, "p99_ms": self.p99_ms,
                "max_ms": self.max_ms, "mean_ms": self.mean_ms, "errors": self.errors,
                "body_bytes": self.body_bytes, "first_error": self.first_error, **self.extra}


def run_wrk(wrk: str, url: str, script: str, env: dict[str, str], load: Load, seconds: int) -> Figures:
    """One wrk run of `seconds`; its Lua script prints the figures as a BENCH_JSON line."""
    cmd = [wrk, "-t", str(load.threads), "-c", str(load.connections), "-d", f"{seconds}s",
           "--timeout", f"{load.timeout}s", "-s", str(LUA_DIR / script), f"{url}/soap"]
    child_env = {**os.environ, **env, "BENCH_LUA_DIR": str(LUA_DIR), "BENCH_THREADS": str(load.threads)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, env=child_env, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    data, body_bytes, first_error = None, None, None
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON "):])
        elif line.startswith("BENCH_BODY_BYTES ") and body_bytes is None:
            body_bytes = int(line.split()[1])
        elif line.startswith("BENCH_FIRST_ERROR ") and first_error is None:
            first_error = line[len("BENCH_FIRST_ERROR "):][:600]
    if data is None:
        raise RuntimeError(f"wrk gave no figures (exit {done.returncode}): {done.stderr.strip()[:500]}")
    lat = data["latency_us"]
    secs = data["duration_us"] / 1e6
    ms = lambda us: round(us / 1000.0, 2)  # noqa: E731
    return Figures(requests=data["requests"], seconds=secs, rps=data["requests"] / secs if secs else 0.0,
                   p50_ms=ms(lat["p50"]), p90_ms=ms(lat["p90"]), p99_ms=ms(lat["p99"]),
                   max_ms=ms(lat["max"]), mean_ms=ms(lat["mean"]), errors=data["errors"],
                   body_bytes=body_bytes, first_error=first_error, extra={"wrk_cpu_s": wrk_cpu})


def measure(wrk: str, url: str, script: str, env: dict[str, str], load: Load,
            warm_env: dict[str, str] | None = None, during=None) -> Figures:
    """Warm up (figures discarded; `warm_env` may point it at other customers), then measure
    (inside `during()`, a context manager, when given: the profiler)."""
    if load.warmup > 0:
        warm = run_wrk(wrk, url, script, warm_env or env, load, load.warmup)
        if warm.error_count and warm.first_error:
            print(f"    warm-up errors: {warm.errors} first: {warm.first_error[:300]}", flush=True)
    with during() if during else contextlib.nullcontext():
        return run_wrk(wrk, url, script, env, load, load.duration)
