"""``python -m app.worker``: run a worker on every queue, configured only by the environment.

``WORKER_CONCURRENCY``, ``MAIL_*``/``SMTP_*`` and everything else :mod:`app.config` reads
(see ``.env.example``). The worker wakes on PostgreSQL notifications as jobs are committed
(and polls every 5 s besides), and schedules the periodic tasks. On SIGTERM or SIGINT it
takes no new job, lets the running ones finish, runs the shutdown hooks and exits 0; a
second signal stops it at once.
"""

from __future__ import annotations

import logging
import sys

from app import bootstrap, config
from app.worker.app import create_app
from common.config import ConfigurationError

logger = logging.getLogger("app.worker")


def main() -> int:
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
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
