"""The container entry point: ``python -m app.api.rest`` runs gunicorn from the environment."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api.rest import __main__ as entry_point
from app.api.rest.openapi import render
from app.api.rest.server import RestServer, gunicorn_options, post_worker_init, worker_exit
from app.bootstrap import Runtime
from app.config import Settings

LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def run_python(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_options_come_from_the_settings(settings: Settings) -> None:
    sync = gunicorn_options(settings.model_copy(update={"rest_port": 8123, "web_concurrency": 3}))
    assert sync["bind"] == ["127.0.0.1:8123"]
    assert (sync["workers"], sync["threads"], sync["worker_class"]) == (3, 1, "sync")
    assert sync["graceful_timeout"] == settings.rest_graceful_timeout
    assert sync["worker_exit"] is worker_exit
    assert sync["post_worker_init"] is post_worker_init
    assert sync["preload_app"] is False
    assert sync["control_socket_disable"] is True

    threaded = gunicorn_options(settings.model_copy(update={"rest_threads": 4, "rest_host": "::1"}))
    assert threaded["worker_class"] == "gthread"
    assert threaded["bind"] == ["[::1]:8000"]


def test_the_server_loads_the_app_for_these_settings(runtime: Runtime, settings: Settings) -> None:
    server = RestServer(settings, overrides={"workers": 5})
    assert server.cfg.workers == 5
    assert server.cfg.worker_class_str == "sync"
    app = server.load()
    assert app.extensions["runtime"] is runtime
    assert RestServer(settings, lambda: "a factory's app").load() == "a factory's app"


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
    """``python -m app.api.rest`` in a child process, its stderr collected by a thread."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.api.rest"],
            env=env,
            cwd=cwd,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.collected: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def address(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            self.collected.append(line)
            if match := LISTENING.search(line):
                return match.group(1)

    def output(self) -> str:
        """Everything it wrote, once it has exited."""
        self._reader.join(timeout=30)
        while not self.lines.empty():
            self.collected.append(self.lines.get())
        return "".join(self.collected)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        self.process.stderr.close()


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
