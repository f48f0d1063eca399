"""The step types besides requests: property transfer (XPath), delay and conditional goto."""
from __future__ import annotations

import time

from lxml import etree

from .expansion import XPathProblem, evaluate, expand, parse_xml, values
from .model import Step, TestCase, con
from .results import FAILED, StepRun
from .scope import RunScope


def run_transfer(step: Step, scope: RunScope, out: StepRun) -> None:
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
        source = scope.holder_value(source_step, source_prop)
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
        scope.set_holder_value(target_step, target_prop, value)
        done.append(f"{name}: {target_step}{target_prop} = {value}")
    if problems:
        out.status, out.message = FAILED, "; ".join(problems)
    else:
        out.message = "; ".join(done) or "nothing to transfer"


def run_delay(step: Step, scope: RunScope, out: StepRun) -> None:
    raw = step.config.findtext("delay") if step.config is not None else None
    try:
        delay = int(expand(raw or "1000", scope))
    except ValueError:
        delay = 1000
    time.sleep(max(delay, 0) / 1000)
    out.message = f"waited {delay} ms"


def run_goto(case: TestCase, step: Step, scope: RunScope, out: StepRun) -> int | None:
    """The index of the step to jump to, or None to go on with the next one."""
    index = case.step_index(step.name)
    previous = next((s for s in reversed(case.steps[:index]) if s.type == "request"), None)
    if previous is None or previous.name not in scope.history:
        out.status, out.message = FAILED, f"Failed to find previous request step from [{step.name}]"
        return None
    response = scope.history[previous.name].get("Response") or ""
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
