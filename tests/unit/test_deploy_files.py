"""The deployment files agree with each other: the lock with pyproject, the CI compose override with
docker-compose.yml, the Dockerfile with a build that has no registry; and the dependency audit's
verdict never reads "nothing checked" as a pass. (deploy/ci-image.sh runs them for real.)"""
from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not pinned with =="
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def test_lock_pins_every_runtime_dependency_within_pyproject_ranges():
    pins = _lock()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is a dependency but not in requirements.lock (refresh it: README)"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req.specifier}"


def test_image_builds_from_the_lock_without_a_registry_frontend():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert not re.search(r"^#\s*syntax\s*=", dockerfile, re.M | re.I), \
        "a `# syntax=` line makes BuildKit pull its frontend from a registry"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    assert "requirements.lock" in dockerfile and "--constraint requirements.lock" in dockerfile


def _compose(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_ci_override_puts_every_service_on_the_host_network():
    shipped, ci = _compose("docker-compose.yml")["services"], _compose("deploy/compose.ci.yml")["services"]
    assert set(ci) == set(shipped)
    for name, service in ci.items():
        assert service.get("network_mode") == "host", name
        assert service.get("image") == "${CI_IMAGE:?}", name


def test_ci_override_replaces_every_address_of_a_service_name():
    """On the host network there is no service-name DNS: a setting pointing at `http://lms:8000`
    or `@postgres:5432` must be overridden, or the stack the CI verifies is not the shipped one."""
    shipped, ci = _compose("docker-compose.yml")["services"], _compose("deploy/compose.ci.yml")["services"]
    names = "|".join(map(re.escape, shipped))
    by_name = re.compile(rf"[/@]({names}):\d+")
    for name, service in shipped.items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if by_name.search(str(value)):
                override = (ci[name].get("environment") or {}).get(key)
                assert override and not by_name.search(str(override)), f"{name}: {key}={value} not overridden"
        published = [p.rsplit(":", 1)[-1] for p in service.get("ports", [])]
        command = " ".join(map(str, service.get("command") or []))
        for port in published:
            if port in command:
                assert "${CI_" in " ".join(map(str, ci[name].get("command") or [])), f"{name}: port {port}"


def _verdict_module():
    spec = importlib.util.spec_from_file_location("audit_verdict", ROOT / "deploy" / "audit_verdict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(*dependencies) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_audit_passes_only_when_every_package_was_checked_and_clean():
    verdict = _verdict_module().verdict
    code, lines = verdict(_report({"name": "lxml", "version": "6.1.3", "vulns": []}), "", 0)
    assert code == 0 and "1 locked packages, no known vulnerability" in lines[-1]


def test_audit_fails_on_a_known_vulnerability_with_its_fix():
    verdict = _verdict_module().verdict
    report = _report({"name": "lxml", "version": "6.1.3", "vulns": []},
                     {"name": "requests", "version": "2.0.0",
                      "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"]}]})
    code, lines = verdict(report, "", 1)
    assert code == 1
    assert "requests 2.0.0: PYSEC-2023-74 (fixed in: 2.31.0)" in lines[0]


def test_audit_says_so_when_the_service_answered_for_no_package():
    """pip-audit itself prints "No known vulnerabilities found" and exits 0 here."""
    verdict = _verdict_module().verdict
    report = _report({"name": "alembic", "skip_reason": "Dependency not found on PyPI and could not be audited"},
                     {"name": "lxml", "version": "6.1.3", "vulns": []})
    code, lines = verdict(report, "No known vulnerabilities found", 0)
    assert code == 75
    assert "incomplete: 1 of 2 locked packages could not be checked" in lines[0]


def test_audit_says_so_when_the_service_is_unreachable():
    verdict = _verdict_module().verdict
    stderr = "Traceback ...\nrequests.exceptions.ConnectionError: HTTPSConnectionPool(...): Max retries exceeded"
    code, lines = verdict("", stderr, 1)
    assert code == 75 and lines[0].startswith("ci: dependency audit skipped: vulnerability service unreachable")
    code, lines = verdict("", "Traceback ...\nValueError: bad requirement", 1)
    assert code == 1 and "FAILED" in lines[0]
