"""Helpers for calling the test server: metadata, expected failures and their details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from app.api.grpc.generated.v1 import auth_pb2_grpc, notes_pb2_grpc, users_pb2_grpc

Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


@dataclass(frozen=True)
class Stubs:
    users: users_pb2_grpc.UsersServiceStub
    auth: auth_pb2_grpc.AuthServiceStub
    notes: notes_pb2_grpc.NotesServiceStub

    @classmethod
    def on(cls, channel: grpc.Channel) -> Stubs:
        return cls(
            users=users_pb2_grpc.UsersServiceStub(channel),
            auth=auth_pb2_grpc.AuthServiceStub(channel),
            notes=notes_pb2_grpc.NotesServiceStub(channel),
        )


def failure(method: Callable[..., Any], request: Any, *, metadata: Metadata = ()) -> grpc.Call:
    """The failed call of ``method(request)``; the test fails if the call succeeds."""
    with pytest.raises(grpc.RpcError) as caught:
        method(request, metadata=metadata, timeout=10)
    error = caught.value
    assert isinstance(error, grpc.Call)
    return error


def field_violations(call: grpc.Call) -> dict[str, str]:
    """The ``google.rpc.BadRequest`` field violations in a failed call's rich status."""
    status = rpc_status.from_call(call)
    assert status is not None, "the call carries no rich status"
    violations: dict[str, str] = {}
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.update({v.field: v.description for v in bad_request.field_violations})
    return violations


def trailing(call: grpc.Call) -> dict[str, str | bytes]:
    return dict(call.trailing_metadata() or ())
