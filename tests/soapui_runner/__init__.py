"""A runner for SoapUI projects (soapui/lms-soapui-project.xml) in Python, for CI machines without
SoapUI: it parses the project XML with lxml, executes its request, property transfer, delay,
conditional goto and properties steps, evaluates SoapUI's assertion types, skips Groovy visibly
and writes a JUnit XML report. Usage:

    python -m tests.soapui_runner soapui/lms-soapui-project.xml --endpoint http://host:8000/soap \
        --prop bankUsername=... --prop bankPassword=... --junit build/soapui-junit.xml
"""
from .junit import to_xml, write_junit
from .model import Project, load_project
from .results import ERROR, FAILED, OK, SKIPPED, ProjectRun, StepRun
from .runner import Runner, run_project

__all__ = ["ERROR", "FAILED", "OK", "SKIPPED", "Project", "ProjectRun", "Runner", "StepRun", "load_project",
           "run_project", "to_xml", "write_junit"]
