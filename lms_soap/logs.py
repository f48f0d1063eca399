"""Logs as JSON lines, each carrying the request id of the request being served (if any).

Never log secrets or whole KYC records: log ids and outcomes.
"""
from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key in ("operation", "principal", "faultcode", "status", "duration_ms", "customer", "loan",
                    "method", "path", "bytes", "remote"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Spyne logs whole request documents at DEBUG and tracebacks at ERROR for faults we raise on
    # purpose; zeep logs envelopes (with WS-Security passwords) at DEBUG. Keep them quiet.
    for noisy in ("spyne", "zeep", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL if noisy == "spyne" else logging.WARNING)
