"""Notes as a service of its own (see :mod:`tests.split.notes.harness`).

The enclosing ``conftest.py`` provides ``users_side`` (a :class:`~tests.split.notes.harness.UsersSide`)
and ``notes_database_url`` (a database with notes' schema); everything else is here. Notes
commits for real in its own database: stories keep apart by signing up users of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from flask import Flask

from app.api.grpc import create_grpc_server
from app.api.rest import create_app
from app.bootstrap import Runtime
from tests.api.parity.clients import Client, GrpcClient, RestClient
from tests.conftest import make_test_settings
from tests.split.notes.harness import MonotonicClock, SplitClient, UsersSide
from tests.split.notes.switch import Switch


@pytest.fixture(scope="session")
def users_switch(users_side: UsersSide) -> Iterator[Switch]:
    """Notes' way to the users service; ``cut()`` takes users down, ``restore()`` back up."""
    switch = Switch(users_side.target)
    yield switch
    switch.close()


@pytest.fixture(scope="session")
def notes_runtime(notes_database_url: str, users_switch: Switch) -> Iterator[Runtime]:
    """Notes configured with the remote adapter: ``USERS_SERVICE_ADDR`` is set."""
    settings = make_test_settings(notes_database_url, users_service_addr=users_switch.address)
    runtime = Runtime(settings)
    runtime.clock = MonotonicClock()
    runtime.lifecycle.initialize()
    yield runtime
    runtime.lifecycle.shutdown()


@pytest.fixture(scope="session")
def notes_rest_app(notes_runtime: Runtime) -> Flask:
    return create_app(runtime=notes_runtime)


@pytest.fixture(scope="session")
def notes_grpc_target(notes_runtime: Runtime, users_side: UsersSide) -> Iterator[str]:
    """Notes' gRPC API on an ephemeral port; the users service is told where it is."""
    server = create_grpc_server(notes_runtime.settings, runtime=notes_runtime, max_workers=4)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = f"127.0.0.1:{port}"
    users_side.connect_notes(target)
    try:
        yield target
    finally:
        server.stop(None).wait()


@pytest.fixture(scope="session")
def users_channel(users_side: UsersSide) -> Iterator[grpc.Channel]:
    """Straight to the users service (not through the switch): stories sign up users with it."""
    with grpc.insecure_channel(users_side.target) as channel:
        yield channel


@pytest.fixture(scope="session")
def notes_channel(notes_grpc_target: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(notes_grpc_target) as channel:
        yield channel


@pytest.fixture(params=["rest", "grpc"])
def client(request: pytest.FixtureRequest, users_channel: grpc.Channel) -> SplitClient:
    """Accounts from the users service; notes through notes' REST API in one run, gRPC in the other."""
    notes: Client
    if request.param == "rest":
        notes = RestClient.in_process(request.getfixturevalue("notes_rest_app"))
    else:
        notes = GrpcClient(request.getfixturevalue("notes_channel"))
    return SplitClient(GrpcClient(users_channel), notes)
