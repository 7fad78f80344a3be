"""Parity fixtures: ``client`` is the REST client in one run of a test and the gRPC client in the other.

Both reach the test runtime (the Flask app in process, a real gRPC server on an ephemeral
port), and while a test holds ``client`` everything either API commits is rolled back with
the test's transaction, as in the REST and gRPC suites.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server

import grpc
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.api.grpc import create_grpc_server
from app.api.rest import create_app
from app.bootstrap import Runtime
from app.config import Settings
from tests.api.parity.clients import Client, GrpcClient, RestClient
from tests.api.rest.conftest import ContractClient


@pytest.fixture(scope="session")
def parity_rest_app(runtime: Runtime, settings: Settings) -> Flask:
    """The REST app; every answer it gives the parity client is checked against the declared operations."""
    app = create_app(settings)
    app.test_client_class = ContractClient
    return app


@pytest.fixture(scope="session")
def parity_grpc_target(runtime: Runtime, settings: Settings) -> Iterator[str]:
    """A real gRPC server over the test runtime, on an ephemeral port."""
    server = create_grpc_server(settings, max_workers=2)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


@pytest.fixture(scope="session")
def parity_grpc_channel(parity_grpc_target: str) -> Iterator[grpc.Channel]:
    # No wait for readiness: the first call connects, and a channel that was watched with
    # ``channel_ready_future`` takes a fifth of a second to close.
    with grpc.insecure_channel(parity_grpc_target) as channel:
        yield channel


@pytest.fixture(params=["rest", "grpc"])
def client(request: pytest.FixtureRequest, session: Session) -> Client:
    """One client per run of the test; what its calls commit is rolled back after the test."""
    if request.param == "rest":
        return RestClient.in_process(request.getfixturevalue("parity_rest_app"))
    return GrpcClient(request.getfixturevalue("parity_grpc_channel"))


@pytest.fixture
def both(
    parity_rest_app: Flask, parity_grpc_channel: grpc.Channel, session: Session
) -> dict[str, Client]:
    """Both clients at once, for stories that cross from one API to the other."""
    return {"rest": RestClient.in_process(parity_rest_app), "grpc": GrpcClient(parity_grpc_channel)}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="session")
def rest_base_url(parity_rest_app: Flask) -> Iterator[str]:
    """The REST app behind a real (single-threaded) HTTP server on an ephemeral port."""
    server = make_server("127.0.0.1", 0, parity_rest_app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
