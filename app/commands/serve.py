"""``python -m app.commands.serve`` (``invoke serve``): the whole service on one machine, for development.

It finds the database (:mod:`common.localdb`: ``DATABASE_URL``, else a PostgreSQL of the
project's own under ``.data/``), checks the ports are free, migrates the database to the latest
revision, then runs the REST server, the gRPC server and the worker, waits until the servers
answer (REST ``/healthz``, the gRPC health service) and prints::

    REST  http://127.0.0.1:8000
    gRPC  127.0.0.1:50051

`honcho <https://honcho.readthedocs.io/>`_ runs the three: their output goes to stderr, each
line prefixed with its name; when one exits, or on Ctrl-C (SIGINT) or SIGTERM, it stops them
all (SIGTERM, then SIGKILL five seconds later), each with whatever it left in its session.
Stopped by a signal, this exits 0; without ``--reload``, a program that exits on its own stops
the others, and this exits 1. A local database keeps running for the next start;
``invoke db.stop`` stops it.

With ``--reload`` (the default when ``APP_ENV`` is local) `watchfiles
<https://watchfiles.helpmanual.io/>`_ restarts the three when a ``.py`` file of ``app`` or
``common`` changes, and starts them again after the next change if they stopped. Restarting
the processes, rather than a server's own reloader, is what picks up changes to the service
layer, which every server imports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.util
import os
import shlex
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from honcho.manager import SIGNALS, Manager
from honcho.printer import Message, Printer

from app import config
from common import localdb
from common.config import ConfigurationError, Environment
from common.ports import free_port, free_ports
from common.telemetry import requested_exporters

__all__ = ["ServeError", "grpc_answers", "main", "rest_answers"]

#: Seconds between two looks at whether the servers answer.
POLL_SECONDS = 0.1
#: What honcho exits with once a stop signal stopped the programs.
_STOPPED_BY_SIGNAL = frozenset(signal["rc"] for signal in SIGNALS.values())


class ServeError(RuntimeError):
    """The service could not be brought up; the message says why."""


def _say(message: str) -> None:
    """A line of this command's own, in honcho's format."""
    printer = Printer(sys.stderr, width=7)
    printer.write(Message("line", message + "\n", dt.datetime.now(), "serve", None))  # noqa: DTZ005 - a wall clock for people, as honcho's


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


# -- running them ------------------------------------------------------------------------------
def _python(module: str, *args: str) -> str:
    """A shell command (honcho runs commands through the shell) that becomes the program."""
    return "exec " + shlex.join((sys.executable, "-m", module, *args))


def _run(programs: Mapping[str, str], env: Mapping[str, str]) -> int:
    """Run ``programs`` (name: command) with honcho until they stop; honcho's exit status.

    honcho takes SIGINT and SIGTERM for as long as it runs; they are the caller's again after.
    """
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    manager = Manager(printer=Printer(sys.stderr))
    for name, command in programs.items():
        manager.add_process(name, command, env=dict(env))
    try:
        manager.loop()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return int(manager.returncode or 0)


def _announce(
    checks: Mapping[str, Callable[[], bool]], lines: Sequence[str], timeout: float
) -> None:
    """Print ``lines`` on stdout once every check passes; say so if they do not in time."""
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    while pending:
        pending = {name: check for name, check in pending.items() if not check()}
        if pending and time.monotonic() > deadline:
            _say(f"{', '.join(pending)} did not answer within {timeout:g} s")
            return
        time.sleep(POLL_SECONDS if pending else 0)
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()
    if os.environ.get("WATCHFILES_CHANGES", "[]") != "[]":
        _say("restarted: " + ", ".join(checks))


def serve_group(
    programs: Mapping[str, str],
    env: Mapping[str, str],
    checks: Mapping[str, tuple[str, str]],
    lines: Sequence[str],
    timeout: float,
) -> int:
    """The programs, until they stop, and their addresses once they answer.

    ``checks`` name, for each server, ``rest`` or ``grpc`` and the address to ask. (Run in a
    process of its own under ``--reload``: everything it takes is plain data.)
    """
    kinds = {"rest": rest_answers, "grpc": grpc_answers}
    answering = {
        name: (lambda ask=kinds[kind], at=address: ask(at))
        for name, (kind, address) in checks.items()
    }
    threading.Thread(target=_announce, args=(answering, lines, timeout), daemon=True).start()
    return _run(programs, env)


def _watch_roots() -> list[Path]:
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
        help="restart the programs when code changes (default: when APP_ENV is local)",
    )
    parser.add_argument(
        "--watch",
        type=Path,
        action="append",
        help="a directory whose .py files --reload watches (default: app's and common's)",
    )
    parser.add_argument("--ready-timeout", type=float, default=60, help="seconds (default 60)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _serve(args)
    except ServeError as exc:
        _say(f"error: {exc}")
        return 1


def _serve(args: argparse.Namespace) -> int:
    try:
        database = localdb.ensure(args.data_dir)
        settings = config.load(database_url=database.url)
    except (localdb.LocalDatabaseError, ConfigurationError) as exc:
        raise ServeError(str(exc)) from exc
    _say(f"database: {database.description}")
    if database.source is not localdb.Source.CONFIGURED:
        _say("the local database keeps running after this; `invoke db.stop` stops it")
    rest_port, grpc_port = _ports(
        [
            (settings.rest_host, _first(args.rest_port, settings.rest_port), "--rest-port"),
            (settings.grpc_host, _first(args.grpc_port, settings.grpc_port), "--grpc-port"),
        ]
    )
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "REST_PORT": str(rest_port),
        "GRPC_PORT": str(grpc_port),
        "PYTHONUNBUFFERED": "1",
        # Two checkouts may serve at once: their metrics ports are free ones unless configured.
        **{
            name.upper(): "0"
            for name in ("grpc_metrics_port", "worker_metrics_port")
            if name not in settings.model_fields_set
        },
    }
    if not args.alembic_config.is_file():
        raise ServeError(
            f"no {args.alembic_config}: run from the project root or pass --alembic-config"
        )
    migrate = {"migrate": _python("alembic", "-c", str(args.alembic_config), "upgrade", "head")}
    if _run(migrate, env) != 0:
        raise ServeError("the migrations failed (see above)")

    rest_url = f"http://{_loopback(settings.rest_host)}:{rest_port}"
    grpc_address = f"{_loopback(settings.grpc_host)}:{grpc_port}"
    _say(_telemetry_note(rest_url))
    programs = {"rest": _python("app.api.rest"), "grpc": _python("app.api.grpc")}
    if not args.no_worker and _has_module("app.worker"):
        programs["worker"] = _python("app.worker")
    group = (
        programs,
        env,
        {"rest": ("rest", rest_url), "grpc": ("grpc", grpc_address)},
        [f"REST  {rest_url}", f"gRPC  {grpc_address}"],
        args.ready_timeout,
    )
    reload = args.reload if args.reload is not None else settings.app_env is Environment.LOCAL
    if not reload:
        status = serve_group(*group)
        return 0 if status in _STOPPED_BY_SIGNAL else 1

    import watchfiles

    roots = args.watch or _watch_roots()
    _say("restarting on changes to the .py files under " + ", ".join(map(_shown, roots)))
    watchfiles.run_process(
        *roots,
        target=serve_group,
        args=group,
        watch_filter=watchfiles.PythonFilter(),
        callback=lambda changes: _say(
            ", ".join(sorted({_shown(Path(path)) for _change, path in changes}))
            + " changed: restarting"
        ),
        sigint_timeout=10,
    )
    return 0


def _telemetry_note(rest_url: str) -> str:
    """Where the servers' traces go, or how to see them; where their metrics are."""
    metrics = f"metrics: {rest_url}/metrics (the gRPC server and the worker log their ports)"
    exporters = requested_exporters(os.environ)  # checked already, with the settings
    if exporters:
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        return f"traces: {','.join(exporters)} {endpoint}".rstrip() + f"; {metrics}"
    return (
        "traces: off; `invoke up --observability` starts a collector, Jaeger and Prometheus,"
        " and OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (environment or .env) sends"
        f" the traces there, to see at http://127.0.0.1:16686; {metrics}"
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _first(option: int | None, setting: int) -> int:
    return setting if option is None else option


if __name__ == "__main__":
    sys.exit(main())
