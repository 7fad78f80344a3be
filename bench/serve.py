"""How fast the real servers answer: ``invoke bench.serve``.

Starts the REST server (``python -m app.api.rest``) and the gRPC server
(``python -m app.api.grpc``) as they are configured, on a database with one user, their
bearer token and one note; then, round after round, loads from other processes on loopback
for a bounded time:

* ``psycopg floor``: the note's primary-key query in a loop on one connection (prepared,
  autocommit), in this process: what the database and driver alone cost;
* ``REST GET /healthz``: no database, no token;
* ``REST GET /v1/notes/{id}``: with the bearer token, so a token lookup and the note's;
* ``gRPC GetNote``: the same through the interceptors.

``--versus NAME=VALUE`` starts a second pair of servers with that setting changed (say
``DATABASE_FAST_PATH=true``; several, comma-separated, change together) and measures both
pairs in every round, in alternating order, so the two are compared side by side under the
same conditions; the report adds each scenario's ratio of the second to the first. A value
may name ``{otlp_sink}``: the URL of an OTLP/HTTP receiver the bench runs, which takes the
spans and drops them, so that tracing is measured with its exporter at work.

REST is loaded by wrk when it is on ``PATH``, else by :mod:`bench.load`'s Python client;
gRPC always by :mod:`bench.load`. Each figure printed is the median over the rounds, with
each API's throughput as a fraction of the floor's, and the targets it is held to.

The database: ``DATABASE_URL`` (environment or ``.env``) when set, migrated, the bench's
user deleted at the end; otherwise a scratch database, created and dropped, on the server
of ``TEST_DATABASE_URL`` or else on the project's local PostgreSQL (``common.localdb``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.load import Window, run_wrk
from bench.record import printed, record
from bench.stats import Run, Target, median_run, ratio

ROOT = Path(__file__).resolve().parent.parent

#: The issue's targets on a 2-core machine shared by the load, the servers and the database.
REST_NOTE_TARGET = Target(per_second=2_000, p99_ms=40)
GRPC_NOTE_TARGET = Target(per_second=1_500, p99_ms=40)
#: The query the note endpoints run, as SQLAlchemy renders it (less the table prefixes).
NOTE_QUERY = (
    "SELECT id, owner_id, title, body, created_at, updated_at FROM notes "
    "WHERE id = %s AND owner_id = %s"
)
FLOOR = "psycopg floor (1 connection)"
HEALTHZ = "REST GET /healthz"
REST_NOTE = "REST GET /v1/notes/{id}"
GRPC_NOTE = "gRPC GetNote"
#: The scenarios by the names ``--only`` takes.
SHORT_NAMES = {FLOOR: "floor", HEALTHZ: "healthz", REST_NOTE: "rest", GRPC_NOTE: "grpc"}
#: Seconds a server has to answer after it was started.
READY_TIMEOUT = 60.0


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


@dataclass(frozen=True)
class Seed:
    user_id: str
    token: str
    note_id: str


@dataclass(frozen=True)
class Servers:
    rest_url: str
    grpc_target: str
    description: str


# -- the database ----------------------------------------------------------------------------------
@contextlib.contextmanager
def bench_database(*, scratch_only: bool = False) -> Iterator[tuple[str, str, bool]]:
    """``(url, description, scratch)``: the configured database, or a scratch one dropped after.

    The scratch database goes on the server of ``TEST_DATABASE_URL``, else on the development
    database's (``common.localdb``: its own PostgreSQL under ``.data/`` unless configured).
    ``scratch_only``: a scratch database even where ``DATABASE_URL`` names one (on its server).
    """
    from common import localdb, postgres

    configured = localdb.configured_url()
    if configured and not scratch_only:
        yield configured, "DATABASE_URL", False
        return

    def development() -> postgres.Server:
        try:
            resolved = localdb.ensure(ROOT / ".data")
        except localdb.LocalDatabaseError as exc:
            raise postgres.Unusable(str(exc)) from exc
        return postgres.Server(resolved.url, str(resolved.source), resolved.description)

    def for_tests() -> postgres.Server:
        url = os.environ.get("TEST_DATABASE_URL", "").strip()
        if not url:
            raise postgres.Unusable("TEST_DATABASE_URL is not set")
        return postgres.from_url(url, "the server of TEST_DATABASE_URL")

    try:
        server, _skipped = postgres.first(
            [("TEST_DATABASE_URL", for_tests), ("the development database", development)]
        )
    except postgres.NoServer as exc:
        raise BenchError(str(exc)) from exc
    name = f"bench_serve_{os.getpid()}"
    postgres.create_database(server.admin_url, name)
    try:
        yield (
            postgres.with_database(server.admin_url, name),
            f"scratch database {name} on {server.description}",
            True,
        )
    finally:
        postgres.drop_database(server.admin_url, name)


def migrate_and_seed(url: str) -> Seed:
    """Migrate ``url`` and add the bench's user, token and note through the service layer."""
    from app import bootstrap, config
    from common.testing import alembic_upgrade

    alembic_upgrade(url, ROOT / "alembic.ini")
    # Cheap password hashing: sign-up and log-in are not what is measured.
    settings = config.load(
        database_url=url,
        password_time_cost=1,
        password_memory_cost_kib=8,
        password_parallelism=1,
        log_level="WARNING",
    )
    runtime = bootstrap.bootstrap(settings)
    try:
        password = uuid.uuid4().hex
        with runtime.services_scope() as services:
            user = services.users.register(
                email=f"bench-{uuid.uuid4().hex[:12]}@example.com",
                display_name="Bench",
                password=password,
            )
            issued = services.auth.login(email=user.email, password=password)
            note = services.notes.create(user.id, title="Bench note", body="x" * 200)
        return Seed(str(user.id), issued.token, str(note.id))
    finally:
        bootstrap.shutdown()


