"""A TCP relay in front of a service that a test can cut and restore, keeping its port.

Notes reaches the users service through one, so a story can take users "down" (nothing
listens: connections are refused, as when the service is stopped) and bring it back on the
same address, whatever runs the users service: this process or another.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

__all__ = ["Switch"]

_POLL_SECONDS = 0.05


class Switch:
    """Relays ``127.0.0.1:<port>`` to ``upstream`` (``host:port``) while it is on."""

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._on = False
        self.port = self._listen(0)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Stop listening and drop every relayed connection: the service seems down."""
        with self._lock:
            self._on = False
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in (*sockets, *([listener] if listener else [])):
            _close(sock)
        self._join()

    def restore(self) -> None:
        """Listen on the same port again: the service is back."""
        self._listen(self.port)

    def close(self) -> None:
        self.cut()

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        listener.settimeout(_POLL_SECONDS)
        with self._lock:
            self._listener, self._on = listener, True
        self._spawn(self._accept, listener)
        bound: int = listener.getsockname()[1]
        return bound

    def _spawn(self, target: Callable[..., None], *args: socket.socket) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _join(self) -> None:
        with self._lock:
            threads, self._threads = self._threads, []
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def _accept(self, listener: socket.socket) -> None:
        while self._on and self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = self._connect()
            if upstream is None:
                _close(client)
                continue
            client.settimeout(None)
            for sock in (client, upstream):
                # gRPC writes small frames and waits for answers: no Nagle delay in between.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if not self._on:
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _connect(self) -> socket.socket | None:
        if self.upstream is None:
            return None
        host, _, port = self.upstream.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            return None
        upstream.settimeout(None)
        return upstream

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
