"""The dependencies of tests/e2e/test_dependency_failures.py as WSGI apps the tests switch: the CBS
simulator (healthy or built with one of its failure knobs) and a front of the scoring simulator
whose calls fail for chosen customers."""
from __future__ import annotations

import json
import threading

from lms_soap.sandbox import cbs_simulator, scoring_simulator

#: What a "slow" dependency takes to answer: well past the LMS's timeout (dependency_stack.TIMEOUT).
SLOW = 1.0


class CbsSwitch:
    """The CBS simulator, healthy or built with one of its failure knobs; `mode` picks which."""

    def __init__(self):
        self.apps = {
            None: cbs_simulator.create_app(),
            "slow": cbs_simulator.create_app(latency=SLOW),
            "garbage": cbs_simulator.create_app(fail="garbage"),
            "http500": cbs_simulator.create_app(fail="http500"),
            "fault": cbs_simulator.create_app(fail="fault"),
        }
        self.mode: str | None = None

    def __call__(self, environ, start_response):
        return self.apps[self.mode](environ, start_response)


GARBAGE = b"<html>\n<body>502 Bad Gateway</body>\n</html>\n"


class EngineFront:
    """The scoring simulator, with the calls of chosen customers failing.

    rules: customer number -> (call, how); call is "initiate" or "query"; how is
    "slow" (the simulator's latency knob: answers after SLOW seconds), "http500" (its
    failure_rate=1.0 knob), "garbage" (HTTP 200 with an HTML page) or "notready" (404: the
    score is not ready yet). queryScore calls are tied to a customer by the score token that
    initiate handed out.
    """

    def __init__(self):
        self.sim = scoring_simulator.create_app(not_ready_polls=1)
        self.slow = scoring_simulator.create_app(latency=SLOW)
        self.broken = scoring_simulator.create_app(failure_rate=1.0)
        self.rules: dict[str, tuple[str, str]] = {}
        self._owner: dict[str, str] = {}  # score token -> customer number
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        call = customer = None
        if path.startswith(scoring_simulator.INITIATE_PREFIX):
            call, customer = "initiate", path[len(scoring_simulator.INITIATE_PREFIX):]
        elif path.startswith(scoring_simulator.QUERY_PREFIX):
            with self._lock:
                call, customer = "query", self._owner.get(path[len(scoring_simulator.QUERY_PREFIX):])
        rule = self.rules.get(customer) if call else None
        if rule is not None and rule[0] == call:
            how = rule[1]
            if how == "garbage":
                start_response("200 OK", [("Content-Type", "text/html"),
                                          ("Content-Length", str(len(GARBAGE)))])
                return [GARBAGE]
            if how == "notready":
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"status":404,"error":"score not ready"}']
            return {"slow": self.slow, "http500": self.broken}[how](environ, start_response)
        if call != "initiate":
            return self.sim(environ, start_response)
        answer = {}

        def start(status, headers, exc_info=None):
            answer["status"] = status
            return start_response(status, headers, exc_info)

        body = b"".join(self.sim(environ, start))
        if answer.get("status", "").startswith("200"):
            with self._lock:
                self._owner[json.loads(body)] = customer
        return [body]
