"""More than one machine's worth, on one: ``invoke scale-out`` (``python -m tools.scale_out``).

What deploy/k8s assumes, tried for real on loopback with the packages Debian ships:

* a scratch database behind PgBouncer in transaction mode (1.18 keeps no prepared statement:
  ``DATABASE_PREPARED_STATEMENTS=false``, and no LISTEN: ``WORKER_LISTEN_NOTIFY=false``);
* two migration runs started at once, as two replicas' Jobs may be (one applies, one waits);
* 2 REST servers behind haproxy (health-checked on ``/readyz``, as a Service's readiness
  probe), 2 gRPC servers the client balances over itself (round robin over both addresses,
  as over a headless Service), 2 workers;
* sign-ups over REST and gRPC for a bounded time while each of the six is stopped (SIGTERM)
  and started again in turn, as a rolling update does.

It prints the requests sent and failed (goal: none failed), the welcome jobs enqueued and how
many ran exactly once (goal: all, none twice), the periodic job's ticks and how many jobs they
deferred (goal: one each, whatever the number of workers), and how many revisions each
migration run applied (goal: all by one, none by the other). Exit status 0 when every goal
is met. It needs ``haproxy`` and ``pgbouncer`` on PATH (Debian: ``apt-get install haproxy
pgbouncer``) and a PostgreSQL as ``invoke bench.serve`` finds one.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "scale-out password 1"  # noqa: S105 - a throwaway account's
#: Seconds any one replica may take to stop, or to answer once started.
REPLICA_TIMEOUT = 60


class ScaleOutError(Exception):
    """A piece could not start: the run cannot say anything."""


def _say(line: str) -> None:
    print(line, flush=True)


def _need(program: str) -> str:
    # Debian installs haproxy and pgbouncer in /usr/sbin, which a user's PATH may lack.
    found = shutil.which(program, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is None:
        raise ScaleOutError(f"{program} is not installed (Debian: apt-get install {program})")
    return found


# -- processes --------------------------------------------------------------------------------
@dataclass
class Program:
    """One replica: ``python -m module`` with its environment, stopped and started at will."""

    name: str
    module: str
    env: dict[str, str]
    logs: Path
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.logs / f"{self.name}.{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            _wait(
                self.ready,
                f"{self.name} to answer",
                lambda: self.process is not None and self.process.poll() is None,
            )
        except ScaleOutError as exc:
            said = (self.logs / f"{self.name}.{self.starts}.log").read_text(errors="replace")
            raise ScaleOutError(f"{exc}; its last lines:\n{said[-2000:]}") from exc

    def stop(self) -> int:
        """SIGTERM; its exit status once it exited (a graceful stop is 0)."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=REPLICA_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _wait(check: Callable[[], bool], what: str, alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + REPLICA_TIMEOUT
    while not check():
        if not alive():
            raise ScaleOutError(f"gave up waiting for {what}: it exited")
        if time.monotonic() > deadline:
            raise ScaleOutError(f"gave up waiting for {what} after {REPLICA_TIMEOUT} s")
        time.sleep(0.1)


