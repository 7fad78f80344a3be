"""``python -m app.api.rest``: serve the REST API with gunicorn, configured by the environment.

``REST_HOST``, ``REST_PORT``, ``WEB_CONCURRENCY``, ``REST_THREADS``, ``REST_TIMEOUT``,
``REST_GRACEFUL_TIMEOUT`` and everything else :mod:`app.config` reads (see ``.env.example``).
"""

from __future__ import annotations

import sys

from app import config
from app.api.rest.server import RestServer
from common.config import ConfigurationError


def main() -> None:
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
    RestServer(settings).run()


if __name__ == "__main__":
    main()
