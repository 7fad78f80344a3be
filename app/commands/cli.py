"""The management commands: create a user, seed sample data, reset the database."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from sqlalchemy import text

from app import bootstrap
from app.config import Settings
from app.db.jobs import drop_job_queue
from app.db.models import metadata
from common.config import ConfigurationError
from common.errors import ServiceError

__all__ = ["main"]

SAMPLE_PASSWORD = "sample-password-1"  # noqa: S105 - documented sample data for local use


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.commands", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-user", help="register a user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", dest="display_name", required=True)
    create.add_argument("--password", help="prompted for when omitted")

    seed = commands.add_parser("seed", help="add sample users with notes (idempotent)")
    seed.add_argument("--users", type=int, default=3)
    seed.add_argument("--notes", type=int, default=5, help="notes per user")

    reset = commands.add_parser("reset-db", help="drop every table (refused when deployed)")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        runtime = bootstrap.bootstrap(settings)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        if args.command == "create-user":
            return _create_user(runtime, args)
        if args.command == "seed":
            return _seed(runtime, args.users, args.notes)
        return _reset(runtime, confirmed=args.yes)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for field, problem in getattr(exc, "fields", {}).items():
            print(f"  {field}: {problem}", file=sys.stderr)
        return 1
    finally:
        bootstrap.shutdown()


def _create_user(runtime: bootstrap.Runtime, args: argparse.Namespace) -> int:
    password = args.password or getpass.getpass("password: ")
    with runtime.services_scope() as services:
        user = services.users.register(
            email=args.email, display_name=args.display_name, password=password
        )
    print(f"created user {user.id} <{user.email}>")
    return 0


def _seed(runtime: bootstrap.Runtime, users: int, notes: int) -> int:
    created = 0
    for number in range(1, users + 1):
        email = f"sample{number}@example.com"
        with runtime.services_scope() as services:
            try:
                user = services.users.register(
                    email=email, display_name=f"Sample User {number}", password=SAMPLE_PASSWORD
                )
            except ServiceError:
                continue  # already seeded
            for index in range(1, notes + 1):
                services.notes.create(
                    user.id, title=f"Sample note {index}", body=f"Note {index} of {email}."
                )
            created += 1
    print(f"seeded {created} new user(s); sample password: {SAMPLE_PASSWORD}")
    return 0


def _reset(runtime: bootstrap.Runtime, *, confirmed: bool) -> int:
    if runtime.settings.app_env.is_deployed:
        print(f"refusing to reset a {runtime.settings.app_env} database", file=sys.stderr)
        return 1
    url = runtime.database.engine.url.render_as_string(hide_password=True)
    if not confirmed and input(f"drop every table in {url}? [y/N] ").lower() != "y":
        return 1
    with runtime.unit_of_work(), runtime.database.engine.begin() as connection:
        metadata.drop_all(connection)
        drop_job_queue(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    print(f"dropped every table in {url}")
    return 0
