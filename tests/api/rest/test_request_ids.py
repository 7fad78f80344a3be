"""Request ids (taken from ``X-Request-ID`` when well-formed) and one access-log line per request."""

from __future__ import annotations

import logging
import re

import pytest
from flask.testing import FlaskClient

from common.logs import accepted_request_id

ACCESS = "app.api.rest.access"
GENERATED = re.compile(r"[0-9a-f]{32}")


def test_a_given_request_id_is_echoed_and_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS):
        response = client.get("/v1/notes", headers={"X-Request-ID": "edge-7f3a.b:1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.b:1"
    assert response.json is not None
    assert response.json["request_id"] == "edge-7f3a.b:1"
    [line] = [r for r in caplog.records if r.name == ACCESS]
    assert line.getMessage().startswith("GET /v1/notes 401 ")
    assert (line.method, line.path, line.status) == ("GET", "/v1/notes", 401)  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "given",
    [None, "", "has space", "line\nbreak", 'quote"d', "x" * 129, "ünïcode", "a;b=c"],
)
def test_a_missing_or_unfit_request_id_is_replaced(client: FlaskClient, given: str | None) -> None:
    # Through the WSGI environment: the test client refuses to send some of these as headers.
    environ = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = client.get("/healthz", environ_overrides=environ)
    echoed = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(echoed)
    assert client.get("/healthz", environ_overrides=environ).headers["X-Request-ID"] != echoed


def test_the_check_accepts_ids_that_common_proxies_send() -> None:
    for value in ["4bf92f3577b34da6a3ce929d0e0e4736", "c0a8-0001:1a2b", "req_01HZX.9"]:
        assert accepted_request_id(value) == value


def test_every_request_gets_one_access_line_even_when_it_fails(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS):
        client.get("/healthz")
        client.post("/v1/users", data="{", content_type="application/json")
        client.get("/no/such/route")
        client.delete("/healthz")
    lines = [(r.method, r.path, r.status) for r in caplog.records if r.name == ACCESS]  # type: ignore[attr-defined]
    assert lines == [
        ("GET", "/healthz", 200),
        ("POST", "/v1/users", 400),
        ("GET", "/no/such/route", 404),
        ("DELETE", "/healthz", 405),
    ]
