"""Runs a SoapUI project the way SoapUI's testrunner does, for the step types SOAP suites use.

Executed: request (WSDL test requests: property expansion, HTTP Basic, outgoing WS-Security,
assertions), transfer (property transfers with XPath), delay, goto (conditional goto with XPath
conditions), properties. Skipped, and reported as skipped: groovy (Groovy is not executed), and
disabled suites, cases, steps and assertions. Any other step type is an error, so an unsupported
project fails visibly instead of passing.

A test case stops at its first failing step when its failOnError is true (SoapUI's default);
later steps are reported as skipped ("not run"). A Conditional Goto may loop; the test case's
timeout (ms) and MAX_STEP_RUNS bound it.

This module walks suites, cases and steps; the steps themselves run in request_step.py (HTTP in
transport.py) and steps.py, against the properties of scope.py, into the records of results.py.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable, Iterable

import requests

from . import wss
from .assertions import SKIPPED
from .expansion import UnsupportedExpansion, XPathProblem
from .model import Project, Step, TestCase, TestSuite
from .request_step import run_request
from .results import ERROR, FAILED, OK, CaseRun, ProjectRun, StepRun, SuiteRun
from .scope import RunScope, StepState
from .steps import run_delay, run_goto, run_transfer

DEFAULT_TIMEOUT_MS = 30_000
MAX_STEP_RUNS = 10_000
GROOVY_SKIP = "Groovy script step not executed by tests/soapui_runner (SoapUI runs it)"


class Runner:
    def __init__(self, project: Project, *, endpoint: str | None = None,
                 properties: dict[str, str] | None = None,
                 global_properties: dict[str, str] | None = None,
                 suites: Iterable[str] | None = None, cases: Iterable[str] | None = None,
                 request_timeout: float = 30.0, session: requests.Session | None = None,
                 listener: Callable[[StepRun], None] | None = None):
        self.project = project
        self.endpoint = endpoint
        self.project_properties = dict(project.properties)
        self.project_properties.update(properties or {})
        if endpoint and "endpoint" in self.project_properties:
            self.project_properties["endpoint"] = endpoint
        self.global_properties = dict(global_properties or {})
        self.suite_filter = set(suites) if suites else None
        self.case_filter = set(cases) if cases else None
        self.request_timeout = request_timeout
        self.session = session or requests.Session()
        self.listener = listener

    # --- project, suite, case ------------------------------------------------------------------
    def run(self) -> ProjectRun:
        result = ProjectRun(self.project.name, [])
        for suite in self.project.suites:
            if self.suite_filter is not None and suite.name not in self.suite_filter:
                continue
            result.suites.append(self._run_suite(suite))
        return result

    def _run_suite(self, suite: TestSuite) -> SuiteRun:
        run = SuiteRun(suite.name, [], datetime.now(timezone.utc))
        suite_props = dict(suite.properties)
        for case in suite.cases:
            if self.case_filter is not None and case.name not in self.case_filter:
                continue
            if suite.disabled or case.disabled:
                steps = [self._emit(StepRun(suite.name, case.name, s.name, s.type, SKIPPED, "disabled"))
                         for s in case.steps]
                run.cases.append(CaseRun(suite.name, case.name, SKIPPED, steps, 0))
                continue
            run.cases.append(self._run_case(suite, suite_props, case))
        return run

    def _run_case(self, suite: TestSuite, suite_props: dict[str, str], case: TestCase) -> CaseRun:
        started = time.monotonic()
        history: dict[str, StepState] = {}
        scope = RunScope(self.project_properties, suite_props, dict(case.properties), self.global_properties,
                         case, history)
        runs: list[StepRun] = []
        counts: dict[str, int] = {}
        index, executed, failed = 0, 0, False
        while index < len(case.steps):
            step = case.steps[index]
            counts[step.name] = counts.get(step.name, 0) + 1
            executed += 1
            elapsed_ms = (time.monotonic() - started) * 1000
            if executed > MAX_STEP_RUNS or (case.timeout_ms and elapsed_ms > case.timeout_ms):
                runs.append(self._emit(StepRun(suite.name, case.name, step.name, step.type, FAILED,
                                               f"test case timed out after {int(elapsed_ms)} ms "
                                               f"({executed - 1} step runs)", run=counts[step.name])))
                failed = True
                break
            step_run, goto = self._run_step(suite, case, step, scope, counts[step.name])
            runs.append(self._emit(step_run))
            if step_run.status in (FAILED, ERROR):
                failed = True
                if case.fail_on_error:
                    for rest in case.steps[index + 1:]:
                        runs.append(self._emit(StepRun(suite.name, case.name, rest.name, rest.type, SKIPPED,
                                                       f"not run: the test case stopped at the failure of "
                                                       f"[{step_run.label}]")))
                    break
            if goto is not None:
                index = goto
                continue
            index += 1
        status = FAILED if failed else OK
        return CaseRun(suite.name, case.name, status, runs, int((time.monotonic() - started) * 1000))

    def _emit(self, step_run: StepRun) -> StepRun:
        if self.listener is not None:
            self.listener(step_run)
        return step_run

    # --- steps ---------------------------------------------------------------------------------
    def _run_step(self, suite: TestSuite, case: TestCase, step: Step, scope: RunScope,
                  run_no: int) -> tuple[StepRun, int | None]:
        base = StepRun(suite.name, case.name, step.name, step.type, OK, run=run_no)
        if step.disabled:
            base.status, base.message = SKIPPED, "disabled"
            return base, None
        started = time.monotonic()
        goto = None
        try:
            if step.type == "request":
                run_request(step, scope, base, project=self.project, endpoint=self.endpoint,
                            session=self.session, request_timeout=self.request_timeout)
            elif step.type == "transfer":
                run_transfer(step, scope, base)
            elif step.type == "delay":
                run_delay(step, scope, base)
            elif step.type == "goto":
                goto = run_goto(case, step, scope, base)
            elif step.type == "properties":
                scope.history.setdefault(step.name, StepState()).update(step.properties)
                base.message = f"{len(step.properties)} properties"
            elif step.type == "groovy":
                base.status, base.message = SKIPPED, GROOVY_SKIP
            else:
                base.status = ERROR
                base.message = f"step type [{step.type}] is not supported by tests/soapui_runner"
        except (UnsupportedExpansion, XPathProblem, wss.WssProblem) as exc:
            base.status, base.message = ERROR, str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken step is an error of that step, not of the run
            base.status, base.message = ERROR, f"{type(exc).__name__}: {exc}"
        base.time_ms = int((time.monotonic() - started) * 1000)
        return base, goto


def run_project(project: Project, **options) -> ProjectRun:
    """Run a project (see Runner for the options)."""
    return Runner(project, **options).run()
