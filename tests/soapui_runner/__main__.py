"""`python -m tests.soapui_runner PROJECT.xml [options]`: run a SoapUI project, print one line per
step, write a JUnit report; exit 0 when every step passed, 1 when one failed, 2 on bad usage.

The options mirror SoapUI's testrunner.sh where one exists: -e/--endpoint, -P/--prop (project
property), -G/--global-prop, -s/--suite, -c/--case, -j/--junit (a file here, not a folder).
"""
from __future__ import annotations

import argparse
import sys

from .junit import write_junit
from .model import load_project
from .results import ERROR, FAILED, OK, SKIPPED, StepRun
from .runner import Runner

_MARK = {OK: "PASS", FAILED: "FAIL", ERROR: "ERROR", SKIPPED: "SKIP"}


def _pairs(values: list[str], option: str) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, content = value.partition("=")
        if not sep or not name:
            raise SystemExit(f"{option} takes name=value, got {value!r}")
        found[name] = content
    return found


def _print(step: StepRun) -> None:
    print(f"{_MARK.get(step.status, step.status):5} {step.suite} / {step.case} / {step.label} "
          f"({step.time_ms} ms): {step.message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soapui_runner", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", help="the SoapUI project XML")
    parser.add_argument("-e", "--endpoint",
                        help="the SOAP endpoint for every request (overrides the project's)")
    parser.add_argument("-P", "--prop", action="append", default=[], metavar="NAME=VALUE",
                        help="a project property (repeatable), e.g. bankUsername=bank-esb")
    parser.add_argument("-G", "--global-prop", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("-s", "--suite", action="append", help="run only this test suite (repeatable)")
    parser.add_argument("-c", "--case", action="append", help="run only this test case (repeatable)")
    parser.add_argument("-j", "--junit", help="write a JUnit XML report to this file")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only failures and the summary")
    args = parser.parse_args(argv)

    project = load_project(args.project)

    def listener(step: StepRun) -> None:
        if not args.quiet or step.status in (FAILED, ERROR):
            _print(step)

    run = Runner(project, endpoint=args.endpoint, properties=_pairs(args.prop, "--prop"),
                 global_properties=_pairs(args.global_prop, "--global-prop"), suites=args.suite,
                 cases=args.case, request_timeout=args.timeout, listener=listener).run()
    if args.junit:
        write_junit(run, args.junit)
    steps = run.steps
    print(f"{project.name}: {len(steps)} steps, {run.count(OK)} passed, {run.count(FAILED)} failed, "
          f"{run.count(ERROR)} errors, {run.count(SKIPPED)} skipped"
          + (f"; JUnit report {args.junit}" if args.junit else ""))
    if not steps:
        print("nothing ran: check --suite/--case", file=sys.stderr)
        return 1
    return 0 if run.passed else 1


if __name__ == "__main__":
    sys.exit(main())
