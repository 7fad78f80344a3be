"""Every RPC, fed what a hostile client sends: never INTERNAL, never UNKNOWN.

For each RPC of each service: bytes that are no message at all, an empty message, a message
over the size limit, every string field holding NUL characters or 3 MB of text, and a bad or
missing token. Each answer must be a status the API means (INVALID_ARGUMENT, NOT_FOUND,
UNAUTHENTICATED, RESOURCE_EXHAUSTED, ...), never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from app.api.grpc.catalog import SERVICES

CRASHES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
METHODS = [method for service in SERVICES for method in service.descriptor.methods]


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _strings(message: Message, text: str) -> Message:
    """``message`` with every string field, nested ones too, set to ``text``."""
    for field in message.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                getattr(message, field.name).append(text)
            else:
                setattr(message, field.name, text)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
            _strings(getattr(message, field.name), text)
    return message


def _requests(method: MethodDescriptor) -> Iterator[tuple[str, bytes]]:
    request_class = message_factory.GetMessageClass(method.input_type)
    yield "garbage", b"\xff\xfe\xfd not a message \x00\x01"
    yield "empty", b""
    yield "nul", _strings(request_class(), "a\x00b").SerializeToString()
    yield "three-megabytes", _strings(request_class(), "x" * 3_000_000).SerializeToString()
    yield "oversize", b"z" * 5_000_000  # past the server's 4 MB limit on a message


TOKENS = {
    "bad-token": (("authorization", "Bearer not-a-token-this-service-issued"),),
    "other-scheme": (("authorization", "Basic dXNlcjpwYXNz"),),
}


def _codes(
    channel: grpc.Channel,
    method: MethodDescriptor,
    requests: Iterator[tuple[str, bytes]],
    metadata: tuple[tuple[str, str], ...],
) -> dict[str, grpc.StatusCode]:
    call: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(_path(method))
    seen: dict[str, grpc.StatusCode] = {}
    for name, payload in requests:
        try:
            call(payload, metadata=metadata, timeout=30)
        except grpc.RpcError as error:
            seen[name] = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        else:
            seen[name] = grpc.StatusCode.OK
    return seen


@pytest.mark.parametrize("method", METHODS, ids=_path)
def test_no_hostile_request_crashes_an_rpc(channel: grpc.Channel, method: MethodDescriptor) -> None:
    seen = _codes(channel, method, _requests(method), ())
    assert not {name: code for name, code in seen.items() if code in CRASHES}, seen
    assert seen["garbage"] == grpc.StatusCode.INVALID_ARGUMENT
    assert seen["oversize"] == grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.mark.parametrize("method", METHODS, ids=_path)
def test_no_token_crashes_an_rpc(channel: grpc.Channel, method: MethodDescriptor) -> None:
    for name, metadata in TOKENS.items():
        seen = _codes(channel, method, iter([("empty", b"")]), metadata)
        assert seen["empty"] not in CRASHES, (name, seen)
