"""Metrics as Prometheus scrapes them: the processes of a server counted once each, summed.

A real REST server with two workers and a real gRPC server with two processes, each
answering requests spread over its processes; one scrape gives the totals. ``promtool check
metrics`` (Debian's ``prometheus`` package) passes on every scrape where it is installed.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from app.api.grpc.generated.v1 import users_pb2, users_pb2_grpc
from common.ports import free_port
from tests.reliability.servers import Served, environment, wait_for

pytestmark = pytest.mark.slow

REQUESTS = 40


@pytest.fixture
def database(pg_database_factory: Callable[[str], str]) -> str:
    return pg_database_factory(f"metrics_{uuid.uuid4().hex[:12]}")


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return str(response.read().decode())


def _value(exposition: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` (labels in any order; others may be there too)."""
    for line in exposition.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if match is None or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match[3])
    raise AssertionError(f"no sample {name}{labels} in:\n{exposition}")


def _promtool_accepts(exposition: str) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        return  # CI installs it (Debian's prometheus package); a bare machine may not have it
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _processes_that_counted(directory: Path) -> set[str]:
    """The pids of the processes that wrote counters (multiprocess mode: a file each)."""
    return {path.stem.rpartition("_")[2] for path in directory.glob("counter_*.db")}


def test_rest_metrics_sum_the_requests_of_every_worker(database: str, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    env = environment(database, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(directory))
    with Served("app.api.rest", env) as rest:
        host, port = rest.address.removeprefix("http://").rsplit(":", 1)
        sent = 0
        # A new connection each time: the kernel hands them to either worker.
        while sent < REQUESTS or len(_processes_that_counted(directory)) < 2:
            assert sent < 50 * REQUESTS, "every request went to one worker"
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            connection.request("GET", "/v1/users/me")
            assert connection.getresponse().status == 401
            connection.close()
            sent += 1
        exposition = _scrape(f"{rest.address}/metrics")
    labels = {"route": "/v1/users/me", "method": "GET"}
    assert _value(exposition, "http_server_requests_total", **labels, status="401") == sent
    assert _value(exposition, "http_server_request_duration_seconds_count", **labels) == sent
    assert _value(exposition, "db_pool_connections_in_use") >= 0
    _promtool_accepts(exposition)


def test_grpc_metrics_sum_the_calls_of_every_process(database: str, tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    metrics_port = free_port("127.0.0.1", 0)
    env = environment(
        database,
        GRPC_PROCESSES="2",
        GRPC_METRICS_PORT=str(metrics_port),
        PROMETHEUS_MULTIPROC_DIR=str(directory),
    )
    with Served("app.api.grpc", env) as served:
        sent = 0
        while sent < REQUESTS or len(_processes_that_counted(directory)) < 2:
            assert sent < 50 * REQUESTS, "every call went to one process"
            with grpc.insecure_channel(served.address) as channel:  # a connection each
                stub = users_pb2_grpc.UsersServiceStub(channel)
                with pytest.raises(grpc.RpcError) as caught:
                    stub.GetMe(users_pb2.GetMeRequest(), timeout=10)
                assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
            sent += 1
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_for(lambda: "grpc_server_handled_total" in _scrape(url))
        exposition = _scrape(url)
    method = "/backend.v1.UsersService/GetMe"
    assert (
        _value(exposition, "grpc_server_handled_total", method=method, code="UNAUTHENTICATED")
        == sent
    )
    assert _value(exposition, "grpc_server_handling_seconds_count", method=method) == sent
    _promtool_accepts(exposition)
