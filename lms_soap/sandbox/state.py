"""The sandbox's state directory: what survives a restart, and what the demo and tests read.

    <state>/lms.db            the SQLite database (unless DATABASE_URL is set)
    <state>/secret.key        LMS_SECRET_KEY, generated once (it encrypts the scoring token at rest
                              and keys the API-secret hashes, so it must survive restarts)
    <state>/credentials.json  the URLs and the three API clients' credentials (rewritten at each start)
    <state>/sandbox.json      the running sandbox: the runner's pid and its children's pids (each
                              child leads its own process group)
    <state>/logs/*.log        one log per child process
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from .processes import process_alive

CREDENTIALS_FILE = "credentials.json"
SECRET_KEY_FILE = "secret.key"
RECORD_FILE = "sandbox.json"
#: Top-level keys of credentials.json (the demo and the tests rely on them).
CREDENTIAL_KEYS = ("lms_url", "wsdl_url", "cbs_url", "scoring_url", "bank", "scoring", "admin")


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically (write then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class StateDir:
    def __init__(self, path: Path):
        self.path = Path(path).resolve()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.path / 'lms.db'}"

    @property
    def log_dir(self) -> Path:
        return self.path / "logs"

    @property
    def record_path(self) -> Path:
        return self.path / RECORD_FILE

    @property
    def credentials_path(self) -> Path:
        return self.path / CREDENTIALS_FILE

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def secret_key(self) -> str:
        """The persisted LMS_SECRET_KEY, generated on the first start."""
        path = self.path / SECRET_KEY_FILE
        if path.exists():
            key = path.read_text().strip()
            if key:
                return key
        key = secrets.token_urlsafe(48)
        _write_private(path, key + "\n")
        return key

    def credentials(self) -> dict[str, Any]:
        return _read_json(self.credentials_path)

    def write_credentials(self, data: dict[str, Any]) -> None:
        _write_private(self.credentials_path, json.dumps(data, indent=2) + "\n")

    def record(self) -> dict[str, Any]:
        return _read_json(self.record_path)

    def write_record(self, data: dict[str, Any]) -> None:
        _write_private(self.record_path, json.dumps(data, indent=2) + "\n")

    def running_sandbox(self) -> int | None:
        """The pid of another sandbox runner still running on this directory, if any."""
        pid = self.record().get("runner_pid")
        if not isinstance(pid, int) or pid == os.getpid() or not process_alive(pid):
            return None
        cmdline = _cmdline(pid)
        return pid if not cmdline or "sandbox" in cmdline else None  # else: a reused pid
