"""The users side of the notes stories (``tests/split/notes``): the service ``USERS_SERVICE_ADDR`` names.

    USERS_SERVICE_ADDR=127.0.0.1:50051 pytest

A deleted user reaches notes when the users service's worker calls notes'
``UserEventsService.UserDeleted``; that worker is the users service's, so here the stories
make the same call themselves.
"""

from __future__ import annotations

import os

import grpc
import pytest

from app.api.grpc.generated.v1 import user_events_pb2, user_events_pb2_grpc


class UsersElsewhere:
    """:class:`~tests.split.notes.harness.UsersSide`: a users service this run did not start."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._notes: str | None = None

    def connect_notes(self, target: str) -> None:
        self._notes = target

    def deliver_user_deleted(self, user_id: str) -> None:
        if self._notes is None:
            raise RuntimeError("notes' gRPC server is not running")
        with grpc.insecure_channel(self._notes) as channel:
            stub = user_events_pb2_grpc.UserEventsServiceStub(channel)
            stub.UserDeleted(user_events_pb2.UserDeletedRequest(user_id=user_id), timeout=10)


@pytest.fixture(scope="session")
def users_side() -> UsersElsewhere:
    target = os.environ.get("USERS_SERVICE_ADDR", "").strip()
    if not target:
        pytest.fail("set USERS_SERVICE_ADDR to the users service's gRPC host:port", pytrace=False)
    return UsersElsewhere(target)


@pytest.fixture(scope="session")
def notes_database_url(pg_database_url: str) -> str:
    return pg_database_url
