"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (and so does the database)."""

from __future__ import annotations

from flask import Response

from app.api.rest import schemas
from app.api.rest.context import runtime
from app.api.rest.operations import Routes
from app.api.rest.payloads import json_response
from common.errors import Unavailable

__all__ = ["blueprint"]

blueprint: Routes[None] = Routes("health", __name__)


@blueprint.operation(
    "GET",
    "/healthz",
    "Liveness: the process answers",
    200,
    schemas.Health,
    auth=False,
    description="Touches no dependency.",
)
def healthz() -> Response:
    return json_response(schemas.Health(status="ok"))


@blueprint.operation(
    "GET",
    "/readyz",
    "Readiness: the database answers",
    200,
    schemas.Health,
    auth=False,
    errors=(503,),
)
def readyz() -> Response:
    if not runtime().database.ping():
        raise Unavailable("the database does not answer")
    return json_response(schemas.Health(status="ok"))
