"""Runs a SoapUI project the way SoapUI's testrunner does, for the step types SOAP suites use.

Executed: request (WSDL test requests: property expansion, HTTP Basic, outgoing WS-Security,
assertions), transfer (property transfers with XPath), delay, goto (conditional goto with XPath
conditions), properties. Skipped, and reported as skipped: groovy (Groovy is not executed), and
disabled suites, cases, steps and assertions. Any other step type is an error, so an unsupported
project fails visibly instead of passing.

A test case stops at its first failing step when its failOnError is true (SoapUI's default);
later steps are reported as skipped ("not run"). A Conditional Goto may loop; the test case's
timeout (ms) and MAX_STEP_RUNS bound it.
"""
from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable

import requests
from lxml import etree
from requests.structures import CaseInsensitiveDict

from . import wss
from .assertions import FAIL, PASS, SKIPPED, AssertionResult, Exchange, run_assertion
from .expansion import UnsupportedExpansion, XPathProblem, evaluate, expand, parse_xml, values
from .model import CON, Interface, Project, Step, TestCase, TestSuite, con

OK, FAILED, ERROR = "OK", "FAILED", "ERROR"
DEFAULT_TIMEOUT_MS = 30_000
MAX_STEP_RUNS = 10_000
GROOVY_SKIP = "Groovy script step not executed by tests/soapui_runner (SoapUI runs it)"


@dataclass
class StepRun:
    suite: str
    case: str
    step: str
    type: str
    status: str  # OK, FAILED, ERROR, SKIPPED
    message: str = ""
    time_ms: int = 0
    run: int = 1  # the how-many-th execution of this step in its test case (a goto loops)
    assertions: list[AssertionResult] = field(default_factory=list)
    request: str | None = None
    response: str | None = None
    http_status: int | None = None
    endpoint: str | None = None

    @property
    def label(self) -> str:
        return self.step if self.run == 1 else f"{self.step} [{self.run}]"

    def failed_assertions(self) -> list[AssertionResult]:
        return [a for a in self.assertions if a.status == FAIL]


@dataclass
class CaseRun:
    suite: str
    case: str
    status: str
    steps: list[StepRun]
    time_ms: int


@dataclass
class SuiteRun:
    suite: str
    cases: list[CaseRun]
    started: datetime

    @property
    def steps(self) -> list[StepRun]:
        return [s for c in self.cases for s in c.steps]


@dataclass
class ProjectRun:
    project: str
    suites: list[SuiteRun]

    @property
    def steps(self) -> list[StepRun]:
        return [s for suite in self.suites for s in suite.steps]

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)

    @property
    def passed(self) -> bool:
        return self.count(FAILED) == 0 and self.count(ERROR) == 0


class _Scope:
    """The property holders an expansion sees while a step runs."""

    def __init__(self, project: dict[str, str], suite: dict[str, str], case: dict[str, str],
                 global_properties: dict[str, str], case_model: TestCase, history: dict[str, "_StepState"]):
        self.project = project
        self.suite = suite
        self.case = case
        self.context: dict[str, str] = {}
        self.global_properties = global_properties
        self.case_model = case_model
        self.history = history

    def step_property(self, step: str, name: str) -> str | None:
        state = self.history.get(step)
        if state is None:
            for model in self.case_model.steps:
                if model.name == step:
                    if model.type == "properties":
                        return model.properties.get(name)
                    if model.type == "request" and name == "Request":
                        return _request_template(model)
            return None
        return state.get(name)


class _StepState(dict):
    """The properties of a step after it ran (Request, RawRequest, Response, Endpoint, ...)."""


