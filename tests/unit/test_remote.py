"""Clients of other services: errors back into the common tree, deadlines, retries; the relay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from app.remote.grpc import CallPolicy, Connection, error_for
from app.service.jobs import JSONValue, Task
from app.service.users.relay import RELAY_USER_DELETED, UserEventsRelay
from common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unauthenticated,
    Unavailable,
)


class FailedCall(grpc.RpcError, grpc.Call):
    """What a stub raises when the other side answers with a status."""

    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self) -> Any:
        return ()

    def trailing_metadata(self) -> Any:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float:
        return 0.0

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, Unauthenticated),
        (grpc.StatusCode.PERMISSION_DENIED, PermissionDenied),
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.ALREADY_EXISTS, Conflict),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidInput),
        (grpc.StatusCode.FAILED_PRECONDITION, ServiceError),
    ],
)
def test_a_refusal_is_the_same_error_with_the_other_sides_words(
    code: grpc.StatusCode, kind: type[ServiceError]
) -> None:
    error = error_for(FailedCall(code, "the token is invalid"), "users")
    assert type(error) is kind
    assert error.message == "the token is invalid"
    assert error_for(FailedCall(code), "users").message == (
        f"the users service refused the call ({code.name})"
    )


@pytest.mark.parametrize(
    "error",
    [
        FailedCall(grpc.StatusCode.UNAVAILABLE, "connection refused"),
        FailedCall(grpc.StatusCode.DEADLINE_EXCEEDED),
        FailedCall(grpc.StatusCode.INTERNAL, "a stack trace"),
        FailedCall(grpc.StatusCode.UNKNOWN),
        grpc.RpcError(),
    ],
)
def test_a_failure_of_the_other_side_is_unavailable_and_says_only_which(
    error: grpc.RpcError,
) -> None:
    mapped = error_for(error, "users")
    assert type(mapped) is Unavailable
    assert mapped.message == "the users service is unavailable"


class Stub:
    """A unary method answering from a script: errors are raised, anything else returned.

    Typed as ``Any`` where it is made: it stands in for a stub's multi-callable.
    """

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, request: object, **options: Any) -> object:
        self.calls.append({"request": request, **options})
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def _stub(*answers: object) -> Any:
    return Stub(*answers)


def _connection(sleeps: list[float], attempts: int = 3) -> Connection:
    return Connection(
        "127.0.0.1:1",
        service="users",
        policy=CallPolicy(timeout=1.5, attempts=attempts, backoff=0.05),
        sleep=sleeps.append,
    )


def test_an_idempotent_call_is_retried_while_unavailable_with_backoff() -> None:
    sleeps: list[float] = []
    down = FailedCall(grpc.StatusCode.UNAVAILABLE)
    stub: Any = Stub(down, down, "answer")
    assert _connection(sleeps).call(stub, "request", idempotent=True) == "answer"
    assert sleeps == [0.05, 0.1]
    assert [call["timeout"] for call in stub.calls] == [1.5] * 3


def test_retries_stop_after_the_last_attempt_and_other_failures_at_once() -> None:
    sleeps: list[float] = []
    down = FailedCall(grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(Unavailable):
        _connection(sleeps, attempts=2).call(_stub(down, down), "r", idempotent=True)
    assert sleeps == [0.05]
    refused: Any = Stub(FailedCall(grpc.StatusCode.UNAUTHENTICATED, "no"), "never")
    with pytest.raises(Unauthenticated):
        _connection(sleeps).call(refused, "r", idempotent=True)
    assert len(refused.calls) == 1


def test_a_call_that_is_not_idempotent_is_tried_once() -> None:
    sleeps: list[float] = []
    stub: Any = Stub(FailedCall(grpc.StatusCode.UNAVAILABLE), "never")
    with pytest.raises(Unavailable):
        _connection(sleeps).call(stub, "r", idempotent=False)
    assert (len(stub.calls), sleeps) == (1, [])


def test_the_channel_opens_on_first_use_and_closes_once() -> None:
    connection = _connection([])
    channel = connection.channel
    assert connection.channel is channel
    connection.close()
    connection.close()
    assert connection.channel is not channel
    connection.close()


class Queue:
    def __init__(self) -> None:
        self.jobs: list[tuple[Task, dict[str, JSONValue]]] = []

    def enqueue(self, task: Task, /, **arguments: JSONValue) -> None:
        self.jobs.append((task, arguments))


class Subscriber:
    name = "notes"

    def __init__(self) -> None:
        self.deleted: list[uuid.UUID] = []

    def user_deleted(self, user_id: uuid.UUID) -> None:
        self.deleted.append(user_id)


def test_the_relay_enqueues_only_when_some_service_listens_then_tells_each() -> None:
    user_id = uuid.uuid4()
    queue = Queue()
    UserEventsRelay(queue, []).user_deleted(user_id)
    assert queue.jobs == []

    first, second = Subscriber(), Subscriber()
    relay = UserEventsRelay(queue, [first, second])
    relay.user_deleted(user_id)
    assert queue.jobs == [(RELAY_USER_DELETED, {"user_id": str(user_id)})]
    relay.deliver_user_deleted(str(user_id))
    assert first.deleted == second.deleted == [user_id]
    with pytest.raises(NotFound):
        relay.deliver_user_deleted("not-an-id")
