"""``python -m app.worker``: run a worker on every queue, configured only by the environment.

``WORKER_CONCURRENCY``, ``MAIL_*``/``SMTP_*`` and everything else :mod:`app.config` reads
(see ``.env.example``). The worker wakes on PostgreSQL notifications as jobs are committed
(and polls every ``WORKER_POLLING_SECONDS`` besides; only that with ``WORKER_LISTEN_NOTIFY``
false), and schedules the periodic tasks. Its metrics are on ``WORKER_METRICS_PORT``. On
SIGTERM or SIGINT it takes no new job, lets the running ones finish, runs the shutdown hooks and exits 0; a
second signal stops it at once.
"""

from __future__ import annotations

import logging
import sys

from app import bootstrap, config
from app.worker.app import create_app
from common import metrics
from common.config import ConfigurationError
from common.logs import configure_logging

logger = logging.getLogger("app.worker")


def main() -> int:
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
    configure_logging(settings.log_level, json_lines=settings.structured_logs)
    if settings.metrics_enabled:
        metrics.prepare_directory()
        metrics.serve_at_start(
            settings.metrics_host, settings.worker_metrics_port, "WORKER_METRICS_PORT"
        )
    runtime = bootstrap.bootstrap(settings)
    try:
        logger.info(
            "starting the worker: concurrency %d, mail backend %s",
            settings.worker_concurrency,
            settings.mail_backend,
        )
        create_app(runtime).run_worker()
    finally:
        bootstrap.shutdown()
        logger.info("worker stopped; shutdown hooks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
