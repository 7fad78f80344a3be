"""``python -m app.api.grpc`` as a container runs it: configured by the environment, stopped by SIGTERM."""

from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.api.grpc import __main__ as entrypoint
from app.api.grpc.generated.v1 import auth_pb2, auth_pb2_grpc


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    """Only what the server needs: nothing leaks in from the developer's environment."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "PASSWORD_TIME_COST": "1",
        "PASSWORD_MEMORY_COST_KIB": "8",
        "PASSWORD_PARALLELISM": "1",
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": "0",
        "GRPC_METRICS_PORT": "0",
        "GRPC_MAX_WORKERS": "2",
        "GRPC_PROCESSES": "1",
        "GRPC_GRACE_SECONDS": "5",
        **extra,
    }


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.api.grpc"],
        cwd=cwd,  # no .env here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line(process: subprocess.Popen[str], timeout: float = 15) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the server printed nothing"
    return process.stdout.readline().strip()


def _sigterm_to_a_grpc_thread(process: subprocess.Popen[str]) -> None:
    """SIGTERM as the kernel may deliver it: to one of the process's other threads.

    The kernel hands a process's signal to any thread that does not block it. Given to one of
    gRPC's, it only wakes the main thread if that thread looks for it (a server once slept
    through it). Where there is no ``/proc`` to find the threads, to the process.
    """
    tasks = Path(f"/proc/{process.pid}/task")
    if not tasks.is_dir():
        process.send_signal(signal.SIGTERM)
        return
    others = sorted(int(task.name) for task in tasks.iterdir() if int(task.name) != process.pid)
    assert others, "gRPC started no threads"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(process.pid, others[0], signal.SIGTERM) != 0:  # the oldest: gRPC's timer
        raise OSError(ctypes.get_errno(), f"tgkill {process.pid} {others[0]}")


@pytest.mark.slow
def test_serves_until_sigterm_then_exits_zero(pg_database_url: str, tmp_path: Path) -> None:
    process = _start(_environment(pg_database_url), tmp_path)
    try:
        line = _first_line(process)
        assert line.startswith("gRPC  127.0.0.1:"), line
        address = line.split()[1]
        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="backend.v1.NotesService"), timeout=10
            )
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            # A read through every interceptor and the database, leaving nothing behind.
            with pytest.raises(grpc.RpcError) as caught:
                auth_pb2_grpc.AuthServiceStub(channel).LogIn(
                    auth_pb2.LogInRequest(email="nobody@example.com", password="x"),
                    metadata=(("x-request-id", "entrypoint-1"),),
                    timeout=10,
                )
            assert isinstance(caught.value, grpc.Call)
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
        _sigterm_to_a_grpc_thread(process)
        _, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert (
        "[entrypoint-1] app.api.grpc.access: /backend.v1.AuthService/LogIn UNAUTHENTICATED"
        in stderr
    )
    assert "stopping" in stderr


def test_a_bad_setting_is_named_and_nothing_starts(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, value in _environment(pg_database_url, GRPC_PORT="70000").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        entrypoint.main()
    assert "GRPC_PORT" in str(exited.value.code)