def _request_template(step: Step) -> str:
    request = step.config.find(con("request")) if step.config is not None else None
    body = request.find(con("request")) if request is not None else None
    return body.text or "" if body is not None else ""


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
        history: dict[str, _StepState] = {}
        scope = _Scope(self.project_properties, suite_props, dict(case.properties), self.global_properties,
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
            step_run, goto = self._run_step(suite, case, step, scope, history, counts[step.name])
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
    def _run_step(self, suite: TestSuite, case: TestCase, step: Step, scope: _Scope,
                  history: dict[str, _StepState], run_no: int) -> tuple[StepRun, int | None]:
        base = StepRun(suite.name, case.name, step.name, step.type, OK, run=run_no)
        if step.disabled:
            base.status, base.message = SKIPPED, "disabled"
            return base, None
        started = time.monotonic()
        goto = None
        try:
            if step.type == "request":
                self._request(step, scope, history, base)
            elif step.type == "transfer":
                self._transfer(step, scope, history, base)
            elif step.type == "delay":
                self._delay(step, scope, base)
            elif step.type == "goto":
                goto = self._goto(case, step, scope, history, base)
            elif step.type == "properties":
                history.setdefault(step.name, _StepState()).update(step.properties)
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

    def _interface(self, name: str | None) -> Interface:
        if name and name in self.project.interfaces:
            return self.project.interfaces[name]
        if not name and len(self.project.interfaces) == 1:
            return next(iter(self.project.interfaces.values()))
        raise XPathProblem(f"interface [{name}] is not in the project")

    def _request(self, step: Step, scope: _Scope, history: dict[str, _StepState], out: StepRun) -> None:
        config = step.config
        interface = self._interface(config.findtext(con("interface")))
        operation_name = config.findtext(con("operation")) or ""
        operation = interface.operations.get(operation_name)
        request_el = config.find(con("request"))
        template = request_el.findtext(con("request")) or ""
        content = expand(template, scope)
        endpoint = self.endpoint or expand(request_el.findtext(con("endpoint")) or "", scope) \
            or (interface.endpoints[0] if interface.endpoints else "")
        encoding = request_el.findtext(con("encoding")) or "UTF-8"
        headers = {"Content-Type": f"text/xml;charset={encoding}",
                   "SOAPAction": f'"{operation.action if operation else operation_name}"'}
        headers.update(_custom_headers(request_el, scope))

        credentials = request_el.find(con("credentials"))
        if credentials is None:
            credentials = etree.Element(con("credentials"))
        username = expand(credentials.findtext(con("username")) or "", scope)
        password = expand(credentials.findtext(con("password")) or "", scope)
        auth_type = credentials.findtext(con("authType")) or "No Authorization"
        preemptive_flag = (credentials.findtext(con("preemptive")) or "").lower() == "true"
        preemptive = auth_type == "Preemptive" or (preemptive_flag and auth_type != "No Authorization")

        content = self._apply_wss(request_el, content, scope, username, password)
        state = history.setdefault(step.name, _StepState())
        state.update({"Request": template, "RawRequest": content, "Endpoint": endpoint,
                      "Username": username, "Password": password})
        out.request, out.endpoint = content, endpoint

        timeout = self.request_timeout
        if request_el.get("timeout"):
            timeout = int(expand(request_el.get("timeout"), scope)) / 1000
        basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        if preemptive and username:
            headers["Authorization"] = basic
        started = time.monotonic()
        data = content.encode(encoding)
        status, response_headers, body, error = self._post(endpoint, data, headers, timeout)
        if (status == 401 and username and "Authorization" not in headers and auth_type != "No Authorization"
                and "basic" in response_headers.get("WWW-Authenticate", "").lower()):
            headers["Authorization"] = basic  # challenge answered (SoapUI's non-preemptive Basic)
            status, response_headers, body, error = self._post(endpoint, data, headers, timeout)
        elapsed = int((time.monotonic() - started) * 1000)
        exchange = Exchange(interface, operation, endpoint, content, status, response_headers, body, elapsed,
                            error)
        state.update({"Response": body, "TimeTaken": str(elapsed), "StatusCode": str(status or "")})
        out.response, out.http_status = body, status
        out.assertions = [run_assertion(a, exchange, scope) for a in step.assertions]
        if error is not None:
            out.status, out.message = ERROR, f"request failed: {error}"
        elif any(a.status == FAIL for a in out.assertions):
            out.status = FAILED
            out.message = "; ".join(f"[{a.name}] {a.message}" for a in out.failed_assertions())
        else:
            passed = sum(1 for a in out.assertions if a.status == PASS)
            out.message = f"HTTP {status}, {passed} assertions passed"

    def _post(self, endpoint: str, data: bytes, headers: dict[str, str], timeout: float):
        try:
            response = self.session.post(endpoint, data=data, headers=headers, timeout=timeout,
                                         allow_redirects=False)
        except requests.RequestException as exc:
            return None, {}, "", f"{type(exc).__name__}: {exc}"
        # The charset the answer declares, else UTF-8 (requests would guess ISO-8859-1 for text/xml).
        match = re.search(r"charset=([\w.:-]+)", response.headers.get("Content-Type", ""), re.IGNORECASE)
        try:
            text = response.content.decode(match.group(1) if match else "utf-8", errors="replace")
        except LookupError:
            text = response.content.decode("utf-8", errors="replace")
        return response.status_code, CaseInsensitiveDict(response.headers), text, None

    def _apply_wss(self, request_el: etree._Element, content: str, scope: _Scope, username: str,
                   password: str) -> str:
        outgoing = request_el.get("outgoingWss") or ""
        password_type = request_el.get("wssPasswordType") or ""
        if not outgoing and not password_type:
            return content
        if outgoing and outgoing not in self.project.wss_outgoing:
            raise wss.WssProblem(f"outgoing WS-Security configuration [{outgoing}] is not in the project")
        try:
            envelope = parse_xml(content)
        except XPathProblem:
            return content  # SoapUI sends a request it cannot parse unchanged
        if outgoing:
            wss.apply_outgoing(envelope, self.project.wss_outgoing[outgoing], scope)
        if password_type and username:
            wss.apply_request_token(envelope, username, password, password_type)
        return etree.tostring(envelope, encoding="unicode")

    def _transfer(self, step: Step, scope: _Scope, history: dict[str, _StepState], out: StepRun) -> None:
        done, problems = [], []
        for transfer in step.config.findall(con("transfers")):
            if (transfer.get("disabled") or "").lower() == "true":
                continue
            name = transfer.findtext(con("name")) or "transfer"
            kind = (transfer.findtext(con("type")) or "XPATH").upper()
            source_step = transfer.findtext(con("sourceStep")) or ""
            source_prop = transfer.findtext(con("sourceType")) or ""
            source_path = expand(transfer.findtext(con("sourcePath")) or "", scope)
            target_step = transfer.findtext(con("targetStep")) or ""
            target_prop = transfer.findtext(con("targetType")) or ""
            target_path = transfer.findtext(con("targetPath")) or ""
            fail_on_error = (transfer.get("failOnError") or "true").lower() == "true"
            set_null = (transfer.get("setNullOnMissingSource") or "true").lower() == "true"
            text_content = (transfer.get("transferTextContent") or "true").lower() == "true"
            ignore_empty = (transfer.get("ignoreEmpty") or "false").lower() == "true"
            if kind != "XPATH":
                problems.append(f"[{name}] transfer type {kind} is not supported")
                continue
            if target_path.strip():
                problems.append(f"[{name}] a target path is not supported (transfer into a property)")
                continue
            source = self._holder_value(source_step, source_prop, scope, history)
            value: str | None = source
            if source is not None and source_path.strip():
                try:
                    document = parse_xml(source)
                    selected = evaluate(document, source_path)
                    if isinstance(selected, list):
                        value = (values(selected[:1])[0] if text_content else
                                 _serialize(selected[0])) if selected else None
                    else:
                        value = values(selected)[0]
                except XPathProblem as exc:
                    problems.append(f"[{name}] {exc}")
                    continue
            if value is None:
                if fail_on_error:
                    problems.append(f"[{name}] Missing source value for {source_step}#{source_prop} "
                                    f"[{source_path}]")
                    continue
                if not set_null:
                    continue
                value = ""
            if ignore_empty and value == "":
                continue
            self._set_holder_value(target_step, target_prop, value, scope, history)
            done.append(f"{name}: {target_step}{target_prop} = {value}")
        if problems:
            out.status, out.message = FAILED, "; ".join(problems)
        else:
            out.message = "; ".join(done) or "nothing to transfer"

    def _holder_value(self, holder: str, name: str, scope: _Scope,
                      history: dict[str, _StepState]) -> str | None:
        if holder == "#Project#":
            return scope.project.get(name)
        if holder == "#TestSuite#":
            return scope.suite.get(name)
        if holder == "#TestCase#":
            return scope.case.get(name)
        if holder == "#Global#":
            return scope.global_properties.get(name)
        return scope.step_property(holder, name)

    def _set_holder_value(self, holder: str, name: str, value: str, scope: _Scope,
                          history: dict[str, _StepState]) -> None:
        if holder == "#Project#":
            scope.project[name] = value
        elif holder == "#TestSuite#":
            scope.suite[name] = value
        elif holder == "#TestCase#":
            scope.case[name] = value
        elif holder == "#Global#":
            scope.global_properties[name] = value
        else:
            step = next((s for s in scope.case_model.steps if s.name == holder), None)
            if step is None or step.type != "properties":
                raise XPathProblem(f"transfer target [{holder}#{name}] is not a property holder the runner "
                                   f"supports (#Project#, #TestSuite#, #TestCase#, #Global#, "
                                   f"a Properties step)")
            history.setdefault(holder, _StepState())[name] = value

    def _delay(self, step: Step, scope: _Scope, out: StepRun) -> None:
        raw = step.config.findtext("delay") if step.config is not None else None
        try:
            delay = int(expand(raw or "1000", scope))
        except ValueError:
            delay = 1000
        time.sleep(max(delay, 0) / 1000)
        out.message = f"waited {delay} ms"

    def _goto(self, case: TestCase, step: Step, scope: _Scope, history: dict[str, _StepState],
              out: StepRun) -> int | None:
        index = case.step_index(step.name)
        previous = next((s for s in reversed(case.steps[:index]) if s.type == "request"), None)
        if previous is None or previous.name not in history:
            out.status, out.message = FAILED, f"Failed to find previous request step from [{step.name}]"
            return None
        response = history[previous.name].get("Response") or ""
        for condition in step.config.findall(con("condition")):
            name = condition.findtext(con("name")) or ""
            kind = (condition.findtext(con("type")) or "XPATH").upper()
            expression = expand(condition.findtext(con("expression")) or "", scope)
            target = (condition.findtext(con("targetStep")) or "").strip()
            if kind != "XPATH" or not expression.strip() or not target:
                continue
            try:
                result = evaluate(parse_xml(response), expression)
            except XPathProblem:
                continue  # SoapUI logs the error and tries the next condition
            if result is True:  # SoapUI jumps only on a single boolean true
                out.message = f"Matched condition [{name}], transferring to [{target}]"
                return case.step_index(target)
        out.message = "Missing matching condition, moving on."
        return None


def _serialize(node) -> str:
    if isinstance(node, etree._Element):
        return etree.tostring(node, encoding="unicode")
    return str(node)


def _custom_headers(request_el: etree._Element, scope: _Scope) -> dict[str, str]:
    """HTTP headers from the request's settings (SoapUI stores them as an escaped xml-fragment)."""
    settings = request_el.find(con("settings"))
    found: dict[str, str] = {}
    if settings is None:
        return found
    for setting in settings.findall(con("setting")):
        if not (setting.get("id") or "").endswith("@request-headers") or not (setting.text or "").strip():
            continue
        fragment = setting.text.strip()
        if "xmlns:con" not in fragment:
            fragment = fragment.replace("<xml-fragment", f'<xml-fragment xmlns:con="{CON}"', 1)
        try:
            root = etree.fromstring(fragment.encode())
        except etree.XMLSyntaxError:
            continue
        for entry in root.iter(f"{{{CON}}}entry"):
            found[entry.get("key", "")] = expand(entry.get("value", ""), scope)
    return found


def run_project(project: Project, **options) -> ProjectRun:
    """Run a project (see Runner for the options)."""
    return Runner(project, **options).run()