def delete_seed(url: str, seed: Seed) -> None:
    """Remove the bench's user (with their note and token) from a database that stays."""
    from app import bootstrap, config

    runtime = bootstrap.bootstrap(config.load(database_url=url, log_level="WARNING"))
    try:
        with runtime.services_scope() as services:
            services.users.delete(seed.user_id)
    finally:
        bootstrap.shutdown()


# -- the servers -----------------------------------------------------------------------------------
def _spawn(command: Sequence[str], env: dict[str, str], log: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_servers(database_url: str, overrides: dict[str, str], logs: Path) -> Iterator[Servers]:
    """Start REST and gRPC on loopback, wait until both answer; stop them afterwards."""
    from app.commands.serve import grpc_answers, rest_answers

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REST_HOST": "127.0.0.1",
        "REST_PORT": "0",
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": "0",
        "GRPC_METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }
    rest_log, grpc_log = logs / "rest.log", logs / "grpc.log"
    with contextlib.ExitStack() as stack:
        rest = _spawn(
            [sys.executable, "-m", "app.api.rest"], env, stack.enter_context(rest_log.open("w"))
        )
        stack.callback(_stop, rest)
        grpc = _spawn(
            [sys.executable, "-m", "app.api.grpc"], env, stack.enter_context(grpc_log.open("w"))
        )
        stack.callback(_stop, grpc)

        # "gRPC  HOST:PORT" and "REST  http://HOST:PORT" once they listen (stdout is a pipe).
        line = grpc.stdout.readline().split() if grpc.stdout else []
        if len(line) != 2 or not grpc_answers(line[1]):
            raise BenchError(f"the gRPC server did not start:\n{_tail(grpc_log)}")
        listening = rest.stdout.readline().split() if rest.stdout else []
        if len(listening) != 2:
            raise BenchError(f"the REST server did not start:\n{_tail(rest_log)}")
        rest_url = listening[1]
        deadline = time.monotonic() + READY_TIMEOUT
        while not rest_answers(rest_url):
            if rest.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"the REST server did not start:\n{_tail(rest_log)}")
            time.sleep(0.1)
        yield Servers(rest_url, line[1], _describe_servers(env))


def _describe_servers(env: dict[str, str]) -> str:
    from app import config

    settings = config.load(database_url=env["DATABASE_URL"], **_settings_overrides(env))
    threads = settings.rest_threads
    kind = "in the event loop" if threads == 1 else f"in {threads} threads"
    return (
        f"REST uvicorn {settings.web_concurrency} workers, answering {kind}; "
        f"gRPC {settings.grpc_processes} processes x {settings.grpc_max_workers} threads; "
        f"up to {2 * settings.database_pool_size} connections per process; "
        f"log level {settings.log_level}; metrics {'on' if settings.metrics_enabled else 'off'}; "
        f"{_traces(env)}"
    )


