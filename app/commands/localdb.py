"""``python -m app.commands.localdb``: the development database (``invoke db.*`` asks it).

    url      print the URL to use: DATABASE_URL when set (environment or .env), else the
             local database's, started first when needed (the only line on stdout)
    start    the same, saying what was done
    stop     stop the local database servers under the data directory (the data stays)
    status   which database the tasks would use, and the state of the local servers

The choice and the servers are :mod:`common.localdb`'s; the data lives in ``.data/`` of the
current directory unless ``--data-dir`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import make_url

from common import localdb
from common.postgres import Unusable

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.commands.localdb",
        description="The development database: DATABASE_URL, else a local PostgreSQL.",
    )
    parser.add_argument("command", choices=("url", "start", "stop", "status"))
    parser.add_argument("--data-dir", type=Path, default=Path(".data"), help="default: .data")
    parser.add_argument(
        "--database",
        default=localdb.DEFAULT_DATABASE,
        help=f"the application database (default: {localdb.DEFAULT_DATABASE})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in ("url", "start"):
            resolved = localdb.ensure(args.data_dir, database=args.database)
            if args.command == "url":
                if resolved.source is not localdb.Source.CONFIGURED:
                    print(f"database: {resolved.description}", file=sys.stderr)
                print(resolved.url)
            else:
                print(f"{resolved.description}\n{resolved.url}")
        elif args.command == "stop":
            _stop(args.data_dir)
        else:
            _status(args.data_dir)
    except (localdb.LocalDatabaseError, Unusable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _stop(data_dir: Path) -> None:
    stopped = [
        (source, cluster)
        for source, cluster in localdb.clusters(data_dir).items()
        if cluster.stop()
    ]
    for source, cluster in stopped:
        print(f"stopped the {source} in {cluster.pgdata}")
    if not stopped:
        print(f"no local database server was running in {data_dir.absolute()}")


def _status(data_dir: Path) -> None:
    choice = localdb.choose(data_dir)
    if choice.url is not None:
        shown = make_url(choice.url).render_as_string(hide_password=True)
        print(f"in use: {shown} ({choice.reason})")
    elif choice.cluster is not None:
        print(f"in use: the {choice.source} in {choice.cluster.pgdata} ({choice.reason})")
    for source, cluster in localdb.clusters(data_dir).items():
        if cluster.running():
            print(f"{source}: running, {cluster.url(localdb.DEFAULT_DATABASE)}")
        elif cluster.initialised():
            print(f"{source}: stopped, data in {cluster.pgdata}")
        else:
            print(f"{source}: not created")


if __name__ == "__main__":
    sys.exit(main())
