"""The operations every deployment serves: health probes and the OpenAPI document."""

from __future__ import annotations

from app.api.rest import schemas
from app.api.rest.routes.operation import Operation

__all__ = ["OPERATIONS"]

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "health.healthz",
        "GET",
        "/healthz",
        "Liveness: the process answers",
        200,
        schemas.Health,
        auth=False,
        description="Touches no dependency.",
    ),
    Operation(
        "health.readyz",
        "GET",
        "/readyz",
        "Readiness: the database answers",
        200,
        schemas.Health,
        auth=False,
        errors=(503,),
    ),
    Operation(
        "openapi.document",
        "GET",
        "/openapi.json",
        "This OpenAPI document",
        200,
        schemas.OpenApiDocument,
        auth=False,
    ),
)
