"""gunicorn, run from Python with options taken from :class:`~app.config.Settings` only.

Each worker builds its own runtime after the fork (no preloading: connections must not be
shared across processes), then settles its heap (:func:`~common.lifecycle.settle_for_serving`),
and runs the shutdown hooks when it exits. On SIGTERM gunicorn stops accepting, lets workers
finish in-flight requests for ``REST_GRACEFUL_TIMEOUT`` seconds, and exits 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from app import bootstrap
from app.config import Settings
from common.lifecycle import settle_for_serving

__all__ = ["RestServer", "gunicorn_options", "post_worker_init", "worker_exit"]

logger = logging.getLogger(__name__)


def post_worker_init(worker: object) -> None:
    """gunicorn hook, in the worker process once it has built the app: settle its heap."""
    settle_for_serving()


def worker_exit(server: object, worker: object) -> None:
    """gunicorn hook, in the worker process as it exits: run the shutdown hooks."""
    bootstrap.shutdown()
    logger.info("worker %s stopped; shutdown hooks ran", getattr(worker, "pid", "?"))


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    host = settings.rest_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return {
        "bind": [f"{host}:{settings.rest_port}"],
        "workers": settings.web_concurrency,
        "threads": settings.rest_threads,
        "worker_class": "sync" if settings.rest_threads == 1 else "gthread",
        "timeout": settings.rest_timeout,
        "graceful_timeout": settings.rest_graceful_timeout,
        "loglevel": settings.log_level.lower(),
        "errorlog": "-",
        "accesslog": None,  # the app writes its own, with the request id
        "proc_name": "app-rest",
        "preload_app": False,
        "control_socket_disable": True,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
    }


class RestServer(BaseApplication):  # type: ignore[misc]
    """``RestServer(settings).run()`` serves ``app_factory()`` (each worker calls it)."""

    def __init__(
        self,
        settings: Settings,
        app_factory: Callable[[], Any] | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.options = {**gunicorn_options(settings), **(overrides or {})}
        self.settings = settings
        self.app_factory = app_factory
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        if self.app_factory is not None:
            return self.app_factory()
        from app.api.rest.app import create_app  # in the worker, after the fork

        return create_app(self.settings)
