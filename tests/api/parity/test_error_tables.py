"""The two error tables agree: every error of the tree reaches a client as the same kind either way.

REST names the kind itself (the problem ``type`` ends with the error's code); gRPC answers
with a status code and the same code as a ``google.rpc.ErrorInfo`` reason. A client that
reads only status codes (``GRPC_KINDS``) must still tell the tree's errors apart, so the gRPC
table gives each of them its own status; an error below a row of the tree is told apart by
its reason alone.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from app.api.grpc import errors as grpc_errors
from app.api.rest import errors as rest_errors
from common import errors
from tests.api.parity.clients import GRPC_KINDS

TREE: list[type[errors.ServiceError]] = [
    value
    for value in map(vars(errors).get, sorted(errors.__all__))
    if isinstance(value, type) and issubclass(value, errors.ServiceError)
]


def test_both_tables_have_a_row_for_every_error_of_the_tree() -> None:
    assert set(TREE) <= set(rest_errors.STATUS_TABLE)
    assert set(TREE) <= set(grpc_errors.STATUS_TABLE)
    # The rows REST has beyond the tree are for bodies it cannot read: gRPC has no such input.
    assert set(rest_errors.STATUS_TABLE) - set(TREE) == {
        rest_errors.MalformedRequest,
        rest_errors.UnsupportedMediaType,
    }
    assert set(grpc_errors.STATUS_TABLE) == set(TREE)


def test_each_error_has_a_status_of_its_own_on_grpc() -> None:
    codes = [grpc_errors.STATUS_TABLE[cls] for cls in TREE]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("cls", TREE, ids=lambda cls: cls.__name__)
def test_each_error_is_the_same_kind_through_both_tables(cls: type[errors.ServiceError]) -> None:
    error = cls("refused")
    rest_kind = cls.code  # the problem type is ``/problems/<code>`` for every service error
    assert rest_errors.status_for(error) is rest_errors.STATUS_TABLE[cls]
    assert GRPC_KINDS[grpc_errors.code_for(error)] == rest_kind


def test_the_client_reads_no_status_the_server_does_not_answer_with() -> None:
    answered = {*grpc_errors.STATUS_TABLE.values(), grpc_errors.internal_status().code}
    assert set(GRPC_KINDS) == answered


def _details(status: grpc.Status) -> list[Any]:
    metadata = dict(status.trailing_metadata)
    packed = metadata["grpc-status-details-bin"]
    assert isinstance(packed, bytes)
    return list(status_pb2.Status.FromString(packed).details)


def _error_info(status: grpc.Status) -> error_details_pb2.ErrorInfo:
    infos = []
    for detail in _details(status):
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    [info] = infos
    return info


@pytest.mark.parametrize("cls", TREE, ids=lambda cls: cls.__name__)
def test_every_grpc_refusal_names_its_code_as_the_error_info_reason(
    cls: type[errors.ServiceError],
) -> None:
    info = _error_info(grpc_errors.status_for(cls("refused")))
    assert (info.reason, info.domain) == (cls.code, grpc_errors.ERROR_DOMAIN)


def test_an_error_below_a_row_keeps_its_own_code_on_both_transports() -> None:
    class Gone(errors.NotFound):
        code = "gone"

    status = grpc_errors.status_for(Gone("the note was deleted"))
    assert status.code is grpc.StatusCode.NOT_FOUND  # its row's status...
    assert _error_info(status).reason == "gone"  # ...and its own code, as REST's type has it
    assert rest_errors.status_for(Gone("x")) is rest_errors.STATUS_TABLE[errors.NotFound]


def test_an_internal_error_carries_no_error_info() -> None:
    assert _details(grpc_errors.internal_status()) == []
