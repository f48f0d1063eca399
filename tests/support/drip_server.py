"""A slow-drip HTTP server on loopback: it answers every request a few bytes at a time, each gap
well under the client's read timeout, so only a deadline on the whole call can end the call.

    with DripServer("headers") as url: ...   # the status line, then one header byte per gap
    with DripServer("body") as url: ...      # full headers (a long Content-Length), then 4 body bytes per gap

The drip stops after `limit` seconds (so a client without a deadline makes a test fail, not hang).
"""
from __future__ import annotations

import socket
import threading
import time

GAP = 0.2  # seconds between two drips
LIMIT = 30.0  # seconds a drip lasts at most


class DripServer:
    def __init__(self, mode: str, gap: float = GAP, limit: float = LIMIT):
        if mode not in ("headers", "body"):
            raise ValueError(mode)
        self.mode, self.gap, self.limit = mode, gap, limit
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> str:
        threading.Thread(target=self._accept, daemon=True).start()
        return self.url

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                self._read_request(conn)
                if self.mode == "headers":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                    chunk = b"a"
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                 b"Content-Length: 1000000\r\n\r\n")
                    chunk = b"    "
                ends = time.monotonic() + self.limit
                while time.monotonic() < ends and not self._stopped.wait(self.gap):
                    conn.sendall(chunk)
            except OSError:
                return  # the client gave up: what a deadline is for

    @staticmethod
    def _read_request(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            part = conn.recv(65536)
            if not part:
                return
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            part = conn.recv(65536)
            if not part:
                return
            body += part
