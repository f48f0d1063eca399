"""What a run produced: one StepRun per executed (or skipped) step, grouped by test case, suite and
project, with the statuses OK, FAILED, ERROR and SKIPPED."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .assertions import FAIL, SKIPPED, AssertionResult

OK, FAILED, ERROR = "OK", "FAILED", "ERROR"

__all__ = ["ERROR", "FAILED", "OK", "SKIPPED", "CaseRun", "ProjectRun", "StepRun", "SuiteRun"]


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
