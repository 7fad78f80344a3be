"""What other services of the family ask of this one: UsersService.UserExists and
UserEventsService.UserDeleted (which notes serves: it checks with users before deleting)."""

from __future__ import annotations

import uuid

import grpc

from app.api.grpc.generated.v1 import user_events_pb2, user_events_pb2_grpc, users_pb2
from app.bootstrap import Services
from tests.api.grpc.support import Stubs, failure
from tests.factories import Factories


def test_user_exists_needs_no_token_and_says_only_whether(
    stubs: Stubs, factories: Factories
) -> None:
    user = factories.user()
    for user_id, exists in ((str(user.id), True), (str(uuid.uuid4()), False), ("nope", False)):
        response = stubs.users.UserExists(users_pb2.UserExistsRequest(user_id=user_id))
        assert response.exists is exists, user_id


def test_user_deleted_deletes_nothing_while_the_user_exists_then_is_idempotent(
    channel: grpc.Channel, factories: Factories, services: Services
) -> None:
    stub = user_events_pb2_grpc.UserEventsServiceStub(channel)
    user = factories.user()
    factories.note(user)
    request = user_events_pb2.UserDeletedRequest(user_id=str(user.id))

    refused = failure(stub.UserDeleted, request)
    assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert refused.details() == f"user {user.id} still exists; their notes are kept"
    assert services.notes.list(user.id).items

    gone = str(uuid.uuid4())
    for _ in range(2):
        stub.UserDeleted(user_events_pb2.UserDeletedRequest(user_id=gone), timeout=10)
    malformed = failure(stub.UserDeleted, user_events_pb2.UserDeletedRequest(user_id="x"))
    assert malformed.code() is grpc.StatusCode.NOT_FOUND