def _http_ok(port: int, path: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            return connection.getresponse().status == 200
        except OSError:
            return False

    return check


def _grpc_serving(port: int) -> Callable[[], bool]:
    def check() -> bool:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
        except grpc.RpcError:
            return False

    return check


def _log_says(logs: Path, name: str, text_: str) -> Callable[[], bool]:
    def check() -> bool:
        newest = max(logs.glob(f"{name}.*.log"), key=lambda p: p.stat().st_mtime, default=None)
        return newest is not None and text_ in newest.read_text(errors="replace")

    return check


# -- PgBouncer and haproxy ----------------------------------------------------------------------
@contextlib.contextmanager
def pgbouncer(database_url: str, folder: Path) -> Iterator[str]:
    """PgBouncer in transaction mode in front of ``database_url``; the URL through it."""
    from common.ports import free_port

    binary = _need("pgbouncer")
    url = make_url(database_url)
    port = free_port()
    host = url.host or url.query.get("host") or "127.0.0.1"
    upstream = f"host={host} port={url.port or 5432} dbname={url.database} user={url.username}"
    folder.mkdir(mode=0o755)
    (folder / "userlist.txt").write_text(f'"{url.username}" ""\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"{url.database} = {upstream}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        "max_client_conn = 500\ndefault_pool_size = 20\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
        f"pidfile = {folder / 'pgbouncer.pid'}\n"
    )
    command = [binary, str(config)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        user = next((name for name in ("postgres", "nobody") if _user_exists(name)), None)
        if user is None:
            raise ScaleOutError("PgBouncer refuses root, and there is no postgres or nobody user")
        shutil.chown(folder, user)
        for path in folder.iterdir():
            shutil.chown(path, user)
        command = ["runuser", "-u", user, "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    through = url.set(host="127.0.0.1", port=port, query={}).render_as_string(hide_password=False)
    try:
        _wait(lambda: _connects(through), "PgBouncer", lambda: process.poll() is None)
        yield through
    finally:
        process.terminate()
        process.wait(timeout=10)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _connects(url: str) -> bool:
    engine = create_engine(url, poolclass=NullPool, connect_args={"prepare_threshold": None})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def haproxy(backends: Sequence[int], folder: Path) -> Iterator[int]:
    """haproxy on a free port over the REST servers on ``backends``, checking ``/readyz``."""
    from common.ports import free_port

    binary = _need("haproxy")
    port = free_port()
    servers = "".join(
        f"    server rest{index} 127.0.0.1:{backend} check inter 500ms fall 1 rise 2\n"
        for index, backend in enumerate(backends, 1)
    )
    config = folder / "haproxy.cfg"
    config.write_text(
        "global\n    maxconn 1000\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n"
        "    timeout server 30s\n    retries 3\n    option redispatch\n"
        # A request that never reached a server (refused, reset before an answer) goes to
        # the other one: what a Service's endpoints and a client's retry give in a cluster.
        "    retry-on conn-failure empty-response response-timeout\n"
        f"frontend api\n    bind 127.0.0.1:{port}\n    default_backend rest\n"
        "backend rest\n    balance roundrobin\n    option httpchk GET /readyz\n"
        f"{servers}"
    )
    process = subprocess.Popen(
        [binary, "-f", str(config), "-db"],
        stdout=(folder / "haproxy.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait(_http_ok(port, "/readyz"), "haproxy", lambda: process.poll() is None)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- the load ---------------------------------------------------------------------------------
@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    signed_up: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, email: str, error: str | None) -> None:
        with self.lock:
            self.sent += 1
            if error is None:
                self.signed_up.add(email)
            else:
                self.failed += 1
                if len(self.failures) < 10:
                    self.failures.append(error)


def _paced(interval: float, stop: threading.Event) -> Iterator[None]:
    """Once every ``interval`` seconds (or as fast as the calls go) until ``stop``."""
    while not stop.is_set():
        started = time.monotonic()
        yield
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def rest_load(port: int, tally: Tally, stop: threading.Event, interval: float) -> None:
    for _ in _paced(interval, stop):
        email = f"rest-{uuid.uuid4().hex[:12]}@example.com"
        body = json.dumps({"email": email, "password": PASSWORD, "display_name": "S"})
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/v1/users", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            connection.close()
            error = None if response.status == 201 else f"REST {response.status}"
        except OSError as exc:
            error = f"REST {type(exc).__name__}: {exc}"
        tally.record(email, error)


#: What a client of a headless Service configures: every address, round robin, and a retry of
#: a call the server refused before running it (UNAVAILABLE: stopping, or not listening yet).
GRPC_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


def grpc_load(ports: Sequence[int], tally: Tally, stop: threading.Event, interval: float) -> None:
    import grpc

    from app.api.grpc.generated.v1 import users_pb2, users_pb2_grpc

    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
    options = [("grpc.service_config", GRPC_SERVICE_CONFIG), ("grpc.enable_retries", 1)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = users_pb2_grpc.UsersServiceStub(channel)
        for _ in _paced(interval, stop):
            email = f"grpc-{uuid.uuid4().hex[:12]}@example.com"
            request = users_pb2.SignUpRequest(email=email, password=PASSWORD, display_name="S")
            try:
                stub.SignUp(request, timeout=30, wait_for_ready=True)
                error = None
            except grpc.RpcError as exc:
                error = f"gRPC {exc.code().name}: {exc.details()}"
            tally.record(email, error)


# -- the run ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    sent: int
    failed: int
    failures: list[str]
    jobs: int
    failed_jobs: int
    done_once: int
    done_twice_or_more: int
    not_done: int
    ticks: int
    periodic_jobs: int
    applied: list[int]
    revisions: int
    restarts: dict[str, int]

    @property
    def met(self) -> bool:
        return (
            self.failed == 0
            and self.done_once == self.jobs
            and self.failed_jobs == 0
            and self.periodic_jobs == self.ticks > 0
            and sorted(self.applied) == [0, self.revisions]
            and all(status == 0 for status in self.restarts.values())
        )

    def lines(self) -> list[str]:
        return [
            f"requests: {self.sent} sent, {self.failed} failed"
            + (f" ({'; '.join(self.failures)})" if self.failures else ""),
            (
                f"welcome jobs: {self.jobs} enqueued, {self.done_once} done exactly once, "
                f"{self.done_twice_or_more} more than once, {self.not_done} not done; "
                f"{self.failed_jobs} jobs failed"
            ),
            (
                f"periodic job (every 15 s): {self.ticks} ticks run by {self.periodic_jobs} jobs "
                f"(one a tick, whatever the workers)"
            ),
            (
                f"migrations: two runs at once applied {self.applied[0]} and {self.applied[1]} "
                f"of {self.revisions} revisions"
            ),
            "replicas stopped with status: "
            + ", ".join(f"{name} {status}" for name, status in self.restarts.items()),
            "goals: " + ("all met" if self.met else "NOT MET"),
        ]


def migrate_twice(url: str, logs: Path) -> list[int]:
    """Two ``alembic upgrade head`` at once; how many revisions each applied."""
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "test"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            stdout=(logs / f"migrate.{index}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for index in (1, 2)
    ]
    for index, run in enumerate(runs, 1):
        if run.wait(timeout=REPLICA_TIMEOUT) != 0:
            raise ScaleOutError(f"migration run {index} failed: see {logs}/migrate.{index}.log")
    return [
        (logs / f"migrate.{index}.log").read_text().count("Running upgrade") for index in (1, 2)
    ]


def revisions() -> int:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    return len(
        list(ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).walk_revisions())
    )


#: Load threads: REST through haproxy, gRPC over both servers.
REST_THREADS, GRPC_THREADS = 3, 2


def scale_out(database_url: str, work: Path, *, settle: float, rate: float) -> Report:
    from common.ports import free_ports

    logs = work / "logs"
    logs.mkdir()
    with pgbouncer(database_url, work / "pgbouncer") as pooled:
        _say(
            f"PgBouncer (transaction mode) in front of the scratch database: {make_url(pooled).port}"
        )
        applied = migrate_twice(pooled, logs)
        _say(f"migrations: two runs at once applied {applied[0]} and {applied[1]} revisions")
        # Below the outgoing connections' range (common.ports): they restart on them.
        rest_ports, grpc_ports = (
            free_ports([("127.0.0.1", 0)] * 2),
            free_ports([("127.0.0.1", 0)] * 2),
        )
        common = {
            "PATH": os.environ.get("PATH", ""),
            "APP_ENV": "test",
            "DATABASE_URL": pooled,
            "DATABASE_PREPARED_STATEMENTS": "false",
            "WORKER_LISTEN_NOTIFY": "false",
            "WORKER_POLLING_SECONDS": "0.5",
            "LOG_LEVEL": "INFO",
            "MAIL_BACKEND": "outbox",
            "PASSWORD_TIME_COST": "1",
            "PASSWORD_MEMORY_COST_KIB": "8",
            "PASSWORD_PARALLELISM": "1",
            "GRPC_METRICS_PORT": "0",
            "WORKER_METRICS_PORT": "0",
            "PYTHONUNBUFFERED": "1",
        }
        programs = [
            *(
                Program(
                    f"rest{index}",
                    "app.api.rest",
                    {
                        **common,
                        "REST_HOST": "127.0.0.1",
                        "REST_PORT": str(port),
                        "WEB_CONCURRENCY": "1",
                    },
                    logs,
                    _http_ok(port, "/readyz"),
                )
                for index, port in enumerate(rest_ports, 1)
            ),
            *(
                Program(
                    f"grpc{index}",
                    "app.api.grpc",
                    {
                        **common,
                        "GRPC_HOST": "127.0.0.1",
                        "GRPC_PORT": str(port),
                        "GRPC_PROCESSES": "1",
                    },
                    logs,
                    _grpc_serving(port),
                )
                for index, port in enumerate(grpc_ports, 1)
            ),
        ]
        programs += [
            Program(
                f"worker{index}",
                "app.worker",
                common,
                logs,
                _log_says(logs, f"worker{index}", "Starting worker"),
            )
            for index in (1, 2)
        ]
        tally = Tally()
        stop = threading.Event()
        interval = (REST_THREADS + GRPC_THREADS) / rate
        restarts: dict[str, int] = {}
        try:
            for program in programs:
                program.start()
            _say("up: 2 REST behind haproxy, 2 gRPC (client-side round robin), 2 workers")
            with haproxy(rest_ports, work) as port:
                load = [
                    *(
                        threading.Thread(target=rest_load, args=(port, tally, stop, interval))
                        for _ in range(REST_THREADS)
                    ),
                    *(
                        threading.Thread(target=grpc_load, args=(grpc_ports, tally, stop, interval))
                        for _ in range(GRPC_THREADS)
                    ),
                ]
                for thread in load:
                    thread.start()
                started = time.monotonic()
                try:
                    time.sleep(settle)
                    for program in programs:  # a rolling update: one replica at a time
                        restarts[program.name] = program.stop()
                        program.start()
                        _say(
                            f"restarted {program.name} (stopped with {restarts[program.name]}); {tally.sent} requests so far"
                        )
                        time.sleep(settle)
                finally:
                    stop.set()
                    for thread in load:
                        thread.join(timeout=REPLICA_TIMEOUT)
                _say(f"load: {time.monotonic() - started:.0f} s")
            failed_jobs = _wait_for_jobs(pooled)
            counts = _welcome_counts(database_url, tally.signed_up)
            ticks, periodic_jobs = _periodic(logs)
        finally:
            for program in programs:
                program.kill()
    return Report(
        sent=tally.sent,
        failed=tally.failed,
        failures=tally.failures,
        jobs=len(tally.signed_up),
        failed_jobs=failed_jobs,
        done_once=sum(1 for email in tally.signed_up if counts.get(email) == 1),
        done_twice_or_more=sum(1 for email in tally.signed_up if counts.get(email, 0) > 1),
        not_done=sum(1 for email in tally.signed_up if email not in counts),
        ticks=ticks,
        periodic_jobs=periodic_jobs,
        applied=applied,
        revisions=revisions(),
        restarts=restarts,
    )


def _wait_for_jobs(url: str) -> int:
    """Once no welcome job waits or runs (or two minutes passed): how many jobs failed."""
    from app.service.notifications.service import SEND_WELCOME

    engine = create_engine(url, poolclass=NullPool, connect_args={"prepare_threshold": None})
    pending = text(
        "SELECT count(*) FROM procrastinate_jobs "
        "WHERE task_name = :task AND status IN ('todo', 'doing')"
    )
    try:
        deadline = time.monotonic() + 2 * REPLICA_TIMEOUT
        with engine.connect() as connection:
            while connection.scalar(pending, {"task": SEND_WELCOME.name}):
                connection.rollback()
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            failed = connection.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'failed'")
            )
        return int(failed or 0)
    finally:
        engine.dispose()


def _welcome_counts(url: str, emails: set[str]) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT recipient, count(*) FROM mail_outbox GROUP BY recipient")
            )
            return {recipient: count for recipient, count in rows if recipient in emails}
    finally:
        engine.dispose()


def _periodic(logs: Path) -> tuple[int, int]:
    """The every-15-seconds task's ticks the workers ran, and the jobs they ran for them."""
    from app.worker.tasks import RETRY_STALLED_JOBS

    started = re.compile(
        rf"Starting job {re.escape(RETRY_STALLED_JOBS)}\[(\d+)\]\(timestamp=(\d+)\)"
    )
    runs = {
        match.groups()
        for path in logs.glob("worker*.log")
        for match in started.finditer(path.read_text(errors="replace"))
    }
    return len({timestamp for _job, timestamp in runs}), len({job for job, _ in runs})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scale_out", description=__doc__)
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds of load before and after each restart"
    )
    parser.add_argument(
        "--rate", type=float, default=40.0, help="sign-ups a second at most (default 40)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs and print where")
    args = parser.parse_args(argv)
    from bench.serve import bench_database

    work = Path(tempfile.mkdtemp(prefix="scale-out-"))
    work.chmod(0o755)
    started = time.monotonic()
    try:
        with bench_database(scratch_only=True) as (url, description, _scratch):
            _say(f"database: {description}")
            report = scale_out(url, work, settle=args.settle, rate=args.rate)
    except ScaleOutError as exc:
        _say(f"error: {exc}")
        return 1
    finally:
        if args.keep:
            _say(f"logs: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for line in report.lines():
        _say(line)
    _say(f"({time.monotonic() - started:.0f} s in all)")
    return 0 if report.met else 1


if __name__ == "__main__":
    sys.exit(main())
