"""The standard health service, answering as the REST probes do.

``grpc.health.v1.Health/Check`` for the server as a whole (``""``) or any of its services is a
readiness check, like REST's ``/readyz``: SERVING only while the database answers (within
``DATABASE_TIMEOUT_SECONDS``), NOT_SERVING otherwise, and NOT_SERVING for good once the
server is stopping. :data:`LIVENESS` is the liveness check, like ``/healthz``: SERVING while
the process serves at all, so an orchestrator restarts it for hanging, never for an outage
of the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

__all__ = ["LIVENESS", "ReadinessHealthServicer"]

#: The service name a liveness probe asks for.
LIVENESS = "liveness"


class ReadinessHealthServicer(health.HealthServicer):  # type: ignore[misc]
    """``Check`` asks ``ready()`` for every service but :data:`LIVENESS` that is SERVING."""

    def __init__(self, ready: Callable[[], bool]) -> None:
        super().__init__()
        self._ready = ready

    def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext) -> Any:
        response = super().Check(request, context)
        serving = response.status == health_pb2.HealthCheckResponse.SERVING
        if serving and request.service != LIVENESS and not self._ready():
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING)
        return response
