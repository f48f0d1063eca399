"""A small threaded TCP proxy for outage tests: put it between a process and PostgreSQL, Redis, the
CBS or the scoring engine, then `cut()` to make the dependency go away and `restore()` to bring it
back, without touching the real server (other test runs share it).

    with TcpProxy("127.0.0.1", 5432) as proxy:        # listens on a free loopback port
        url = f"postgresql://...@127.0.0.1:{proxy.port}/db"
        ...
        with proxy.down():                            # cut() ... restore()
            ...

cut() closes every open connection with a TCP reset, then either
- (default) keeps listening but resets every new connection at once: a client connects, then
  reads "connection reset" (no port to lose to another process meanwhile), or
- refuse=True: closes the listening socket, so nothing listens on the port ("connection
  refused"); restore() binds the same port again.
While the proxy is up, a client whose target does not answer is reset the same way.
"""
from __future__ import annotations

import contextlib
import errno
import select
import socket
import struct
import threading
import time
from typing import Iterator

#: How often the accept loop looks at its stop flag, seconds.
_TICK = 0.1
_CHUNK = 64 * 1024


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), not FIN: the peer sees "connection reset", as when a server dies."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Pipe(threading.Thread):
    """One proxied connection: copies bytes both ways until either side closes or the proxy cuts.

    It sleeps in select() until there is something to copy (no polling while idle: a pool of
    idle keep-alive connections costs nothing); cut() wakes it through a socketpair."""

    def __init__(self, client: socket.socket, upstream: socket.socket, on_done):
        super().__init__(name="tcp-proxy-pipe", daemon=True)
        self.client, self.upstream = client, upstream
        self._wake_r, self._wake_w = socket.socketpair()
        self._on_done = on_done

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def run(self) -> None:
        peers = {self.client: self.upstream, self.upstream: self.client}
        try:
            while True:
                readable, _, _ = select.select([self._wake_r, *peers], [], [])
                if self._wake_r in readable:
                    return
                for sock in readable:
                    data = sock.recv(_CHUNK)
                    if not data:  # orderly close by one side: pass it on
                        return
                    peers[sock].sendall(data)
        except OSError:
            pass  # one side reset or vanished: reset the other one too
        finally:
            _reset(self.client)
            _reset(self.upstream)
            self._wake_r.close()
            self._wake_w.close()
            self._on_done(self)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to target_host:target_port. Thread-safe; a context manager."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1",
                 port: int = 0, connect_timeout: float = 2.0):
        self.target = (target_host, int(target_port))
        self.listen_host = listen_host
        self.port = port
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._pipes: set[_Pipe] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cut = False
        self.accepted = 0  # connections accepted since start (for tests that want to know)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "TcpProxy":
        self._stopping.clear()
        self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close_listener()
        self._cut_pipes()

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._cut

    # --- outages --------------------------------------------------------------------------------
    def cut(self, refuse: bool = False) -> None:
        """The dependency goes away: every open connection is reset, and new ones are reset at
        once (or refused, refuse=True: nothing listens on the port any more)."""
        with self._lock:
            self._cut = True
        if refuse:
            self._close_listener()
        self._cut_pipes()

    def restore(self) -> None:
        """The dependency is back: new connections are forwarded again (on the same port)."""
        with self._lock:
            self._cut = False
            listening = self._listener is not None
        if not listening and not self._stopping.is_set():
            self._listen()

    @contextlib.contextmanager
    def down(self, refuse: bool = False) -> Iterator["TcpProxy"]:
        """`with proxy.down(): ...` cut for the block, restored after it (even on failure)."""
        self.cut(refuse=refuse)
        try:
            yield self
        finally:
            self.restore()

    # --- internals ------------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:  # after refuse=True the port may still be in use for a moment
            try:
                listener.bind((self.listen_host, self.port))
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(_TICK)
        listener.listen(128)
        listener.settimeout(_TICK)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        self._acceptor = threading.Thread(target=self._accept_loop, args=(listener,),
                                          name=f"tcp-proxy-{self.port}", daemon=True)
        self._acceptor.start()

    def _close_listener(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            acceptor, self._acceptor = self._acceptor, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()
        if acceptor is not None and acceptor is not threading.current_thread():
            acceptor.join(2)

    def _cut_pipes(self) -> None:
        with self._lock:
            pipes = list(self._pipes)
        for pipe in pipes:
            pipe.cut()
        for pipe in pipes:  # synchronous: when cut() returns, every connection is gone
            pipe.join(2)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # listener closed
            self.accepted += 1
            with self._lock:
                cut = self._cut
            if cut:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=self.connect_timeout)
            except OSError:
                _reset(client)  # target down: the client sees the same as a dead server
                continue
            for sock in (client, upstream):
                sock.setblocking(True)
                sock.settimeout(10)  # bounds sendall() to a peer that stopped reading
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(client, upstream, self._forget)
            with self._lock:
                if self._cut:  # cut() ran while we connected upstream
                    _reset(client)
                    _reset(upstream)
                    continue
                self._pipes.add(pipe)
            pipe.start()

    def _forget(self, pipe: _Pipe) -> None:
        with self._lock:
            self._pipes.discard(pipe)
