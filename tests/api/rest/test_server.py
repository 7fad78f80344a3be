"""The container entry point: ``python -m app.api.rest`` runs uvicorn from the environment.

What the server answers itself, before the app sees a request, is checked here on a real
server: refusals are problem+json, and every answer carries the security headers and no
``Server`` header.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from app.api.rest import __main__ as entry_point
from app.api.rest.openapi import render
from app.api.rest.protocol import RestProtocol
from app.api.rest.server import ASGI_FACTORY, uvicorn_config
from app.config import Settings

LISTENING = re.compile(r"^REST  (http://127\.0\.0\.1:\d+)$")


def run_python(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_options_come_from_the_settings(settings: Settings) -> None:
    config = uvicorn_config(
        settings.model_copy(
            update={
                "rest_port": 8123,
                "web_concurrency": 3,
                "rest_read_timeout_seconds": 7,
                "rest_forwarded_allow_ips": "10.0.0.0/8",
            }
        )
    )
    assert (config.app, config.factory, config.host, config.port) == (
        ASGI_FACTORY,
        True,
        "127.0.0.1",
        8123,
    )
    assert config.workers == 3
    assert config.http is RestProtocol
    assert (config.read_timeout, config.max_header_bytes) == (7, settings.rest_max_header_bytes)
    assert config.timeout_graceful_shutdown == settings.rest_graceful_timeout
    assert config.server_header is False
    assert config.forwarded_allow_ips == "10.0.0.0/8"
    assert uvicorn_config(settings.model_copy(update={"rest_host": "[::1]"})).host == "::1"


def test_the_openapi_command_prints_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    entry_point.main(["openapi"])
    assert capsys.readouterr().out == render()


def test_unknown_arguments_are_refused() -> None:
    with pytest.raises(SystemExit, match=r"usage: python -m app\.api\.rest"):
        entry_point.main(["--port", "80"])


@pytest.mark.slow
def test_it_imports_without_settings_and_stops_naming_each_bad_variable(tmp_path: Path) -> None:
    # No DATABASE_URL at all: the modules import fine, then loading the settings fails.
    env = {"REST_PORT": "70000", "WEB_CONCURRENCY": "0"}
    result = run_python(["-m", "app.api.rest"], env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("invalid configuration:")
    for variable in ("DATABASE_URL", "REST_PORT", "WEB_CONCURRENCY"):
        assert f"  {variable}: " in result.stderr
    assert "Traceback" not in result.stderr


class Server:
    """``python -m app.api.rest`` in a child process, its stdout and stderr collected by threads."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.api.rest"],
            env=env,
            cwd=cwd,
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.collected: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(stream,), daemon=True)
            for stream in (self.process.stdout, self.process.stderr)
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)

    def address(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            self.collected.append(line)
            if match := LISTENING.search(line.rstrip("\n")):
                return match.group(1)

    def output(self) -> str:
        """Everything it wrote, once it has exited."""
        for reader in self._readers:
            reader.join(timeout=30)
        while not self.lines.empty():
            self.collected.append(self.lines.get())
        return "".join(self.collected)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self._readers:
            reader.join(timeout=30)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()


@pytest.fixture
def server(pg_database_url: str, tmp_path: Path) -> Iterator[Server]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "test",
        "DATABASE_URL": pg_database_url,
        "REST_HOST": "127.0.0.1",
        "REST_PORT": "0",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "INFO",
        "REST_READ_TIMEOUT_SECONDS": "1",
    }
    server = Server(env, tmp_path)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.slow
def test_it_serves_and_stops_cleanly_on_sigterm(server: Server) -> None:
    url = f"{server.address()}/readyz"
    request = urllib.request.Request(url, headers={"X-Request-ID": "probe-1"})  # noqa: S310 - loopback http URL built above
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - same URL
        assert response.status == 200
        assert response.headers["X-Request-ID"] == "probe-1"
        assert response.read() == b'{"status":"ok"}'

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    log = server.output()
    assert re.search(r"\[probe-1\] app\.api\.rest\.access: GET /readyz 200 ", log), log
    assert "shutdown hooks ran" in log, log


def _raw(address: str, request: bytes, *, timeout: float = 10) -> tuple[str, dict[str, str], bytes]:
    """Send ``request`` as it is; the status line, the headers and the body of the answer."""
    host, port = address.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close before taking it all
            sock.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return status, headers, body


@pytest.mark.slow
def test_what_the_server_refuses_itself_is_a_problem_with_the_usual_headers(
    server: Server,
) -> None:
    address = server.address()
    head = "Host: x\r\nConnection: close\r\n"
    cases = {
        "414": f"GET /healthz?{'a' * 70_000} HTTP/1.1\r\n{head}\r\n".encode(),
        "431": f"GET /healthz HTTP/1.1\r\n{head}X-Big: {'a' * 70_000}\r\n\r\n".encode(),
        "400": f"GET /healthz HTTP/1.1\r\n{head}Bad Header\r\n\r\n".encode(),
        "413": (
            f"POST /v1/users HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            "Content-Length: 99999999\r\n\r\n"
        ).encode(),
        "413 sent whole": (
            f"POST /v1/users HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: 300000\r\n\r\n{'x' * 300_000}"
        ).encode(),
        "408": (
            f"POST /v1/users HTTP/1.1\r\n{head}Content-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{"
        ).encode(),
    }
    for code, request in cases.items():
        status, headers, body = _raw(address, request)
        assert status.split()[1] == code.split()[0], (code, status, body)
        assert headers["content-type"] == "application/problem+json", code
        problem = json.loads(body)
        assert problem["status"] == int(code.split()[0])
        assert headers["x-content-type-options"] == "nosniff", code
        assert "server" not in headers, code
    status, headers, _ = _raw(address, f"GET /healthz HTTP/1.1\r\n{head}\r\n".encode())
    assert status.endswith("200 OK")
    assert "server" not in headers
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "strict-transport-security" not in headers  # only when deployed
