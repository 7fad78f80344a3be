"""``python -m app.api.grpc``: serve the gRPC API, configured only by the environment.

``GRPC_HOST``, ``GRPC_PORT`` (0 picks a free port), ``GRPC_MAX_WORKERS``, ``GRPC_PROCESSES``,
``GRPC_GRACE_SECONDS`` and everything else :mod:`app.config` reads (see ``.env.example``).
Prints ``gRPC  HOST:PORT`` once it listens. On SIGTERM or SIGINT the health service turns
NOT_SERVING, the server stops taking RPCs and gives in-flight ones ``GRPC_GRACE_SECONDS`` to
finish, the shutdown hooks run, and the process exits 0.

With ``GRPC_PROCESSES`` above 1 (on Linux) this process only supervises: it checks the port
is free (taking a free one for port 0), forks that many servers sharing it (the kernel
spreads connections over them), prints the line once they all listen, passes SIGTERM and
SIGINT on and exits 0 once they have all stopped. If one of them exits on its own, it stops
the others and exits 1. Python runs one process on about one core whatever its threads, so
this is how the gRPC server uses more than one, as uvicorn's workers do for REST.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import NoReturn

from app import bootstrap, config
from app.api.grpc.health import ReadinessHealthServicer
from app.api.grpc.server import create_grpc_server, grpc_address
from app.config import Settings
from common import metrics
from common.config import ConfigurationError
from common.lifecycle import StopSignals, settle_for_serving
from common.logs import configure_logging
from common.ports import free_port

logger = logging.getLogger("app.api.grpc")

#: Where the kernel spreads the connections of one port over the processes bound to it.
_SHARES_PORTS = sys.platform == "linux"
#: Seconds the supervisor gives a server beyond its grace period to stop before killing it.
_STOP_MARGIN = 10.0
#: Seconds between the supervisor's looks at whether a server exited.
_REAP_SECONDS = 0.1


def main() -> int:
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
    # Here already, for what the supervisor says (it never builds a runtime, which would).
    configure_logging(settings.log_level, json_lines=settings.structured_logs)
    stopping = StopSignals()
    stopping.install()

    if settings.metrics_enabled:
        metrics.prepare_directory()  # before a server process counts anything
    if settings.grpc_processes == 1 or not _SHARES_PORTS:
        _serve_metrics(settings)
        return _serve(settings, stopping, announce=_print)
    return _supervise(settings, stopping)


def _serve_metrics(settings: Settings) -> None:
    """The metrics of every server process, summed, on ``GRPC_METRICS_PORT`` (a thread)."""
    if settings.metrics_enabled:
        metrics.serve_at_start(
            settings.metrics_host, settings.grpc_metrics_port, "GRPC_METRICS_PORT"
        )


def _print(line: str) -> None:
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def _serve(
    settings: Settings,
    stopping: StopSignals,
    *,
    announce: Callable[[str], None],
    share_port: bool = False,
) -> int:
    runtime = bootstrap.bootstrap(settings)
    health_servicer = ReadinessHealthServicer(runtime.database.ping)
    server = create_grpc_server(
        settings, health_servicer=health_servicer, share_port=share_port, runtime=runtime
    )
    port = server.add_insecure_port(grpc_address(settings.grpc_host, settings.grpc_port))
    settle_for_serving(settings.gc_freeze_after_startup)
    server.start()
    address = grpc_address(settings.grpc_host, port)
    announce(f"gRPC  {address}")
    logger.info("serving gRPC on %s", address)

    stopping.wait()
    logger.info("stopping: finishing in-flight RPCs (%ss at most)", settings.grpc_grace_seconds)
    health_servicer.enter_graceful_shutdown()
    server.stop(settings.grpc_grace_seconds).wait()
    bootstrap.shutdown()
    return 0


def _supervise(settings: Settings, stopping: StopSignals) -> int:
    """Fork the servers (nothing of gRPC exists yet here), wait for a signal, stop them."""
    try:
        # Checked as the servers bind it, so a port whose last connections linger in
        # TIME_WAIT is free; a server still listening there (ours or anyone's) is not.
        port = free_port(settings.grpc_host, settings.grpc_port)
    except OSError as exc:
        sys.exit(f"cannot listen on {settings.grpc_host} port {settings.grpc_port}: {exc}")
    shared = settings.model_copy(update={"grpc_port": port})
    servers: dict[int, int | None] = {}  # pid: exit status once it exited
    ready: list[int] = []  # the read ends of the servers' pipes
    try:
        for _ in range(settings.grpc_processes):
            reader, writer = os.pipe()
            pid = os.fork()
            if pid == 0:  # the server
                for inherited in (*ready, reader):
                    os.close(inherited)
                _exit_as(_served(shared, stopping, writer))
            os.close(writer)
            servers[pid] = None
            ready.append(reader)
        _serve_metrics(settings)  # here, after the forks: no server inherits its socket
        # Each server writes one line once it listens; an empty read: it died first.
        if all(_read_line(reader) for reader in ready) and not stopping.is_set():
            _print(f"gRPC  {grpc_address(settings.grpc_host, port)}")
            while not stopping.wait(_REAP_SECONDS):
                if _reap(servers):
                    logger.error("a gRPC server process exited; stopping the others")
                    break
    finally:
        for reader in ready:
            os.close(reader)
        _stop(servers, settings.grpc_grace_seconds + _STOP_MARGIN)
    return 0 if stopping.is_set() and all(status == 0 for status in servers.values()) else 1


def _served(settings: Settings, stopping: StopSignals, ready: int) -> int:
    def announce(line: str) -> None:
        os.write(ready, f"{line}\n".encode())
        os.close(ready)

    try:
        return _serve(settings, stopping, announce=announce, share_port=True)
    except BaseException:
        logger.exception("the gRPC server process failed")
        return 1


def _exit_as(status: int) -> NoReturn:
    logging.shutdown()
    os._exit(status)


def _read_line(fd: int) -> bytes:
    with os.fdopen(os.dup(fd), "rb", buffering=0) as pipe:
        return pipe.readline()


def _reap(servers: dict[int, int | None]) -> bool:
    """Record the exit status of servers that exited; whether any had."""
    exited = False
    for pid, status in servers.items():
        if status is None:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                servers[pid] = os.waitstatus_to_exitcode(wait_status)
                metrics.forget_process(pid)
                exited = True
    return exited


def _running(servers: dict[int, int | None]) -> list[int]:
    _reap(servers)
    return [pid for pid, status in servers.items() if status is None]


def _signal(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _stop(servers: dict[int, int | None], timeout: float) -> None:
    """SIGTERM to the servers still running; SIGKILL to those still running ``timeout`` later."""
    _signal(_running(servers), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while (running := _running(servers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    _signal(running, signal.SIGKILL)
    while _running(servers):
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
