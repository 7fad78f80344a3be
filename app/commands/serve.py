"""``python -m app.commands.serve`` (``invoke serve``): the whole service on one machine, for development.

It finds the database (:mod:`common.localdb`: ``DATABASE_URL``, else a PostgreSQL of the
project's own under ``.data/``), migrates it to the latest revision, starts the REST server
(``python -m app.api.rest``), the gRPC server (``python -m app.api.grpc``) and, when the
project has one, the worker (``python -m app.worker``) as child processes, waits until the
servers answer (REST ``/healthz``, the gRPC health service), and prints::

    REST  http://127.0.0.1:8000
    gRPC  127.0.0.1:50051
    worker running

The children's output goes to stderr, each line prefixed with the child's name. Ctrl-C
(SIGINT), SIGTERM or SIGHUP stops them all: SIGTERM to each, SIGKILL to whatever still runs
``--stop-timeout`` seconds later (a second Ctrl-C does not wait), then exit status 0. When a
child exits by itself the others are stopped too and the status is 1. A local database
keeps running for the next start; ``invoke db.stop`` stops it.

The children run in sessions of their own, so a Ctrl-C at the terminal reaches only this
supervisor, which then stops them in order.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TextIO

from app import config
from common import localdb
from common.config import ConfigurationError, Environment

__all__ = ["ServeError", "Supervisor", "main"]

#: Seconds between two looks at the children and their health endpoints.
POLL_SECONDS = 0.1
#: How the REST entry point is told to reload on code changes (in APP_ENV=local).
RELOAD_VARIABLE = "REST_RELOAD"
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class ServeError(RuntimeError):
    """The service could not be brought up; the message says why."""


class Interrupted(BaseException):
    """A stop signal arrived (raised in the main thread by the signal handler)."""


@dataclass
class Child:
    """A process the supervisor started, and the thread relaying its output."""

    name: str
    process: subprocess.Popen[str]
    relay: threading.Thread = field(repr=False)

    def running(self) -> bool:
        return self.process.poll() is None


class Supervisor:
    """Starts child processes, relays their output, and stops them all."""

    def __init__(self, env: Mapping[str, str], log: TextIO) -> None:
        self.env = dict(env)
        self.children: list[Child] = []
        self._log = log
        self._write_lock = threading.Lock()
        self._hurry = threading.Event()

    def say(self, message: str, name: str = "serve") -> None:
        with self._write_lock:
            self._log.write(f"{name:<7}| {message}\n")
            self._log.flush()

    def spawn(self, name: str, argv: Sequence[str]) -> Child:
        """Start ``argv`` in a session of its own, its stdout and stderr relayed to the log."""
        process = subprocess.Popen(  # noqa: S603 - the interpreter running this module
            list(argv),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        relay = threading.Thread(target=self._relay, args=(name, process), daemon=True)
        child = Child(name, process, relay)
        self.children.append(child)
        relay.start()
        self.say(f"{name} started (pid {process.pid}): {' '.join(argv[1:])}")
        return child

    def _relay(self, name: str, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None  # noqa: S101 - spawn always pipes it
        for line in process.stdout:
            self.say(line.rstrip("\n"), name)
        process.stdout.close()

    def run(self, name: str, argv: Sequence[str]) -> int:
        """Run ``argv`` to its end as a child (so a stop signal stops it too)."""
        child = self.spawn(name, argv)
        status = child.process.wait()
        child.relay.join()
        self.children.remove(child)
        return status

    def exited(self) -> Child | None:
        """A child that has exited, if any."""
        return next((child for child in self.children if not child.running()), None)

    def watch(self) -> Child:
        """Wait until a child exits; return it."""
        while (child := self.exited()) is None:
            time.sleep(POLL_SECONDS)
        return child

    def stop(self, timeout: float) -> None:
        """SIGTERM to every child, SIGKILL to those still running after ``timeout`` seconds.

        Another stop signal meanwhile kills at once. Whatever a child left in its session
        (gunicorn's workers, should its master die first) is killed too.
        """
        for signum in _STOP_SIGNALS:
            signal.signal(signum, lambda signum, frame: self._hurry.set())
        running = [child for child in self.children if child.running()]
        for child in running:
            self.say(f"stopping {child.name}")
            child.process.terminate()
        deadline = time.monotonic() + timeout
        for child in running:
            while child.running() and time.monotonic() < deadline and not self._hurry.is_set():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(POLL_SECONDS)
            if child.running():
                self.say(f"{child.name} did not stop in time: killing it")
        for child in self.children:
            _kill_session(child.process.pid)
            status = child.process.wait()
            child.relay.join(timeout=5)
            if child in running:
                self.say(f"{child.name} stopped (exit status {status})")
        self.children.clear()


def _kill_session(pid: int) -> None:
    """SIGKILL whatever still runs in the process group ``pid`` leads."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


# -- what the servers need -----------------------------------------------------------------------
def _port(host: str, requested: int, option: str) -> int:
    """``requested``, checked free on ``host``; a free one when it is 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the servers bind: a port in TIME_WAIT after the last run is free to them.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), requested))
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {host} port {requested} ({exc.strerror}): is another server "
                f"running there? Choose another port with {option}"
            ) from exc
        port: int = sock.getsockname()[1]
        return port


def _loopback(host: str) -> str:
    """Where a client on this machine reaches a server bound to ``host``."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):  # noqa: S104 - a wildcard bind is reached on loopback
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _has_module(name: str) -> bool:
    """Whether ``python -m name`` has something to run."""
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{name}.__main__")
    except ModuleNotFoundError:
        return False
    return spec is not None


def rest_answers(base_url: str) -> bool:
    """Whether ``GET /healthz`` answers 200."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:  # noqa: S310 - an http URL built here
            status: int = response.status
            return status == 200
    except (OSError, http.client.HTTPException):
        return False


def grpc_answers(address: str) -> bool:
    """Whether the gRPC health service says SERVING for the server as a whole."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def wait_until_answering(
    supervisor: Supervisor, checks: Mapping[str, Callable[[], bool]], timeout: float
) -> None:
    """Poll each check until it passes; fail when a child exits or ``timeout`` passes."""
    pending = dict(checks)
    deadline = time.monotonic() + timeout
    while pending:
        if (child := supervisor.exited()) is not None:
            raise ServeError(f"{child.name} exited with status {child.process.returncode}")
        pending = {name: check for name, check in pending.items() if not check()}
        if pending and time.monotonic() > deadline:
            raise ServeError(f"{', '.join(pending)} did not answer within {timeout:g} s")
        if pending:
            time.sleep(POLL_SECONDS)


