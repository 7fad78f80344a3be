"""The users side of the split stories (``tests/split/notes``): users started from this code base.

A users service of its own, in this process: a runtime on its own database (cloned like the
worker's), served by a real gRPC server on an ephemeral port. Its ``NOTES_SERVICE_ADDR`` is a
switch that notes' harness connects to notes' gRPC server, so a deleted user reaches notes as
in production: the deletion enqueues a job, and :meth:`UsersFromThisCodeBase.deliver_user_deleted`
runs the users worker over it. A project made by ``invoke split notes`` has its own version of
this file, with users the service ``USERS_SERVICE_ADDR`` names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from app.api.grpc import create_grpc_server
from app.bootstrap import Runtime
from app.service.users.relay import RELAY_USER_DELETED
from app.worker.app import create_app as create_worker_app
from tests.conftest import make_test_settings
from tests.split.notes.switch import Switch

#: A worker batch that has not finished by then has hung.
BATCH_TIMEOUT = 20


class UsersFromThisCodeBase:
    """:class:`~tests.split.notes.harness.UsersSide` served by this code base's runtime."""

    def __init__(self, runtime: Runtime, target: str, notes: Switch) -> None:
        self.runtime = runtime
        self.target = target
        self._notes = notes

    def connect_notes(self, target: str) -> None:
        self._notes.upstream = target

    def deliver_user_deleted(self, user_id: str) -> None:
        """Run the users worker until no relay job is due (the deletion enqueued one)."""
        app = create_worker_app(self.runtime, periodic=False)

        async def batch() -> None:
            async with app.open_async():
                await app.run_worker_async(
                    queues=[RELAY_USER_DELETED.queue],
                    wait=False,
                    listen_notify=False,
                    install_signal_handlers=False,
                )

        asyncio.run(asyncio.wait_for(batch(), BATCH_TIMEOUT))


@pytest.fixture(scope="session")
def users_side(pg_database_factory: Callable[[str], str]) -> Iterator[UsersFromThisCodeBase]:
    notes = Switch()
    settings = make_test_settings(pg_database_factory("users"), notes_service_addr=notes.address)
    runtime = Runtime(settings)
    runtime.lifecycle.initialize()
    server = create_grpc_server(settings, runtime=runtime, max_workers=4)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield UsersFromThisCodeBase(runtime, f"127.0.0.1:{port}", notes)
    finally:
        server.stop(None).wait()
        runtime.lifecycle.shutdown()
        notes.close()


@pytest.fixture(scope="session")
def notes_database_url(pg_database_factory: Callable[[str], str]) -> str:
    return pg_database_factory("notes")
