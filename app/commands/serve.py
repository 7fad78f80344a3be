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
``--stop-timeout`` seconds later (a second Ctrl-C does not wait), then exit status 0. A
local database keeps running for the next start; ``invoke db.stop`` stops it.

With ``--reload`` (the default when ``APP_ENV`` is local) a change to a ``.py`` file of
``app`` or ``common`` restarts every child, and a child that exits is started again after
the next change. Restarting the processes, rather than gunicorn's own ``--reload``, is what
picks up changes to the service layer: gunicorn's master imports the app (``app.bootstrap``
and the services below it) before it forks its workers, so a reloaded worker would run the
old code. Without ``--reload`` a child that exits stops the others, with exit status 1.

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
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import NoReturn, TextIO

from app import config
from common import localdb
from common.config import ConfigurationError, Environment
from common.ports import free_port, free_ports

__all__ = [
    "Child",
    "Program",
    "ServeError",
    "SourceWatcher",
    "Supervisor",
    "grpc_answers",
    "main",
    "rest_answers",
    "running_in_group",
    "supervise_with_reload",
    "wait_until_answering",
]

#: Seconds between two looks at the children and their health endpoints.
POLL_SECONDS = 0.1
#: Seconds between two looks at the source files (with --reload).
WATCH_SECONDS = 0.25
#: Seconds to wait, once a child is reaped, for the rest of its session to have exited.
SESSION_END_SECONDS = 5.0
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class ServeError(RuntimeError):
    """The service could not be brought up; the message says why."""


class Interrupted(BaseException):
    """A stop signal arrived (raised in the main thread by the signal handler)."""


@dataclass(frozen=True)
class Program:
    """A child to run: its name, its command line, and how to tell that it answers."""

    name: str
    argv: tuple[str, ...]
    answers: Callable[[], bool] | None = None


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
        """Run ``argv`` to its end as a child (so a stop signal stops it too).

        Waits in short sleeps, as :meth:`watch` does: a stop signal the kernel hands to a relay
        thread is handled by the main thread only once that thread wakes.
        """
        child = self.spawn(name, argv)
        while (status := child.process.poll()) is None:
            time.sleep(POLL_SECONDS)
        child.relay.join()
        self.children.remove(child)
        return status

    def exited(self) -> Child | None:
        """A child that has exited, if any."""
        return next((child for child in self.children if not child.running()), None)

    def start_all(self, programs: Sequence[Program], timeout: float) -> None:
        """Spawn every program, then wait until each answers (see :func:`wait_until_answering`)."""
        for program in programs:
            self.spawn(program.name, program.argv)
        checks = {program.name: program.answers for program in programs if program.answers}
        wait_until_answering(self, checks, timeout)

    def watch(self) -> Child:
        """Wait until a child exits; return it."""
        while (child := self.exited()) is None:
            time.sleep(POLL_SECONDS)
        return child

    def hurry(self) -> None:
        """From now on, :meth:`stop` kills at once (a second Ctrl-C)."""
        self._hurry.set()

    def stop(self, timeout: float) -> None:
        """SIGTERM to every child, SIGKILL to those still running after ``timeout`` seconds.

        Whatever a child left in its session (gunicorn's workers, should its master die
        first) is killed too.
        """
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
            if not _session_ended(child.process.pid, SESSION_END_SECONDS):
                self.say(f"{child.name} left processes in its process group {child.process.pid}")
            child.relay.join(timeout=5)
            if child in running:
                self.say(f"{child.name} stopped (exit status {status})")
        self.children.clear()


def _kill_session(pid: int) -> None:
    """SIGKILL whatever still runs in the process group ``pid`` leads."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _session_ended(pid: int, timeout: float) -> bool:
    """Whether nothing runs any more in the (reaped) leader ``pid``'s group, within ``timeout`` s.

    What its leader left behind (a worker it had not reaped, say) was handed to init; once
    killed it is a zombie until init reaps it, which may be a second later: dead already, so
    it does not count.
    """
    deadline = time.monotonic() + timeout
    while running_in_group(pid):
        if time.monotonic() >= deadline:
            return False
        _kill_session(pid)
        time.sleep(0.01)
    return True


def running_in_group(pgid: int) -> list[int]:
    """The processes of group ``pgid`` that have not exited (zombies left out, where known).

    On Linux, from ``/proc``; elsewhere ``[pgid]`` while the group has any process at all.
    """
    proc = Path("/proc")
    if not (proc / "self" / "stat").is_file():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):  # none left, or another user's group now
            return []
        return [pgid]
    running = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # it exited while we looked
            continue
        # After the command: state, parent, process group (proc(5)).
        if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            running.append(int(stat.parent.name))
    return running


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


# -- what the servers need -----------------------------------------------------------------------
def _ports(wanted: Sequence[tuple[str, int, str]]) -> list[int]:
    """For each ``(host, port, option)``: the port, checked free; a free one for port 0."""
    for index, (host, port, option) in enumerate(wanted):
        if port and port in [earlier for _host, earlier, _option in wanted[:index]]:
            raise ServeError(f"port {port} is asked for twice: change {option}")
        try:
            free_port(host, port)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {host} port {port} ({exc.strerror}): is another "
                f"server running there? Choose another port with {option}"
            ) from exc
    return free_ports([(host, port) for host, port, _option in wanted])  # two 0s differ


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


class SourceWatcher:
    """Notices changes to the ``.py`` files under some directories (by modification time)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(roots)
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[Path, int]:
        found: dict[Path, int] = {}
        for root in self.roots:
            for path in root.rglob("*.py"):
                with contextlib.suppress(OSError):  # removed while we looked
                    found[path] = path.stat().st_mtime_ns
        return found

    def changed(self) -> list[Path]:
        """Files added, changed or removed since the last call (or since creation)."""
        now = self._snapshot()
        changes = sorted(
            path for path in now.keys() | self._seen.keys() if now.get(path) != self._seen.get(path)
        )
        self._seen = now
        return changes


