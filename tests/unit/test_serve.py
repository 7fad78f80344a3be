"""``invoke serve``'s own pieces that need no child processes: where clients reach a server,
which programs exist, which ports it takes."""

from __future__ import annotations

import socket

import pytest

from app.commands import serve


@pytest.mark.parametrize(
    ("bound", "reached"),
    [
        ("0.0.0.0", "127.0.0.1"),  # noqa: S104 - a bind address under test, nothing binds
        ("", "127.0.0.1"),
        ("::", "[::1]"),
        ("[::]", "[::1]"),
        ("::1", "[::1]"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
    ],
)
def test_a_wildcard_bind_is_reached_on_loopback(bound: str, reached: str) -> None:
    assert serve._loopback(bound) == reached


def test_only_modules_python_dash_m_can_run_count() -> None:
    assert serve._has_module("app.api.rest")  # a package with __main__
    assert serve._has_module("app.commands.serve")  # a module
    assert not serve._has_module("app.api")  # a package without __main__
    assert not serve._has_module("app.no_such_module")
    assert not serve._has_module("no_such_package.module")


def test_ports_asked_for_as_0_are_free_and_different() -> None:
    first, second = serve._ports([("127.0.0.1", 0, "--rest-port"), ("127.0.0.1", 0, "--grpc-port")])
    assert first != second
    for port in (first, second):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # still free: nothing kept them


def test_the_same_port_twice_is_refused() -> None:
    with pytest.raises(serve.ServeError, match="port 8123 is asked for twice: change --grpc-port"):
        serve._ports([("127.0.0.1", 8123, "--rest-port"), ("127.0.0.1", 8123, "--grpc-port")])
