"""``python -m app.api.grpc`` with ``GRPC_PROCESSES`` above 1: servers forked onto one port.

Each test starts the real entry point (about a second of start-up), hence ``slow``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.api.grpc.test_entrypoint import _environment, _first_line, _start

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="one process elsewhere"),
]


def _servers(supervisor: subprocess.Popen[str]) -> list[int]:
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def _serving(address: str) -> bool:
    # A subchannel pool of its own: a new connection, which the kernel may give either server.
    options = (("grpc.use_local_subchannel_pool", 1),)
    with grpc.insecure_channel(address, options=options) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _stopped(process: subprocess.Popen[str], signum: int | None = None) -> tuple[int, str, str]:
    """Exit status, then what it printed on stdout (after the first line) and stderr."""
    try:
        if signum is not None:
            process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout, stderr


def test_forks_the_servers_prints_once_and_stops_them_all_on_sigterm(
    pg_database_url: str, tmp_path: Path
) -> None:
    process = _start(_environment(pg_database_url, GRPC_PROCESSES="3"), tmp_path)
    line = _first_line(process)
    assert line.startswith("gRPC  127.0.0.1:"), line
    servers = _servers(process)
    assert len(servers) == 3
    assert all(_serving(line.split()[1]) for _ in range(6))
    returncode, stdout, stderr = _stopped(process, signal.SIGTERM)
    assert returncode == 0, stderr
    assert stderr.count("app.api.grpc: stopping") == 3
    assert stdout == ""  # the line was printed once
    assert not any(Path(f"/proc/{pid}").exists() for pid in servers)


def test_a_server_that_dies_stops_the_others_and_fails(
    pg_database_url: str, tmp_path: Path
) -> None:
    process = _start(_environment(pg_database_url, GRPC_PROCESSES="2"), tmp_path)
    _first_line(process)
    first, second = _servers(process)
    os.kill(first, signal.SIGKILL)
    returncode, _, stderr = _stopped(process)
    assert returncode == 1
    assert "a gRPC server process exited" in stderr
    assert not Path(f"/proc/{second}").exists()


def test_a_port_in_use_is_refused(pg_database_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _start(
            _environment(pg_database_url, GRPC_PROCESSES="2", GRPC_PORT=str(port)), tmp_path
        )
        returncode, _, stderr = _stopped(process)
    assert returncode == 1
    assert f"cannot listen on 127.0.0.1 port {port}" in stderr