# -- the command ---------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.commands.serve",
        description="Migrate, then run the REST and gRPC servers (and the worker) until Ctrl-C.",
    )
    parser.add_argument(
        "--rest-port", type=int, help="default: REST_PORT (8000); 0 picks a free port"
    )
    parser.add_argument(
        "--grpc-port", type=int, help="default: GRPC_PORT (50051); 0 picks a free port"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(".data"), help="the local database's home"
    )
    parser.add_argument("--alembic-config", type=Path, default=Path("alembic.ini"))
    parser.add_argument("--no-worker", action="store_true", help="do not start the worker")
    parser.add_argument("--ready-timeout", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--stop-timeout", type=float, default=15, help="seconds (default 15)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    supervisor = Supervisor(os.environ, sys.stderr)
    previous = {signum: signal.signal(signum, _on_stop_signal) for signum in _STOP_SIGNALS}
    try:
        child = _serve(args, supervisor)
        supervisor.say(f"{child.name} exited with status {child.process.returncode}")
        return 1
    except Interrupted:
        return 0
    except ServeError as exc:
        supervisor.say(f"error: {exc}")
        return 1
    finally:
        supervisor.stop(args.stop_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(args: argparse.Namespace, supervisor: Supervisor) -> Child:
    """Bring everything up, print the addresses, and return the first child that exits."""
    try:
        database = localdb.ensure(args.data_dir)
        settings = config.load(database_url=database.url)
    except (localdb.LocalDatabaseError, ConfigurationError) as exc:
        raise ServeError(str(exc)) from exc
    supervisor.say(f"database: {database.description}")
    if database.source is not localdb.Source.CONFIGURED:
        supervisor.say("the local database keeps running after this; `invoke db.stop` stops it")
    rest_port = _port(settings.rest_host, _first(args.rest_port, settings.rest_port), "--rest-port")
    grpc_port = _port(settings.grpc_host, _first(args.grpc_port, settings.grpc_port), "--grpc-port")
    supervisor.env.update(
        DATABASE_URL=database.url,
        REST_PORT=str(rest_port),
        GRPC_PORT=str(grpc_port),
        PYTHONUNBUFFERED="1",
    )
    if settings.app_env is Environment.LOCAL:
        _reload_rest(supervisor)

    if not args.alembic_config.is_file():
        raise ServeError(
            f"no {args.alembic_config}: run from the project root or pass --alembic-config"
        )
    migrate = [sys.executable, "-m", "alembic", "-c", str(args.alembic_config), "upgrade", "head"]
    if supervisor.run("migrate", migrate) != 0:
        raise ServeError("the migrations failed (see above)")

    rest_url = f"http://{_loopback(settings.rest_host)}:{rest_port}"
    grpc_address = f"{_loopback(settings.grpc_host)}:{grpc_port}"
    supervisor.spawn("rest", [sys.executable, "-m", "app.api.rest"])
    supervisor.spawn("grpc", [sys.executable, "-m", "app.api.grpc"])
    worker = None
    if not args.no_worker and _has_module("app.worker"):
        worker = supervisor.spawn("worker", [sys.executable, "-m", "app.worker"])
    wait_until_answering(
        supervisor,
        {"rest": lambda: rest_answers(rest_url), "grpc": lambda: grpc_answers(grpc_address)},
        args.ready_timeout,
    )
    lines = [f"REST  {rest_url}", f"gRPC  {grpc_address}"]
    if worker is not None:
        lines.append("worker running")
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()
    return supervisor.watch()


def _first(option: int | None, setting: int) -> int:
    return setting if option is None else option


def _reload_rest(supervisor: Supervisor) -> None:
    """Ask the REST server to reload on code changes, when it offers that."""
    if RELOAD_VARIABLE.lower() in config.Settings.model_fields:
        supervisor.env.setdefault(RELOAD_VARIABLE, "true")
    else:
        supervisor.say(f"the REST server has no {RELOAD_VARIABLE} setting: no reload on changes")


if __name__ == "__main__":
    sys.exit(main())
