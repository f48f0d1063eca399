"""SOAP and REST calls of the soak test, each one recorded (operation, outcome, latency) in Stats."""
from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import requests
from lxml import etree

TNS = "urn:lms-soap:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
#: Faults a correct LMS gives to this traffic (it submits for unregistered customers, cancels
#: decided loans, reuses requestIds on purpose...). Anything else is counted as an error.
EXPECTED_FAULTS = {
    "Client.CustomerNotRegistered", "Client.LoanInProgress", "Client.InvalidLoanState",
    "Client.IdempotencyConflict", "Client.AmountExceedsOutstanding", "Client.LoanNotFound",
}


def envelope(operation: str, fields: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}" '
            f'xmlns:tns="{TNS}"><soap:Body><tns:{operation}>{fields}</tns:{operation}></soap:Body>'
            f"</soap:Envelope>").encode()


def tag(name: str, value) -> str:
    return "" if value is None else f"<tns:{name}>{value}</tns:{name}>"


@dataclass
class Answer:
    ok: bool
    fault: str | None = None
    doc: etree._Element | None = None

    def text(self, name: str) -> str | None:
        found = None if self.doc is None else self.doc.find(f".//{{{TNS}}}{name}")
        return None if found is None else found.text


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter = field(default_factory=Counter)  # operation -> count
    outcomes: Counter = field(default_factory=Counter)  # faultcode or "OK" -> count
    errors: Counter = field(default_factory=Counter)  # unexpected outcome -> count
    latency: dict = field(default_factory=lambda: defaultdict(list))  # operation -> seconds
    problems: list = field(default_factory=list)  # violated invariants seen live

    def record(self, operation: str, outcome: str, seconds: float, unexpected: bool) -> None:
        with self.lock:
            self.calls[operation] += 1
            self.outcomes[outcome] += 1
            self.latency[operation].append(seconds)
            if unexpected:
                self.errors[f"{operation}: {outcome}"] += 1

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 50:
                self.problems.append(text)


class Client:
    """One thread's HTTP session, with the bank and scoring credentials."""

    def __init__(self, url: str, bank: tuple[str, str], scoring: tuple[str, str], stats: Stats):
        self.url, self.stats = url, stats
        self.bank = requests.Session()
        self.bank.auth = bank
        self.scoring = requests.Session()
        self.scoring.auth = scoring

    def soap(self, operation: str, fields: str = "", session: requests.Session | None = None) -> Answer:
        started = time.perf_counter()
        try:
            response = (session or self.bank).post(
                f"{self.url}/soap", data=envelope(operation, fields), timeout=30,
                headers={"Content-Type": "text/xml; charset=utf-8"})
        except requests.RequestException as exc:
            outcome = f"transport:{type(exc).__name__}"
            self.stats.record(operation, outcome, time.perf_counter() - started, True)
            return Answer(False, outcome)
        elapsed = time.perf_counter() - started
        try:
            doc = etree.fromstring(response.content)
            if etree.QName(doc).namespace != SOAP_ENV:
                raise ValueError("not a SOAP envelope")
        except (etree.XMLSyntaxError, ValueError):
            outcome = f"not-soap:HTTP {response.status_code} {response.headers.get('Content-Type')}"
            self.stats.record(operation, outcome, elapsed, True)
            return Answer(False, outcome)
        code = doc.findtext(f".//{{{SOAP_ENV}}}Fault/faultcode")
        if code:
            code = code.split(":", 1)[-1]
            self.stats.record(operation, code, elapsed, code not in EXPECTED_FAULTS)
            return Answer(False, code, doc)
        if response.status_code != 200:
            self.stats.record(operation, f"HTTP {response.status_code}", elapsed, True)
            return Answer(False, f"HTTP {response.status_code}")
        self.stats.record(operation, "OK", elapsed, False)
        return Answer(True, None, doc)

    def rest_transactions(self, number: str) -> None:
        started = time.perf_counter()
        operation = "REST:transactions"
        try:
            response = self.scoring.get(f"{self.url}/api/v1/transactions/{number}", timeout=30)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            outcome = f"transport:{type(exc).__name__}"
            self.stats.record(operation, outcome, time.perf_counter() - started, True)
            return
        ok = response.status_code == 200 and isinstance(body, list)
        fault = body.get("faultcode") if isinstance(body, dict) else None
        outcome = "OK" if ok else fault or f"HTTP {response.status_code}"
        self.stats.record(operation, outcome, time.perf_counter() - started,
                          not ok and outcome not in EXPECTED_FAULTS)  # a 404: customer not registered
