"""Free ports are checked as servers bind them: TIME_WAIT is free, a listener is not."""

from __future__ import annotations

import socket

import pytest

from common.ports import free_port, free_ports, outgoing_ports_start


def _port_in_time_wait() -> int:
    """A port whose server closed a connection first, so its end lingers in TIME_WAIT."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port: int = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server's side closes first: it is the one in TIME_WAIT
            client.recv(1)
    return port


def test_a_port_in_time_wait_is_free_to_a_new_server() -> None:
    port = _port_in_time_wait()
    with socket.socket() as plain, pytest.raises(OSError, match="in use"):
        plain.bind(("127.0.0.1", port))  # a check without SO_REUSEADDR would call it taken
    assert free_port("127.0.0.1", port) == port


def test_a_port_a_server_listens_on_is_taken() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with pytest.raises(OSError, match="in use"):
            free_port("127.0.0.1", server.getsockname()[1])


def test_ports_picked_together_differ() -> None:
    first, second = free_ports([("127.0.0.1", 0), ("127.0.0.1", 0)])
    assert first != second


def test_a_picked_port_is_never_one_an_outgoing_connection_may_hold() -> None:
    """A client's connection keeps its local port even from a server with SO_REUSEADDR: a
    server restarting on the port it was given must not share that range with clients."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        with socket.create_connection(listening.getsockname()) as client:
            held = client.getsockname()[1]
            with pytest.raises(OSError, match="in use"):
                free_port("127.0.0.1", held)  # what a restarting server would meet
    start = outgoing_ports_start()
    if start <= 2048:
        pytest.skip(f"the outgoing range starts at {start}: nothing below it to pick")
    assert all(port < start for port in free_ports([("127.0.0.1", 0)] * 20))
