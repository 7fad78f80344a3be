"""The parity clients themselves: the ways to build them, and answers outside the contract."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from sqlalchemy.orm import Session

from tests.api.parity.clients import (
    ApiError,
    Client,
    GrpcClient,
    HttpResponse,
    NotePage,
    RestClient,
    UnexpectedResponse,
)
from tests.factories import DEFAULT_PASSWORD


def a_short_story(client: Client, email: str) -> None:
    user = client.sign_up(email=email, password=DEFAULT_PASSWORD, display_name="Remote")
    token = client.log_in(email=email, password=DEFAULT_PASSWORD).token
    assert client.me(token) == user
    note = client.create_note(token, title="Far away", body="and back")
    assert client.list_notes(token, query="BACK", limit=1) == NotePage((note,), None)
    with pytest.raises(ApiError) as caught:
        client.list_notes(token, query="x" * 201)
    assert (caught.value.kind, set(caught.value.fields)) == ("invalid-input", {"query"})
    client.delete_note(token, note.id)
    assert client.list_notes(token).items == ()


def test_the_rest_client_reaches_a_server_by_its_base_url(
    rest_base_url: str, session: Session
) -> None:
    a_short_story(RestClient.over_http(rest_base_url + "/"), "http@example.com")


def test_the_grpc_client_opens_its_own_channel_to_a_target(
    parity_grpc_target: str, session: Session
) -> None:
    with GrpcClient.connect(parity_grpc_target) as client:
        a_short_story(client, "channel@example.com")


@pytest.mark.parametrize("base_url", ["ftp://example.com", "localhost:8000", "http://"])
def test_a_base_url_must_be_http_or_https(base_url: str) -> None:
    with pytest.raises(ValueError, match="not an http or https base URL"):
        RestClient.over_http(base_url)


@pytest.mark.parametrize(
    "answer",
    [
        HttpResponse(502, "text/html", b"<h1>Bad gateway</h1>"),
        HttpResponse(200, "application/json", b"{}"),
    ],
    ids=["not-a-problem", "another-success"],
)
def test_an_answer_outside_the_contract_is_no_api_error(answer: HttpResponse) -> None:
    def send(
        method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> HttpResponse:
        return answer

    with pytest.raises(UnexpectedResponse, match=rf"POST /v1/notes: {answer.status}"):
        RestClient(send).create_note("token", title="t")
