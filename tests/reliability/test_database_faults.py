"""The database stopped, stopped hard and frozen under a write load: bounded answers, nothing lost.

A cluster of the test's own (never the shared server) serves the REST and gRPC servers while a
writer creates notes one after another. The database is then stopped (fast), stopped
immediately (as by a crash) and frozen (every process stopped with SIGSTOP), each for a few
seconds. Throughout, every request is answered, 201 or 503, never anything else, and within
the bound ``DATABASE_TIMEOUT_SECONDS`` sets; ``/readyz`` and the gRPC health service say the
same; once the database is back the very next request succeeds; and every note the API
acknowledged is in the database at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common import postgres
from common.postgres import Binaries, Cluster
from common.testing import alembic_upgrade
from tests.factories import DEFAULT_PASSWORD
from tests.reliability.servers import ROOT, Served, environment

pytestmark = [pytest.mark.slow, pytest.mark.long]

TIMEOUT = 2.0
#: The bound on any answer: the timeout, the cancel's grace (0.5 s), the watchdog's tick, slack.
BOUND = TIMEOUT + 1.0
OUTAGE = 3.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    binaries, _ = postgres.first(
        [(postgres.ON_PATH, Binaries.on_path), (postgres.EMBEDDED, Binaries.embedded)]
    )
    home = Path(tempfile.mkdtemp(prefix="faults-"))
    home.chmod(0o755)  # the embedded server's own user, when root runs the tests
    cluster = Cluster(home / "data", binaries)
    try:
        cluster.start()  # durable: an immediate stop must lose no acknowledged commit
        postgres.create_database(cluster.url(), "app")
        alembic_upgrade(postgres.with_database(cluster.url(), "app"), ROOT / "alembic.ini")
        yield cluster
    finally:
        cluster.stop(immediate=True)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Answer:
    title: str
    status: int  # 0: no HTTP answer at all
    started: float
    seconds: float


@dataclass
class Writer:
    """Creates notes one after another until stopped; every answer recorded."""

    host: str
    port: int
    token: str
    answers: list[Answer] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            title = f"note {number}"
            started = time.monotonic()
            try:
                status = _call(
                    self.host, self.port, "POST", "/v1/notes", {"title": title}, self.token
                )
            except OSError:
                status = 0
            self.answers.append(Answer(title, status, started, time.monotonic() - started))
            time.sleep(0.02)


def _call(
    host: str, port: int, method: str, path: str, body: object = None, token: str = ""
) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _processes_of(cluster: Cluster) -> list[int]:
    """The postmaster and its children."""
    postmaster = cluster.pid()
    assert postmaster is not None
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def _health(target: str) -> str:
    with grpc.insecure_channel(target) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=30
        )
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _probes(host: str, port: int, grpc_target: str) -> tuple[int, str, float]:
    """``/readyz``'s status, the gRPC health status, and how long the slower of them took."""
    started = time.monotonic()
    ready = _call(host, port, "GET", "/readyz")
    middle = time.monotonic()
    health = _health(grpc_target)
    return ready, health, max(middle - started, time.monotonic() - middle)


@pytest.mark.skipif(os.name != "posix", reason="stops the cluster's processes with signals")
def test_outages_are_answered_within_the_bound_and_lose_no_acknowledged_write(
    cluster: Cluster,
) -> None:
    url = postgres.with_database(cluster.url(), "app").replace("+psycopg", "")
    env = environment(
        url,
        WEB_CONCURRENCY="1",
        GRPC_PROCESSES="1",
        DATABASE_TIMEOUT_SECONDS=str(TIMEOUT),
        PASSWORD_TIME_COST="1",
        PASSWORD_MEMORY_COST_KIB="8",
        PASSWORD_PARALLELISM="1",
    )
    with Served("app.api.rest", env) as rest, Served("app.api.grpc", env) as grpc_server:
        host, port_text = rest.address.removeprefix("http://").rsplit(":", 1)
        port = int(port_text)
        user = {"email": "faults@example.com", "password": DEFAULT_PASSWORD}
        assert _call(host, port, "POST", "/v1/users", {**user, "display_name": "F"}) == 201
        connection = http.client.HTTPConnection(host, port, timeout=30)
        connection.request(
            "POST", "/v1/auth/tokens", json.dumps(user), {"Content-Type": "application/json"}
        )
        token = json.loads(connection.getresponse().read())["token"]
        connection.close()
        assert _probes(host, port, grpc_server.address)[:2] == (200, "SERVING")

        writer = Writer(host, port, token)
        thread = threading.Thread(target=writer.run)
        thread.start()
        backs: list[tuple[str, float]] = []  # when each outage ended
        during: dict[str, tuple[int, str, float]] = {}
        try:
            time.sleep(1)
            for outage in ("stop", "immediate stop", "freeze"):
                if outage == "freeze":
                    frozen = _processes_of(cluster)
                    for pid in frozen:
                        os.kill(pid, signal.SIGSTOP)
                else:
                    assert cluster.stop(immediate=outage == "immediate stop")
                time.sleep(OUTAGE / 2)
                during[outage] = _probes(host, port, grpc_server.address)
                time.sleep(OUTAGE / 2)
                if outage == "freeze":
                    for pid in frozen:
                        os.kill(pid, signal.SIGCONT)
                else:
                    cluster.start()
                backs.append((outage, time.monotonic()))
                time.sleep(2)
        finally:
            writer.stopping.set()
            thread.join()
        after = _probes(host, port, grpc_server.address)

    answers = writer.answers
    statuses = {answer.status for answer in answers}
    slowest = max(answers, key=lambda answer: answer.seconds)
    report = (
        f"{len(answers)} writes, statuses {sorted(statuses)}, slowest {slowest.seconds:.2f} s; "
        f"during the outages {during}; after {after}"
    )
    print(report)  # noqa: T201 - the figures, for the record
    assert statuses <= {201, 503}, report
    assert 503 in statuses, report  # the outages were seen
    assert slowest.seconds <= BOUND, report
    for outage, (ready, health, seconds) in during.items():
        assert (ready, health) == (503, "NOT_SERVING"), (outage, report)
        assert seconds <= BOUND, (outage, report)
    assert after[:2] == (200, "SERVING"), report
    for outage, back in backs:
        later = [answer for answer in answers if answer.started > back + 0.05]
        assert later, outage
        assert [a.status for a in later[:20]] == [201] * len(later[:20]), (outage, report)

    acknowledged = {answer.title for answer in answers if answer.status == 201}
    cluster.start()
    with psycopg.connect(url) as db:
        stored = {row[0] for row in db.execute("SELECT title FROM notes")}
    assert acknowledged <= stored, sorted(acknowledged - stored)
