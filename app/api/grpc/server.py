"""The server factory: the catalog's services, health checking and reflection behind the interceptors."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from app import bootstrap
from app.api.grpc.catalog import SERVICES
from app.api.grpc.health import LIVENESS, ReadinessHealthServicer
from app.api.grpc.interceptors import default_interceptors
from app.bootstrap import Runtime
from app.config import Settings

__all__ = ["SERVICE_NAMES", "create_grpc_server", "grpc_address"]

#: The API's services by full name, as health checks and reflection know them.
SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)

_OPTIONS: Sequence[tuple[str, int]] = (
    # One server per port: a second process on the same port is an error, not a silent share.
    ("grpc.so_reuseport", 0),
)
#: The processes of one ``python -m app.api.grpc`` share its port; the kernel spreads the
#: connections over them. The parent checks the port is free first (see its docstring).
_SHARED_PORT_OPTIONS: Sequence[tuple[str, int]] = (("grpc.so_reuseport", 1),)


def connection_age_options(seconds: float) -> list[tuple[str, int]]:
    """gRPC's ``max_connection_age`` (0: none): a client's connection is closed, gracefully,
    after about ``seconds``, so it connects again and a load balancer on the client's side (or
    DNS of a headless Service) spreads it over the replicas there are now, new ones included.
    Calls in flight on it get as long again to finish."""
    if seconds <= 0:
        return []
    milliseconds = int(seconds * 1000)
    return [
        ("grpc.max_connection_age_ms", milliseconds),
        ("grpc.max_connection_age_grace_ms", milliseconds),
    ]


def grpc_address(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def create_grpc_server(
    settings: Settings,
    *,
    address: str | None = None,
    max_workers: int | None = None,
    health_servicer: health.HealthServicer | None = None,
    runtime: Runtime | None = None,
    share_port: bool = False,
) -> grpc.Server:
    """A gRPC server for ``settings``, not started.

    It listens (without TLS) on ``address`` when one is given. To learn an ephemeral port,
    leave ``address`` out and bind with ``server.add_insecure_port("127.0.0.1:0")``, which
    returns the port. Pass ``health_servicer`` to control health at shutdown: every service,
    ``""`` and :data:`~app.api.grpc.health.LIVENESS` start SERVING (the first two only while
    the database answers, as ``/readyz``). A ``runtime`` built by the caller is served instead of
    :func:`app.bootstrap.bootstrap` ``(settings)`` (a test that runs two services in one
    process gives each its own). ``share_port`` lets other processes bind the same port (the
    processes of ``python -m app.api.grpc`` with ``GRPC_PROCESSES`` above 1 do).
    """
    runtime = runtime or bootstrap.bootstrap(settings)
    server = grpc.server(
        futures.ThreadPoolExecutor(
            max_workers=max_workers or settings.grpc_max_workers, thread_name_prefix="grpc"
        ),
        interceptors=default_interceptors(runtime),
        options=[
            *(_SHARED_PORT_OPTIONS if share_port else _OPTIONS),
            *connection_age_options(settings.grpc_max_connection_age_seconds),
        ],
    )
    for service in SERVICES:
        service.add_to_server(runtime, server)

    health_servicer = health_servicer or ReadinessHealthServicer(runtime.database.ping)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", LIVENESS, *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    if address is not None:
        server.add_insecure_port(address)
    return server