def _traces(env: dict[str, str]) -> str:
    from common.telemetry import requested_exporters

    exporters = requested_exporters(env)
    if not exporters:
        return "traces off"
    exporter = ",".join(exporters)
    sampler = env.get("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    argument = env.get("OTEL_TRACES_SAMPLER_ARG")
    return f"traces to {exporter}, sampler {sampler}" + (f" {argument}" if argument else "")


def _settings_overrides(env: dict[str, str]) -> dict[str, str]:
    from app.config import Settings

    return {
        name: env[name.upper()]
        for name in Settings.model_fields
        if name.upper() in env and name != "database_url"
    }


def check_answers(servers: Servers, seed: Seed) -> None:
    """One request of each kind, so the load is not a flood of refusals."""
    import urllib.request

    import grpc

    from app.api.grpc.generated.v1 import notes_pb2, notes_pb2_grpc

    request = urllib.request.Request(  # noqa: S310 - an http URL built here
        f"{servers.rest_url}/v1/notes/{seed.note_id}",
        headers={"Authorization": f"Bearer {seed.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the same URL
        if json.loads(response.read())["id"] != seed.note_id:
            raise BenchError("REST answered with another note")
    with grpc.insecure_channel(servers.grpc_target) as channel:
        reply = notes_pb2_grpc.NotesServiceStub(channel).GetNote(
            notes_pb2.GetNoteRequest(note_id=seed.note_id),
            metadata=(("authorization", f"Bearer {seed.token}"),),
            timeout=10,
        )
    if reply.note.id != seed.note_id:
        raise BenchError("gRPC answered with another note")


# -- the load --------------------------------------------------------------------------------------
def floor_run(url: str, seed: Seed, *, warmup: float, duration: float) -> Run:
    """The note's query in a loop on one prepared, autocommit psycopg connection."""
    import psycopg

    params = (uuid.UUID(seed.note_id), uuid.UUID(seed.user_id))
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.autocommit = True
        cursor = connection.cursor()

        def query() -> bool:
            cursor.execute(NOTE_QUERY, params, prepare=True)
            return cursor.fetchone() is not None

        window = Window.after(warmup, duration)
        window.loop(query)
    return Run.of(window.latencies_ms, duration, errors=window.errors)


def python_load(
    kind_args: Sequence[str], *, connections: int, processes: int, warmup: float, duration: float
) -> Run:
    """Run ``python -m bench.load`` in ``processes`` processes sharing ``connections``."""
    shares = [
        connections // processes + (1 if index < connections % processes else 0)
        for index in range(processes)
    ]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.load",
                "--threads",
                str(share),
                "--warmup",
                str(warmup),
                "--duration",
                str(duration),
                *kind_args,
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
        if share > 0
    ]
    try:
        for child in children:
            if child.stdout is None or child.stdout.readline().strip() != "ready":
                raise BenchError("a load process failed to start (see above)")
        for child in children:
            if child.stdin is not None:
                child.stdin.write("go\n")
                child.stdin.flush()
        latencies: list[float] = []
        errors = 0
        for child in children:
            output, _ = child.communicate(timeout=warmup + duration + 60)
            result = json.loads(output)
            latencies += result["latencies_ms"]
            errors += result["errors"]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return Run.of(latencies, duration, errors=errors)


@dataclass(frozen=True)
class Options:
    connections: int
    duration: float
    warmup: float
    rounds: int
    client_processes: int
    grpc_processes: int
    grpc_channels: int
    wrk: str | None
    only: frozenset[str] = frozenset(SHORT_NAMES.values())


def scenarios(
    options: Options, database_url: str, servers: Servers, seed: Seed, *, floor: bool = True
) -> dict[str, Callable[[], Run]]:
    """What each round measures, in order (the floor, which needs no server, when asked)."""
    port = servers.rest_url.rsplit(":", 1)[1]
    auth = f"Authorization: Bearer {seed.token}"
    timing = {"warmup": options.warmup, "duration": options.duration}

    def rest(path: str, headers: Sequence[str]) -> Callable[[], Run]:
        if options.wrk:
            wrk = options.wrk
            url = servers.rest_url + path
            return lambda: run_wrk(
                wrk, url, headers=headers, connections=options.connections, **timing
            )
        args = ["rest", "--port", port, "--path", path]
        for header in headers:
            args += ["--header", header]
        return lambda: python_load(
            args,
            connections=options.connections,
            processes=options.client_processes,
            **timing,
        )

    grpc_args = [
        "grpc",
        "--target",
        servers.grpc_target,
        f"--note-id={seed.note_id}",
        # In one argument: a token may start with "-".
        f"--token={seed.token}",
        "--channels",
        str(options.grpc_channels),
    ]
    every = {
        FLOOR: lambda: floor_run(database_url, seed, warmup=0.5, duration=options.duration),
        HEALTHZ: rest("/healthz", []),
        REST_NOTE: rest(f"/v1/notes/{seed.note_id}", [auth]),
        GRPC_NOTE: lambda: python_load(
            grpc_args,
            connections=options.connections,
            processes=options.grpc_processes,
            **timing,
        ),
    }
    return {
        name: run
        for name, run in every.items()
        if SHORT_NAMES[name] in options.only and (floor or name != FLOOR)
    }


# -- the report ------------------------------------------------------------------------------------
TARGETS: dict[str, Target] = {REST_NOTE: REST_NOTE_TARGET, GRPC_NOTE: GRPC_NOTE_TARGET}


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def table(results: dict[str, list[Run]]) -> str:
    """The medians, each API's throughput as a fraction of the floor's, and the targets."""
    medians = {name: median_run(runs) for name, runs in results.items()}
    floor = medians[FLOOR].per_second if FLOOR in medians else math.nan
    header = (
        f"{'scenario':<30} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'/floor':>7} "
        f"{'errors':>6}  {'target':<26} result"
    )
    lines = [header, "-" * len(header)]
    for name, run in medians.items():
        target = TARGETS.get(name)
        fraction = ratio(run.per_second, floor)
        share = "" if name == FLOOR or math.isnan(fraction) else f"{fraction:.3f}"
        verdict = "" if target is None else ("met" if target.met_by(run) else "NOT MET")
        lines.append(
            f"{name:<30} {run.per_second:>8,.0f} {_ms(run.p50_ms):>7} {_ms(run.p99_ms):>7} "
            f"{share:>7} {run.errors:>6}  {'' if target is None else str(target):<26} {verdict}".rstrip()
        )
    return "\n".join(lines)


def comparison(first: dict[str, list[Run]], second: dict[str, list[Run]], versus: str) -> str:
    """Each scenario both pairs ran: the second's medians as a multiple of the first's."""
    header = f"{'scenario':<30} {'req/s':>16} {'p99 ms':>16}"
    lines = [f"with {versus} / as configured (medians)", header, "-" * len(header)]
    for name in (name for name in first if name in second):
        a, b = median_run(first[name]), median_run(second[name])
        faster = ratio(b.per_second, a.per_second)
        tail = ratio(b.p99_ms, a.p99_ms)
        lines.append(f"{name:<30} {f'x{faster:.2f}':>16} {f'x{tail:.2f}':>16}")
    return "\n".join(lines)


def _round_line(number: int, results: dict[str, Run], label: str = "") -> str:
    return f"round {number}{label}: " + "; ".join(
        f"{name} {run.per_second:,.0f}/s p99 {_ms(run.p99_ms)} ms" for name, run in results.items()
    )


# -- the command -----------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--connections", type=int, default=32, help="concurrent requests")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before each run")
    parser.add_argument("--rounds", type=int, default=3, help="medians of this many rounds")
    parser.add_argument(
        "--client-processes", type=int, default=2, help="processes of the Python load clients"
    )
    parser.add_argument(
        "--grpc-processes", type=int, default=1, help="processes of the gRPC load client"
    )
    parser.add_argument(
        "--grpc-channels", type=int, default=8, help="gRPC channels (connections) per load process"
    )
    parser.add_argument(
        "--python-client", action="store_true", help="load REST with Python even if wrk exists"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for both servers, e.g. GRPC_MAX_WORKERS=16 (repeatable)",
    )
    parser.add_argument(
        "--versus",
        metavar="NAME=VALUE",
        help="also run servers with these settings changed (comma-separated) and compare, "
        "e.g. DATABASE_FAST_PATH=true",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SHORT_NAMES.values()),
        help="run only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="print where server logs are")
    parser.add_argument(
        "--record", action="store_true", help="also write the report into docs/benchmarks.md"
    )
    return parser


@contextlib.contextmanager
def otlp_sink() -> Iterator[str]:
    """An OTLP/HTTP endpoint on loopback that accepts every export and keeps nothing."""
    import http.server
    import threading

    class Accept(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def settings_of(items: Sequence[str], sink: str) -> dict[str, str]:
    """``NAME=VALUE`` items (a ``{otlp_sink}`` in a value: the sink's URL) as a mapping."""
    settings: dict[str, str] = {}
    for item in items:
        name, _, value = item.partition("=")
        if not name or not value:
            raise BenchError(f"a setting is NAME=VALUE, not {item!r}")
        settings[name.strip()] = value.replace("{otlp_sink}", sink)
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    counts = (args.connections, args.rounds, args.client_processes, args.grpc_processes)
    if min(*counts, args.grpc_channels) < 1:
        sys.exit("--connections, --rounds, the processes and the channels must be at least 1")
    if args.duration <= 0 or args.warmup < 0:
        sys.exit("--duration must be positive and --warmup not negative")
    wrk = None if args.python_client else shutil.which("wrk")
    options = Options(
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        rounds=args.rounds,
        client_processes=args.client_processes,
        grpc_processes=args.grpc_processes,
        grpc_channels=args.grpc_channels,
        wrk=wrk,
        only=frozenset(args.only or SHORT_NAMES.values()),
    )
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        with otlp_sink() as sink, printed() as report:
            overrides = settings_of(args.server_env, sink)
            versus = None if args.versus is None else settings_of(args.versus.split(","), sink)
            code = _bench(options, overrides, logs, args.versus, versus)
        if args.record and code == 0:
            record(
                "bench.serve" + (f" --versus {args.versus}" if args.versus else ""),
                report.getvalue(),
            )
        return code
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep_logs:
            print(f"server logs: {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)


def _bench(
    options: Options,
    overrides: dict[str, str],
    logs: Path,
    versus: str | None,
    versus_settings: dict[str, str] | None,
) -> int:
    started = time.monotonic()
    with bench_database() as (url, description, scratch):
        seed = migrate_and_seed(url)
        try:
            with contextlib.ExitStack() as stack:
                (logs / "first").mkdir()
                servers = stack.enter_context(running_servers(url, overrides, logs / "first"))
                check_answers(servers, seed)
                other: Servers | None = None
                if versus_settings is not None:
                    (logs / "second").mkdir()
                    changed = {**overrides, **versus_settings}
                    other = stack.enter_context(running_servers(url, changed, logs / "second"))
                    check_answers(other, seed)
                load = f"wrk ({options.wrk})" if options.wrk else "Python (bench.load)"
                print(f"database: {description}")
                print(f"servers: {servers.description}")
                if other is not None:
                    print(f"and, with {versus}: {other.description}")
                print(
                    f"load: {options.connections} connections; REST by {load}, gRPC by "
                    f"bench.load (grpc.aio) in {options.grpc_processes} process(es) x "
                    f"{options.grpc_channels} channels; {options.rounds} rounds of "
                    f"{options.warmup:g} s warm-up + {options.duration:g} s; "
                    f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
                )
                runs = scenarios(options, url, servers, seed)
                other_runs = (
                    {} if other is None else scenarios(options, url, other, seed, floor=False)
                )
                first, second = measure_rounds(options, runs, other_runs, f" with {versus}")
        finally:
            if not scratch:
                delete_seed(url, seed)
    print()
    print(table(first))
    if versus is not None:
        print()
        print(f"with {versus}:")
        floor = {FLOOR: first[FLOOR]} if FLOOR in first else {}
        print(table({**floor, **second}))
        print()
        print(comparison(first, second, versus))
    print(f"({time.monotonic() - started:.0f} s in all)")
    return 0


def measure_rounds(
    options: Options,
    runs: dict[str, Callable[[], Run]],
    other_runs: dict[str, Callable[[], Run]],
    other_label: str,
) -> tuple[dict[str, list[Run]], dict[str, list[Run]]]:
    """Every round runs both sets of scenarios, the second first in every other round, so
    neither is always measured on a warmer (or more tired) machine."""
    first: dict[str, list[Run]] = {name: [] for name in runs}
    second: dict[str, list[Run]] = {name: [] for name in other_runs}
    for number in range(1, options.rounds + 1):
        order = [(runs, first, ""), (other_runs, second, other_label)]
        for scenario_runs, results, label in order if number % 2 else order[::-1]:
            if not scenario_runs:
                continue
            this_round = {name: run() for name, run in scenario_runs.items()}
            for name, run in this_round.items():
                results[name].append(run)
            print(_round_line(number, this_round, label), flush=True)
    return first, second


if __name__ == "__main__":
    sys.exit(main())
