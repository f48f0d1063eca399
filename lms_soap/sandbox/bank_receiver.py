"""The sandbox's own bank callback receiver: a tiny WSGI app taking NotifyLoanEvent.

Each event is logged as one line (`bank: <eventId> <loanId> <previousStatus> -> <status> (<reason>)`),
kept in memory (`app.events`, oldest first) and, when a file is given, appended to it as a JSON
line; it answers 200 with an empty SOAP body. Duplicates (the same eventId again) are counted in
`app.duplicates` and answered 200 too, as a bank that drops them would.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from lxml import etree

log = logging.getLogger("lms_soap.sandbox.bank")
TNS = "urn:lms-soap:v1"
MAX_BODY = 256 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_OK = (b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
       b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>')
FIELDS = ("eventId", "loanId", "customerNumber", "status", "previousStatus", "reason", "occurredAt")


def parse_event(body: bytes) -> dict:
    root = etree.fromstring(body, _PARSER)
    event = root.find(f".//{{{TNS}}}NotifyLoanEvent")
    if event is None:
        raise ValueError("no NotifyLoanEvent in the body")
    out = {name: event.findtext(f"{{{TNS}}}{name}") for name in FIELDS}
    loan = event.find(f"{{{TNS}}}loan")
    out["loan"] = {etree.QName(child).localname: child.text for child in loan} if loan is not None else None
    return out


class BankReceiver:
    def __init__(self, events_file: Path | None = None):
        self.events: list[dict] = []
        self.duplicates = 0
        self.events_file = events_file
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":  # a health check (the sandbox's probe)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [f"bank receiver: {len(self.events)} event(s); POST NotifyLoanEvent here\n".encode()]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            if length > MAX_BODY:
                raise ValueError("too large")
            event = parse_event(environ["wsgi.input"].read(length))
        except (ValueError, etree.XMLSyntaxError) as exc:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [f"{exc}\n".encode()]
        self._keep(event)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [_OK]

    def _keep(self, event: dict) -> None:
        with self._lock:
            if any(e["eventId"] == event["eventId"] for e in self.events):
                self.duplicates += 1
                return
            self.events.append(event)
            if self.events_file is not None:
                with self.events_file.open("a") as out:
                    out.write(json.dumps(event) + "\n")
        log.info("bank: %s %s %s -> %s (%s)", event["eventId"], event["loanId"],
                 event["previousStatus"] or "-", event["status"], event["reason"] or "-")


def create_app_from_env() -> BankReceiver:
    """For gunicorn: BANK_RECEIVER_EVENTS names the JSON-lines file (sandbox only)."""
    import os

    path = os.environ.get("BANK_RECEIVER_EVENTS")  # noqa: the sandbox's own process, not an LMS setting
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return BankReceiver(Path(path) if path else None)