def supervise_with_reload(
    supervisor: Supervisor,
    programs: Sequence[Program],
    watcher: SourceWatcher,
    *,
    ready_timeout: float,
    stop_timeout: float,
) -> NoReturn:
    """Restart every program after each change to the watched files; end only by a signal."""
    reported: set[int] = set()
    while True:
        time.sleep(WATCH_SECONDS)
        for child in supervisor.children:
            if not child.running() and child.process.pid not in reported:
                reported.add(child.process.pid)
                supervisor.say(
                    f"{child.name} exited with status {child.process.returncode}; "
                    "it starts again after the next change"
                )
        changes = watcher.changed()
        if not changes:
            continue
        time.sleep(WATCH_SECONDS)  # an editor saving several files: one restart for all
        changes += watcher.changed()
        supervisor.say(f"{_describe(changes)} changed: restarting")
        supervisor.stop(stop_timeout)
        try:
            supervisor.start_all(programs, ready_timeout)
        except ServeError as exc:
            supervisor.say(f"{exc}; waiting for the next change")
        else:
            supervisor.say("restarted: " + ", ".join(program.name for program in programs))


def _describe(paths: Sequence[Path]) -> str:
    shown = [_relative(path) for path in dict.fromkeys(paths)]
    return ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")


def _relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _source_roots() -> list[Path]:
    """The directories of the ``app`` and ``common`` packages."""
    import app
    import common

    return [Path(package.__file__).parent for package in (app, common) if package.__file__]


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
    parser.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        help="restart the children when code changes (default: when APP_ENV is local)",
    )
    parser.add_argument(
        "--watch",
        type=Path,
        action="append",
        help="a directory whose .py files --reload watches (default: app's and common's)",
    )
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
        for signum in _STOP_SIGNALS:
            signal.signal(signum, lambda signum, frame: supervisor.hurry())
        supervisor.stop(args.stop_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _serve(args: argparse.Namespace, supervisor: Supervisor) -> Child:
    """Bring everything up and print the addresses; then supervise.

    Returns the first child that exits (without reload); with reload only a signal ends it.
    """
    try:
        database = localdb.ensure(args.data_dir)
        settings = config.load(database_url=database.url)
    except (localdb.LocalDatabaseError, ConfigurationError) as exc:
        raise ServeError(str(exc)) from exc
    supervisor.say(f"database: {database.description}")
    if database.source is not localdb.Source.CONFIGURED:
        supervisor.say("the local database keeps running after this; `invoke db.stop` stops it")
    rest_port, grpc_port = _ports(
        [
            (settings.rest_host, _first(args.rest_port, settings.rest_port), "--rest-port"),
            (settings.grpc_host, _first(args.grpc_port, settings.grpc_port), "--grpc-port"),
        ]
    )
    supervisor.env.update(
        DATABASE_URL=database.url,
        REST_PORT=str(rest_port),
        GRPC_PORT=str(grpc_port),
        PYTHONUNBUFFERED="1",
    )
    reload = args.reload if args.reload is not None else settings.app_env is Environment.LOCAL
    # Watch from before the migrations, so an edit made while starting counts too.
    watcher = SourceWatcher(args.watch or _source_roots()) if reload else None

    if not args.alembic_config.is_file():
        raise ServeError(
            f"no {args.alembic_config}: run from the project root or pass --alembic-config"
        )
    migrate = [sys.executable, "-m", "alembic", "-c", str(args.alembic_config), "upgrade", "head"]
    if supervisor.run("migrate", migrate) != 0:
        raise ServeError("the migrations failed (see above)")

    rest_url = f"http://{_loopback(settings.rest_host)}:{rest_port}"
    grpc_address = f"{_loopback(settings.grpc_host)}:{grpc_port}"
    programs = [
        Program("rest", _python("app.api.rest"), lambda: rest_answers(rest_url)),
        Program("grpc", _python("app.api.grpc"), lambda: grpc_answers(grpc_address)),
    ]
    if not args.no_worker and _has_module("app.worker"):
        programs.append(Program("worker", _python("app.worker")))
    supervisor.start_all(programs, args.ready_timeout)
    lines = [f"REST  {rest_url}", f"gRPC  {grpc_address}"]
    if len(programs) == 3:
        lines.append("worker running")
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()
    if watcher is None:
        return supervisor.watch()
    supervisor.say(f"restarting on changes to the .py files under {_describe(watcher.roots)}")
    supervise_with_reload(
        supervisor,
        programs,
        watcher,
        ready_timeout=args.ready_timeout,
        stop_timeout=args.stop_timeout,
    )


def _python(module: str) -> tuple[str, ...]:
    return (sys.executable, "-m", module)


def _first(option: int | None, setting: int) -> int:
    return setting if option is None else option


if __name__ == "__main__":
    sys.exit(main())
