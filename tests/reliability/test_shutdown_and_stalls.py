"""The servers stopped and stalled as an operator and a slow client would: nothing is lost.

SIGTERM with requests in flight: every one of them is answered, on REST and gRPC alike. A
gRPC server stopped with calls in flight starts again on its port at once (its connections
linger in TIME_WAIT). Fifty clients that send half a request and stall do not keep REST
from answering anyone else, and are answered 408 once their time is up.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.api.grpc.generated.v1 import auth_pb2, auth_pb2_grpc, users_pb2, users_pb2_grpc
from app.commands.serve import rest_answers
from common.ports import free_port
from tests.factories import DEFAULT_PASSWORD
from tests.reliability.servers import Served, environment, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def database(pg_database_factory: Callable[[str], str]) -> str:
    """A database of the test's own: the servers commit to it."""
    return pg_database_factory(f"rel_{uuid.uuid4().hex[:12]}")


def _send_post(base: str, path: str, body: dict[str, str]) -> Callable[[], int]:
    """Send a POST now; the returned call waits for its status."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})

    def status() -> int:
        try:
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    return status


def _post(base: str, path: str, body: dict[str, str]) -> int:
    return _send_post(base, path, body)()


def _in_flight_then_sigterm(
    served: Served, send: Callable[[], Callable[[], object]], *, count: int = 8
) -> list[object]:
    """``count`` calls at once, SIGTERM once every one was sent; what each ended with.

    ``send`` starts a call and returns what waits for its outcome: a call is only in flight
    once its client has sent it, however busy the machine.
    """
    sent = threading.Barrier(count + 1)

    def one() -> object:
        try:
            outcome = send()
        except Exception as exc:  # noqa: BLE001 - what the call ended with is the result
            sent.wait()
            return exc
        sent.wait()
        try:
            return outcome()
        except Exception as exc:  # noqa: BLE001 - what the call ended with is the result
            return exc

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(one) for _ in range(count)]
        sent.wait()
        time.sleep(0.3)  # on the wire; most still waiting for a worker
        assert served.stop() == 0, served.errors()
        return [future.result() for future in futures]


def test_rest_answers_every_request_in_flight_on_sigterm(database: str) -> None:
    # The default password cost: a log-in takes long enough for the others to queue.
    env = environment(database, WEB_CONCURRENCY="2", LOG_LEVEL="INFO")
    with Served("app.api.rest", env) as rest:
        credentials = {"email": "sigterm@example.com", "password": DEFAULT_PASSWORD}
        assert _post(rest.address, "/v1/users", {**credentials, "display_name": "S"}) == 201
        results = _in_flight_then_sigterm(
            rest, lambda: _send_post(rest.address, "/v1/auth/tokens", credentials)
        )
    assert results == [201] * len(results)


def _grpc_env(database: str, **extra: str) -> dict[str, str]:
    return environment(database, GRPC_PROCESSES="2", GRPC_MAX_WORKERS="4", **extra)


def test_grpc_answers_every_call_in_flight_on_sigterm(database: str) -> None:
    with (
        Served("app.api.grpc", _grpc_env(database)) as served,
        grpc.insecure_channel(served.address) as channel,
    ):
        users_pb2_grpc.UsersServiceStub(channel).SignUp(
            users_pb2.SignUpRequest(
                email="sigterm@example.com", password=DEFAULT_PASSWORD, display_name="S"
            ),
            timeout=30,
        )
        log_in = auth_pb2_grpc.AuthServiceStub(channel).LogIn
        request = auth_pb2.LogInRequest(email="sigterm@example.com", password=DEFAULT_PASSWORD)
        results = _in_flight_then_sigterm(served, lambda: log_in.future(request, timeout=30).result)
    assert all(isinstance(result, auth_pb2.LogInResponse) and result.token for result in results), (
        results
    )


def _serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def test_grpc_starts_again_on_its_port_at_once_after_a_stop_with_calls_in_flight(
    database: str,
) -> None:
    port = free_port()
    env = _grpc_env(database, GRPC_PORT=str(port))
    with Served("app.api.grpc", env) as first:
        channels = [grpc.insecure_channel(first.address) for _ in range(4)]
        calls = [
            health_pb2_grpc.HealthStub(channel).Check.future(health_pb2.HealthCheckRequest())
            for channel in channels
        ]
        assert first.stop() == 0, first.errors()
        for call in calls:
            call.exception()
        for channel in channels:
            channel.close()
    with Served("app.api.grpc", env) as second:  # its connections are in TIME_WAIT now
        assert second.address == f"127.0.0.1:{port}"
        assert _serving(second.address)


def test_rest_keeps_answering_while_fifty_clients_stall(database: str) -> None:
    env = environment(database, WEB_CONCURRENCY="2", REST_READ_TIMEOUT_SECONDS="3")
    with Served("app.api.rest", env) as rest:
        host, port = rest.address.removeprefix("http://").rsplit(":", 1)
        wait_for(lambda: rest_answers(rest.address))  # both workers up
        stalled = []
        for _ in range(50):
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(
                b"POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 100\r\n\r\n{"email": '
            )
            stalled.append(sock)
        try:
            for _ in range(5):
                started = time.monotonic()
                connection = http.client.HTTPConnection(host, int(port), timeout=10)
                connection.request("GET", "/healthz")
                assert connection.getresponse().status == 200
                connection.close()
                assert time.monotonic() - started < 1
            answers = [sock.recv(4096) for sock in stalled]  # each, once its time is up
        finally:
            for sock in stalled:
                sock.close()
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
