"""A JUnit XML report of a run: one <testsuite> per SoapUI test suite, one <testcase> per executed
test step (classname "suite.test case", name the step), with <failure> naming each failed
assertion, <error> for steps that could not run, and <skipped> for Groovy and disabled steps."""
from __future__ import annotations

from pathlib import Path

from lxml import etree

from .assertions import FAIL
from .results import ERROR, FAILED, SKIPPED, ProjectRun, StepRun

MAX_BODY = 4000  # characters of request/response kept in a failure's text


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def _clip(text: str | None) -> str:
    if not text:
        return ""
    return text if len(text) <= MAX_BODY else text[:MAX_BODY] + f"... ({len(text)} characters)"


def _testcase(parent: etree._Element, step: StepRun) -> None:
    element = etree.SubElement(parent, "testcase", classname=f"{step.suite}.{step.case}", name=step.label,
                               time=_seconds(step.time_ms))
    lines = [f"{a.status} [{a.name}] ({a.type}): {a.message}" for a in step.assertions]
    if step.status == FAILED:
        failed = step.failed_assertions()
        message = "; ".join(f"[{a.name}] {a.message}" for a in failed) if failed else step.message
        failure = etree.SubElement(element, "failure", message=message,
                                   type="AssertionFailure" if failed else "StepFailure")
        failure.text = "\n".join(
            lines + ([f"endpoint: {step.endpoint}", f"HTTP status: {step.http_status}",
                      f"request:\n{_clip(step.request)}", f"response:\n{_clip(step.response)}"]
                     if step.type == "request" else [step.message]))
    elif step.status == ERROR:
        error = etree.SubElement(element, "error", message=step.message, type="StepError")
        error.text = "\n".join(lines + [step.message])
    elif step.status == SKIPPED:
        etree.SubElement(element, "skipped", message=step.message)
    out = etree.SubElement(element, "system-out")
    out.text = "\n".join([f"{step.type} step: {step.message}"] + lines)


def to_xml(run: ProjectRun) -> bytes:
    root = etree.Element("testsuites", name=run.project)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0}
    for suite in run.suites:
        steps = suite.steps
        counts = {
            "tests": len(steps),
            "failures": sum(1 for s in steps if s.status == FAILED),
            "errors": sum(1 for s in steps if s.status == ERROR),
            "skipped": sum(1 for s in steps if s.status == SKIPPED),
            "time": sum(s.time_ms for s in steps),
        }
        element = etree.SubElement(root, "testsuite", name=suite.suite, tests=str(counts["tests"]),
                                   failures=str(counts["failures"]), errors=str(counts["errors"]),
                                   skipped=str(counts["skipped"]), time=_seconds(counts["time"]),
                                   timestamp=suite.started.strftime("%Y-%m-%dT%H:%M:%S"))
        for step in steps:
            _testcase(element, step)
        for key in totals:
            totals[key] += counts[key]
    for key, value in totals.items():
        root.set(key, _seconds(value) if key == "time" else str(value))
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_junit(run: ProjectRun, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(to_xml(run))
    return target


def failed_assertion_names(run: ProjectRun) -> list[str]:
    return [a.name for s in run.steps for a in s.assertions if a.status == FAIL]
