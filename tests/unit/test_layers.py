"""No import from a lower layer to a higher one (docs: README's architecture section).

lending/ is the domain: framework-free, it defines the ports. models/ and clients/ implement
them; services/ and web/ serve them; jobs/ runs them; bootstrap wires them all, and reaches the
RQ adapter (lms_soap/clients/rq_queue.py) without importing jobs/.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("spyne", "sqlalchemy", "alembic", "zeep", "requests", "redis", "rq", "gunicorn", "lxml")
HIGHER_THAN_ADAPTERS = ("lms_soap.services", "lms_soap.web", "lms_soap.app", "lms_soap.wsgi",
                        "lms_soap.bootstrap", "lms_soap.cli", "lms_soap.sandbox", "jobs")
RULES = {
    "lms_soap/lending": ("lms_soap.models", "lms_soap.clients", *HIGHER_THAN_ADAPTERS, *FRAMEWORKS),
    "lms_soap/models": HIGHER_THAN_ADAPTERS + ("lms_soap.clients",),
    "lms_soap/clients": HIGHER_THAN_ADAPTERS + ("lms_soap.models",),
    "lms_soap/bootstrap.py": ("jobs", "lms_soap.services", "lms_soap.web", "lms_soap.app"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):  # lazy imports inside functions count too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # may be modules
    return names


def _violations(area: str, forbidden: tuple[str, ...]) -> list[str]:
    target = ROOT / area
    files = [target] if target.is_file() else sorted(target.rglob("*.py"))
    found = []
    for path in files:
        for name in sorted(_imports(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("area", sorted(RULES))
def test_no_import_from_a_lower_layer_to_a_higher_one(area):
    assert _violations(area, RULES[area]) == []


def test_the_rule_sees_relative_and_lazy_imports():
    assert "lms_soap.lending.errors" in _imports(ROOT / "lms_soap" / "lending" / "loans.py")  # from . import
    assert "jobs.worker" in _imports(ROOT / "lms_soap" / "cli.py")  # inside a function
