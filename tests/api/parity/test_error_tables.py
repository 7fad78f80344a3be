"""The two error tables agree: every error of the tree reaches a client as the same kind either way.

REST names the kind itself (the problem ``type`` ends with the error's code); gRPC answers
with a status code, which the parity client reads back as a kind through ``GRPC_KINDS``. So
the gRPC table must give each error of the tree its own status, and that status must read
back as the error's code.
"""

from __future__ import annotations

import pytest

from app.api.grpc import errors as grpc_errors
from app.api.rest import errors as rest_errors
from common import errors
from tests.api.parity.clients import GRPC_KINDS

TREE: list[type[errors.ServiceError]] = [getattr(errors, name) for name in sorted(errors.__all__)]


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
