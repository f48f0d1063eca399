"""The processes the soak test starts (simulators, gunicorn, a worker) on free loopback ports, each
logging to a file of its own, through the project's launcher (lms_soap.sandbox.processes)."""
from __future__ import annotations

import sys
from pathlib import Path

from lms_soap.sandbox.processes import Child, Children, http_probe

ROOT = Path(__file__).resolve().parents[2]
#: Seconds the stack gets to answer its health checks.
START_TIMEOUT_SECONDS = 30.0


def start_stack(children: Children, env: dict[str, str], *, lms_port: int, cbs_port: int, scoring_port: int,
                workers: int, threads: int) -> Child:
    """The simulators, gunicorn (`lms-soap serve`) and a worker, once each answers; returns the
    gunicorn master."""
    def cli(name: str, args: list[str], ready=None) -> Child:
        return children.spawn(name, [sys.executable, "-m", "lms_soap.cli", *args], ready, env)

    cli("cbs", ["simulate", "cbs", "--port", str(cbs_port)],
        http_probe(f"http://127.0.0.1:{cbs_port}/service/customer?wsdl"))
    cli("scoring", ["simulate", "scoring", "--port", str(scoring_port)],
        http_probe(f"http://127.0.0.1:{scoring_port}/_sim/health"))
    gunicorn = cli("gunicorn", ["serve", "--bind", f"127.0.0.1:{lms_port}", "--workers", str(workers),
                                "--threads", str(threads)], http_probe(f"http://127.0.0.1:{lms_port}/readyz"))
    cli("worker", ["worker"])
    children.wait_ready(timeout=START_TIMEOUT_SECONDS)
    return gunicorn
