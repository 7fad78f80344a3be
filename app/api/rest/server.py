"""uvicorn, run from Python with options taken from :class:`~app.config.Settings` only.

``WEB_CONCURRENCY`` worker processes share one listening socket, bound here first (so port 0
picks a free port, and ``REST  http://HOST:PORT`` is printed once it listens); each builds its
own runtime as it starts (:mod:`app.api.rest.asgi`) and restarts if it dies. Their metrics go
to one directory (:func:`common.metrics.prepare_directory`), and ``GET /metrics`` on any of
them sums them all. On SIGTERM or
SIGINT every worker stops accepting, finishes what it was answering within
``REST_GRACEFUL_TIMEOUT`` seconds, runs its shutdown hooks, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import sys

from uvicorn import Server
from uvicorn.supervisors import Multiprocess

from app.api.rest.protocol import RestConfig, RestProtocol
from app.config import Settings
from common import metrics
from common.logs import configure_logging

__all__ = ["ASGI_FACTORY", "KEEP_ALIVE_SECONDS", "RestServer", "uvicorn_config"]

logger = logging.getLogger(__name__)

#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_SECONDS = 75
#: What uvicorn imports in each worker process, and calls for the app.
ASGI_FACTORY = "app.api.rest.asgi:create_asgi_app"


def uvicorn_config(settings: Settings) -> RestConfig:
    return RestConfig(
        ASGI_FACTORY,
        factory=True,
        host=settings.rest_host.strip("[]"),
        port=settings.rest_port,
        workers=settings.web_concurrency,
        http=RestProtocol,
        lifespan="on",
        log_config=None,  # the app's own logging (common.logs)
        access_log=False,  # the app writes its own, with the request id
        server_header=False,
        # Longer than the idle timeout of the load balancers in front (60 s is common): the one
        # in front, not the server, closes an idle connection, which it then does not reuse.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=settings.rest_graceful_timeout,
        proxy_headers=True,
        forwarded_allow_ips=settings.rest_forwarded_allow_ips,
        read_timeout=settings.rest_read_timeout_seconds,
        max_header_bytes=settings.rest_max_header_bytes,
    )


class RestServer:
    """``RestServer(settings).run()`` serves until SIGTERM or SIGINT; its exit status."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = uvicorn_config(settings)

    def run(self) -> int:
        settings = self.settings
        configure_logging(settings.log_level, json_lines=settings.structured_logs)
        if settings.metrics_enabled:
            metrics.prepare_directory()  # before a worker counts anything (common.metrics)
        sock = self.config.bind_socket()
        sock.listen(self.config.backlog)  # connections wait for the workers from now on
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        sys.stdout.write(f"REST  http://{shown}:{port}\n")
        sys.stdout.flush()
        # uvicorn stops on these, then raises them again as it returns, to the handlers it
        # found: with these, the process goes on to exit 0, as a stop asked for should.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda signum, frame: None)
        server = Server(self.config)
        if self.config.workers > 1:
            Multiprocess(self.config, sockets=[sock]).run()
            return 0
        server.run(sockets=[sock])
        return 0 if server.started else 3  # 3: as uvicorn's own command, the app did not start
