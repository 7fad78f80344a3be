"""``python -m app.api.grpc``: serve the gRPC API, configured only by the environment.

``GRPC_HOST``, ``GRPC_PORT`` (0 picks a free port), ``GRPC_MAX_WORKERS``,
``GRPC_GRACE_SECONDS`` and everything else :mod:`app.config` reads (see ``.env.example``).
Prints ``gRPC  HOST:PORT`` once it listens. On SIGTERM or SIGINT the health service turns
NOT_SERVING, the server stops taking RPCs and gives in-flight ones ``GRPC_GRACE_SECONDS`` to
finish, the shutdown hooks run, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from grpc_health.v1 import health

from app import bootstrap, config
from app.api.grpc.server import create_grpc_server, grpc_address
from common.config import ConfigurationError

logger = logging.getLogger("app.api.grpc")


def main() -> int:
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)

    health_servicer = health.HealthServicer()
    server = create_grpc_server(settings, health_servicer=health_servicer)
    port = server.add_insecure_port(grpc_address(settings.grpc_host, settings.grpc_port))
    server.start()
    address = grpc_address(settings.grpc_host, port)
    sys.stdout.write(f"gRPC  {address}\n")
    sys.stdout.flush()
    logger.info("serving gRPC on %s", address)

    stopping.wait()
    logger.info("stopping: finishing in-flight RPCs (%ss at most)", settings.grpc_grace_seconds)
    health_servicer.enter_graceful_shutdown()
    server.stop(settings.grpc_grace_seconds).wait()
    bootstrap.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
