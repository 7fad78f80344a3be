"""Probes: ``/healthz`` (the process answers) and ``/readyz`` (and so does the database)."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.rest import schemas
from app.api.rest.context import runtime
from app.api.rest.payloads import json_response
from common.errors import Unavailable

__all__ = ["blueprint"]

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return json_response(schemas.Health(status="ok"))


@blueprint.get("/readyz")
def readyz() -> Response:
    if not runtime().database.ping():
        raise Unavailable("the database does not answer")
    return json_response(schemas.Health(status="ok"))
