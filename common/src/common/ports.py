"""Free TCP ports, checked the way servers bind them.

A server that stops leaves its last connections in ``TIME_WAIT`` for a minute; servers bind
with ``SO_REUSEADDR`` so that they can listen again at once, and so does every check here. A
port another socket listens on is still refused.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence

__all__ = ["free_port", "free_ports"]


def free_ports(wanted: Sequence[tuple[str, int]]) -> list[int]:
    """For each ``(host, port)``: ``port``, checked free; a free one for port 0.

    Every socket is held until all are checked, so two ports picked for 0 differ. Raises
    ``OSError`` (``EADDRINUSE``: a server listens there) for a port that is taken.
    """
    ports: list[int] = []
    with contextlib.ExitStack() as held:
        for host, port in wanted:
            bare = host.strip("[]")
            sock = held.enter_context(
                socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET)
            )
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((bare, port))
            ports.append(sock.getsockname()[1])
    return ports


def free_port(host: str = "127.0.0.1", port: int = 0) -> int:
    """``port`` on ``host``, checked free (``OSError`` when taken); a free one for 0."""
    return free_ports([(host, port)])[0]
