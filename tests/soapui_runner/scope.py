"""The property holders a running test case sees: the project's, suite's, test case's and global
properties, the run's context, and the properties of the steps that ran (StepState)."""
from __future__ import annotations

from .expansion import XPathProblem, holder_properties
from .model import Step, TestCase, con


class StepState(dict):
    """The properties of a step after it ran (Request, RawRequest, Response, Endpoint, ...)."""


class RunScope:
    """The property holders an expansion sees while a step runs."""

    def __init__(self, project: dict[str, str], suite: dict[str, str], case: dict[str, str],
                 global_properties: dict[str, str], case_model: TestCase, history: dict[str, StepState]):
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
                        return request_template(model)
            return None
        return state.get(name)

    def holder_value(self, holder: str, name: str) -> str | None:
        """A property of #Project#, #TestSuite#, #TestCase#, #Global# or a step of the test case."""
        properties = holder_properties(holder.strip("#"), self) if holder.startswith("#") else None
        if properties is not None:
            return properties.get(name)
        return self.step_property(holder, name)

    def set_holder_value(self, holder: str, name: str, value: str) -> None:
        """Sets a property of #Project#, #TestSuite#, #TestCase#, #Global# or a Properties step."""
        properties = holder_properties(holder.strip("#"), self) if holder.startswith("#") else None
        if properties is not None:
            properties[name] = value
        else:
            step = next((s for s in self.case_model.steps if s.name == holder), None)
            if step is None or step.type != "properties":
                raise XPathProblem(f"transfer target [{holder}#{name}] is not a property holder the runner "
                                   f"supports (#Project#, #TestSuite#, #TestCase#, #Global#, "
                                   f"a Properties step)")
            self.history.setdefault(holder, StepState())[name] = value


def request_template(step: Step) -> str:
    """The request of a request step as configured (before expansion)."""
    request = step.config.find(con("request")) if step.config is not None else None
    body = request.find(con("request")) if request is not None else None
    return body.text or "" if body is not None else ""
