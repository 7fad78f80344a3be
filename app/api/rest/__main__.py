"""``python -m app.api.rest``: serve the REST API with uvicorn, configured by the environment.

``REST_HOST``, ``REST_PORT``, ``WEB_CONCURRENCY``, ``REST_THREADS``, ``REST_READ_TIMEOUT_SECONDS``,
``REST_GRACEFUL_TIMEOUT`` and everything else :mod:`app.config` reads (see ``.env.example``).
Prints ``REST  http://HOST:PORT`` once it listens. ``python -m app.api.rest openapi`` prints
the OpenAPI document instead (no settings needed).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app import config
from app.api.rest import openapi
from app.api.rest.server import RestServer
from common.config import ConfigurationError

USAGE = "usage: python -m app.api.rest [openapi]"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["openapi"]:
        sys.stdout.write(openapi.render())
        return 0
    if args:
        sys.exit(USAGE)
    try:
        settings = config.load()
    except ConfigurationError as exc:
        sys.exit(str(exc))
    return RestServer(settings).run()


if __name__ == "__main__":
    sys.exit(main())
