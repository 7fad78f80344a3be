"""The real servers in child processes, as a container runs them: configured by the environment."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """Only what the servers need: nothing leaks in from the developer's environment."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "REST_HOST": "127.0.0.1",
        "REST_PORT": "0",
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": "0",
        "GRPC_METRICS_PORT": "0",
        "WORKER_METRICS_PORT": "0",
        **extra,
    }


class Served:
    """``python -m <module>`` running until stopped; ``address`` is what it printed it serves."""

    def __init__(self, module: str, env: dict[str, str], *, timeout: float = 60) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().split() if ready else []
        if len(line) != 2:
            self.kill()
            pytest.fail(f"{module} did not start: {self.errors()}")
        self.address = line[1]

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then its exit status once it exited."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def errors(self) -> str:
        """What it wrote on stderr (once it exited)."""
        if self.process.poll() is None:
            return ""
        assert self.process.stderr is not None
        return self.process.stderr.read()[-3000:]

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def wait_for(check: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
