"""The client host's load driver: `python -m tests.multihost.drive < plan.json > results.json`.

A plan is {"mode": "burst"|"loop", "requests": [{"url", "body", "headers"}...], ...}:
- burst: every request at once (one thread each, released together by a barrier); a result per
  request, in order.
- paced: every request once, one after another, "interval" seconds apart;
- loop: the requests one after another, round and round, for "seconds", "interval" apart;
  a result per call with its wall-clock time "t" (time.time(), the same clock as the harness).
A result is {"http": status, "fault": faultcode or null, "loanId": ... or null, "error": ...}.
"""
from __future__ import annotations

import json
import sys
import threading
import time

import requests
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:lms-soap:v1"
CALL_TIMEOUT_SECONDS = 15


def call(session: requests.Session, request: dict) -> dict:
    started = time.time()
    try:
        response = session.post(request["url"], data=request["body"].encode(), timeout=CALL_TIMEOUT_SECONDS,
                                headers={"Content-Type": "text/xml; charset=utf-8", **request.get("headers", {})})
    except requests.RequestException as exc:
        return {"t": started, "http": None, "fault": None, "loanId": None, "error": type(exc).__name__}
    fault = loan_id = None
    try:
        doc = etree.fromstring(response.content)
        code = doc.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode")
        fault = code.split(":", 1)[-1] if code else None
        loan_id = doc.findtext(f".//{{{TNS}}}loanId")
    except etree.XMLSyntaxError:
        pass
    return {"t": started, "http": response.status_code, "fault": fault, "loanId": loan_id,
            "error": None if fault or response.ok else response.text[:200]}


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy: every address is a host of the harness
    return session


def burst(requests_: list[dict]) -> list[dict]:
    barrier = threading.Barrier(len(requests_))
    results: list[dict | None] = [None] * len(requests_)

    def run(index: int) -> None:
        session = _session()
        barrier.wait()
        results[index] = call(session, requests_[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests_))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results  # type: ignore[return-value]


def loop(requests_: list[dict], seconds: float, interval: float) -> list[dict]:
    session, results, index = _session(), [], 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        results.append(call(session, requests_[index % len(requests_)]))
        index += 1
        time.sleep(interval)
    return results


def pool(requests_: list[dict], threads: int) -> list[dict]:
    """Every request once, `threads` at a time (a bounded load)."""
    results: list[dict | None] = [None] * len(requests_)
    lock, cursor = threading.Lock(), iter(range(len(requests_)))

    def run() -> None:
        session = _session()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            results[index] = call(session, requests_[index])

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results  # type: ignore[return-value]


def main() -> None:
    plan = json.load(sys.stdin)
    mode = plan.get("mode", "burst")
    if mode == "burst":
        results = burst(plan["requests"])
    elif mode == "paced":  # each request once, "interval" apart
        results = [call(_session(), r) for r in plan["requests"] if time.sleep(plan.get("interval", 0.5)) is None]
    elif mode == "loop":
        results = loop(plan["requests"], plan["seconds"], plan.get("interval", 0.1))
    else:
        results = pool(plan["requests"], plan.get("threads", 8))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
