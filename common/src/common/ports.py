"""Free TCP ports, checked the way servers bind them.

A server that stops leaves its last connections in ``TIME_WAIT`` for a minute; servers bind
with ``SO_REUSEADDR`` so that they can listen again at once, and so does every check here. A
port another socket listens on is still refused.

A port picked for 0 lies below the range the kernel takes the local ports of outgoing
connections from (``net.ipv4.ip_local_port_range``): a server that restarts on the port it
was given (``invoke serve``'s reload, a replica) would otherwise find it, now and then, held
by a client's connection that the kernel gave it while the server was down.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Sequence
from pathlib import Path

__all__ = ["free_port", "free_ports", "outgoing_ports_start"]


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
            if port == 0:
                _bind_below_outgoing(sock, bare)
            else:
                sock.bind((bare, port))
            ports.append(sock.getsockname()[1])
    return ports


#: Ports tried below the outgoing range before leaving the choice to the kernel.
_ATTEMPTS = 64


def _bind_below_outgoing(sock: socket.socket, host: str) -> None:
    low = outgoing_ports_start()
    candidates = range(max(1024, low // 2), low)
    for port in random.sample(candidates, min(_ATTEMPTS, len(candidates))):
        try:
            sock.bind((host, port))
        except OSError:
            continue
        return
    sock.bind((host, 0))


def outgoing_ports_start() -> int:
    """The first port the kernel gives outgoing connections (Linux; 32768 elsewhere)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def free_port(host: str = "127.0.0.1", port: int = 0) -> int:
    """``port`` on ``host``, checked free (``OSError`` when taken); a free one for 0."""
    return free_ports([(host, port)])[0]
