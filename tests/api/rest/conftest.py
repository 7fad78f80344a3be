"""REST fixtures: the Flask app over the test runtime, and a client that checks the contract.

Every response the ``client`` receives is checked against the declared operations: its status is
one the operation documents, a success body matches the declared response model, and a
failure is an RFC 9457 problem. So every test also tests the OpenAPI document.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.test import TestResponse

from app.api.rest import create_app
from app.api.rest.errors import PROBLEM_MEDIA_TYPE
from app.api.rest.operations import operations_by_endpoint
from app.api.rest.schemas import Problem
from app.bootstrap import Runtime
from app.config import Settings
from tests.factories import DEFAULT_PASSWORD

_emails = itertools.count(1)


def check_contract(app: Flask, response: TestResponse) -> None:
    """Fail unless ``response`` is what its operation's declaration promises."""
    request = response.request
    try:
        endpoint, _ = app.url_map.bind("localhost").match(request.path, request.method)
    except (HTTPException, RequestRedirect):
        endpoint = None
    if endpoint is None or request.method in ("HEAD", "OPTIONS"):
        assert response.mimetype == PROBLEM_MEDIA_TYPE or response.status_code < 400
        return
    operation = operations_by_endpoint(app)[str(endpoint)]
    status = response.status_code
    if status == operation.status:
        if operation.response is None:
            assert response.data == b"", f"{endpoint}: {status} must have no body"
            assert "Content-Type" not in response.headers
        else:
            assert response.mimetype == "application/json"
            operation.response.model_validate_json(response.data)
        return
    assert status in operation.error_statuses() or status >= 500, (
        f"{request.method} {request.path} answered {status}, which the declaration does not "
        f"document for {endpoint} (it documents {operation.status} and "
        f"{operation.error_statuses()})"
    )
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    problem = Problem.model_validate_json(response.data)
    assert problem.status == status
    assert problem.request_id == response.headers["X-Request-ID"]


class ContractClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_contract(self.application, response)
        return response


@pytest.fixture(scope="session")
def rest_app(runtime: Runtime, settings: Settings) -> Flask:
    app = create_app(settings)
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(rest_app: Flask, session: Session) -> Iterator[FlaskClient]:
    """A test client whose requests run in the test's rolled-back transaction."""
    with rest_app.test_client() as test_client:
        yield test_client


@pytest.fixture
def unchecked_client(rest_app: Flask, session: Session) -> FlaskClient:
    """A client without the contract check, for tests that make the app misbehave on purpose."""
    return FlaskClient(rest_app, rest_app.response_class)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """Shortcuts through the API itself, for tests about something else."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def sign_up(
        self,
        email: str | None = None,
        password: str = DEFAULT_PASSWORD,
        display_name: str = "Test User",
    ) -> dict[str, Any]:
        email = email or f"rest{next(_emails)}@example.com"
        response = self.client.post(
            "/v1/users", json={"email": email, "password": password, "display_name": display_name}
        )
        assert response.status_code == 201, response.json
        return dict(response.json or {})

    def log_in(self, email: str, password: str = DEFAULT_PASSWORD) -> str:
        response = self.client.post("/v1/auth/tokens", json={"email": email, "password": password})
        assert response.status_code == 201, response.json
        return str((response.json or {})["token"])

    def user(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user and the headers that authenticate as them."""
        user = self.sign_up(**kwargs)
        return user, bearer(self.log_in(user["email"], kwargs.get("password", DEFAULT_PASSWORD)))

    def note(
        self, headers: dict[str, str], title: str = "A note", body: str = ""
    ) -> dict[str, Any]:
        response = self.client.post(
            "/v1/notes", json={"title": title, "body": body}, headers=headers
        )
        assert response.status_code == 201, response.json
        return dict(response.json or {})


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)
