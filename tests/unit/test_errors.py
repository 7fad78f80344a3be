from __future__ import annotations

import pytest

from common import errors


@pytest.mark.parametrize(
    "cls",
    [
        errors.NotFound,
        errors.Conflict,
        errors.InvalidInput,
        errors.Unauthenticated,
        errors.PermissionDenied,
        errors.Unavailable,
    ],
)
def test_every_error_is_a_service_error_with_its_own_code(cls: type[errors.ServiceError]) -> None:
    error = cls("message")
    assert isinstance(error, errors.ServiceError)
    assert error.message == "message"
    assert error.code != errors.ServiceError.code


def test_invalid_input_carries_fields() -> None:
    error = errors.InvalidInput.for_field("email", "is not valid")
    assert error.fields == {"email": "is not valid"}
    assert "email" in str(error)
    assert errors.InvalidInput("bad").fields == {}
