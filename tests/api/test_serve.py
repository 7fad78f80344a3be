"""``invoke serve`` for real: it migrates, brings up REST and gRPC, prints their addresses,
answers on both, restarts them when code changes, and on Ctrl-C stops every program and exits
0; without reload, a program that exits on its own stops the others and it exits 1."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.commands import serve
from common import postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_database_url(pg_database_url: str) -> Iterator[str]:
    """An empty database on the test server (the supervisor migrates it), dropped after."""
    name = f"serve_{secrets.token_hex(6)}"
    postgres.create_database(pg_database_url, name)
    try:
        yield postgres.with_database(pg_database_url, name)
    finally:
        postgres.drop_database(pg_database_url, name)


def _environment(database_url: str) -> dict[str, str]:
    """What a developer's shell would hold, and no more (coverage's own variables aside)."""
    return {
        **{name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")},
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "local",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": "1",
        "GRPC_MAX_WORKERS": "2",
        "PASSWORD_TIME_COST": "1",
        "PASSWORD_MEMORY_COST_KIB": "8",
        "PASSWORD_PARALLELISM": "1",
    }


def _read_addresses(process: subprocess.Popen[str], timeout: float) -> list[str]:
    """The two lines it prints once both servers answer."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while len(seen) < 2:
        try:
            seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            pytest.fail(f"no addresses within {timeout} s; so far {seen}")
    return seen


def _children(log: str) -> list[tuple[str, int]]:
    """``(name, pid)`` of each program honcho says it started, in order."""
    return [(name, int(pid)) for name, pid in re.findall(r"\| (\w+) started \(pid=(\d+)\)", log)]


def _state(pid: int) -> str | None:
    """The process's state letter from ``/proc`` (``Z`` for a zombie), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return None


def _wait_for(log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{log.read_text()}"
        time.sleep(0.05)


def _both_answer(rest_url: str, grpc_address: str) -> None:
    with urllib.request.urlopen(f"{rest_url}/healthz", timeout=10) as response:  # noqa: S310 - the http URL it printed
        assert response.status == 200
        assert json.load(response) == {"status": "ok"}
    with grpc.insecure_channel(grpc_address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _serve(args: list[str], env: dict[str, str], cwd: Path, stderr: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.commands.serve",
            "--rest-port=0",
            "--grpc-port=0",
            "--no-worker",  # the worker's own tests run it; here it would only cost time
            f"--alembic-config={ROOT / 'alembic.ini'}",
            f"--data-dir={cwd / '.data'}",
            *args,
        ],
        cwd=cwd,  # no .env here
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )


def _addresses(process: subprocess.Popen[str]) -> tuple[re.Match[str], re.Match[str]]:
    lines = _read_addresses(process, timeout=60)
    rest_match = re.fullmatch(r"REST  (http://127\.0\.0\.1:(\d+))", lines[0])
    grpc_match = re.fullmatch(r"gRPC  (127\.0\.0\.1:(\d+))", lines[1])
    assert rest_match, lines
    assert grpc_match, lines
    return rest_match, grpc_match


def _take_down(process: subprocess.Popen[str], log: Path) -> None:
    """What a failed test leaves: the command and its programs, killed."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for _, pid in _children(log.read_text()):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    assert process.stdout is not None
    process.stdout.close()


@pytest.mark.slow
def test_serve_runs_both_servers_restarts_them_on_a_change_and_stops_on_ctrl_c(
    fresh_database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    source = tmp_path / "src" / "module.py"
    source.parent.mkdir()
    source.write_text("VALUE = 1\n")
    with log.open("w") as stderr:
        process = _serve(
            ["--reload", f"--watch={source.parent}"],
            _environment(fresh_database_url),
            tmp_path,
            stderr,
        )
    try:
        rest_match, grpc_match = _addresses(process)
        _both_answer(rest_match[1], grpc_match[1])

        _wait_for(log, "restarting on changes", timeout=10)
        source.write_text("VALUE = 2\n")
        _wait_for(log, "| restarted: rest, grpc", timeout=60)
        _both_answer(rest_match[1], grpc_match[1])  # the same addresses, new processes

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        _take_down(process, log)

    output = log.read_text()
    assert "migrate | INFO  [alembic.runtime.migration] Running upgrade" in output
    children = _children(output)
    assert Counter(name for name, _ in children) == {"migrate": 1, "rest": 2, "grpc": 2}, output
    assert "src/module.py changed: restarting" in output
    for _, pid in children:  # nothing left running
        _wait_until(lambda pid=pid: _state(pid) in (None, "Z"))  # type: ignore[misc]
    assert output.count("| rest stopped (rc=0)") == 2, output
    assert output.count("| grpc stopped (rc=0)") == 2, output
    assert _refused("127.0.0.1", int(rest_match[2]))
    assert _refused("127.0.0.1", int(grpc_match[2]))


@pytest.mark.slow
def test_without_reload_a_server_that_dies_stops_the_others_and_serve_fails(
    fresh_database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = _serve(["--no-reload"], _environment(fresh_database_url), tmp_path, stderr)
    try:
        _rest, grpc_match = _addresses(process)
        rest = dict(_children(log.read_text()))["rest"]
        os.kill(rest, signal.SIGKILL)
        assert process.wait(timeout=30) == 1
    finally:
        _take_down(process, log)
    output = log.read_text()
    assert "traces: off; `invoke up --observability` starts a collector" in output  # how to see
    assert "| grpc stopped (rc=0)" in output, output  # stopped, not left running
    assert _refused("127.0.0.1", int(grpc_match[2]))


def test_a_port_in_use_is_named_and_nothing_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in _environment("postgresql://postgres@127.0.0.1:1/unused").items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    handler = signal.getsignal(signal.SIGINT)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve.main([f"--rest-port={port}", "--grpc-port=0"]) == 1
    err = capsys.readouterr().err
    assert f"error: cannot listen on 127.0.0.1 port {port}" in err
    assert "--rest-port" in err
    assert "started" not in err
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handlers are back


@pytest.mark.parametrize(
    ("changes", "args", "message"),
    [
        ({"REST_PORT": "70000"}, [], "REST_PORT: Input should be less than or equal to 65535"),
        ({}, ["--rest-port=0", "--grpc-port=0"], "no alembic.ini: run from the project root"),
    ],
)
def test_it_stops_before_starting_anything_naming_the_problem(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, str],
    args: list[str],
    message: str,
) -> None:
    for name, value in {
        **_environment("postgresql://postgres@127.0.0.1:1/unused"),
        **changes,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env and no alembic.ini here
    assert serve.main(args) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "started" not in err


def _wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
