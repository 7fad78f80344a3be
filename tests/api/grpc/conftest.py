"""gRPC fixtures: one real server per test process on an ephemeral port, and stubs to call it.

The server is built from the test runtime (``create_grpc_server`` bootstraps the same one), so
while a test holds the ``session`` fixture the server's threads open their sessions on the
test's connection and everything the RPCs commit is rolled back with the test. That is safe
because a test makes its calls one after another, never concurrently.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy.orm import Session

from app.api.grpc import create_grpc_server
from app.bootstrap import Runtime
from app.config import Settings
from tests.api.grpc.support import Stubs


@pytest.fixture(scope="session")
def grpc_target(runtime: Runtime, settings: Settings) -> Iterator[str]:
    server = create_grpc_server(settings, max_workers=2)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


@pytest.fixture(scope="session")
def grpc_channel(grpc_target: str) -> Iterator[grpc.Channel]:
    # No wait for readiness: the first call connects, and a channel that was watched with
    # ``channel_ready_future`` takes a fifth of a second to close.
    with grpc.insecure_channel(grpc_target) as channel:
        yield channel


@pytest.fixture
def channel(grpc_channel: grpc.Channel, session: Session) -> grpc.Channel:
    """The channel to the test server; what its RPCs commit is rolled back after the test."""
    return grpc_channel


@pytest.fixture
def stubs(channel: grpc.Channel) -> Stubs:
    return Stubs.on(channel)
