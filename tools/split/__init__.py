"""Copy a feature out of this code base into a project of its own: ``invoke split notes --to DIR``.

A :class:`Manifest` names, explicitly, every path copied byte for byte (the feature's
service, tables, adapters and generated gRPC code, the shared modules they stand on, the
entry points, and the test harness with its stories) and a directory of files written for
the new service instead: its composition root, the lists of what its REST and gRPC APIs
serve, its table list and first migration, its packaging and image, and the fixtures that
point its tests at the users service. Nothing copied is edited; ``docs/splitting-a-service.md`` walks
through the same steps by hand.

The project depends on ``common`` as a library (a path dependency on this repository's
``common/``, until it is published) and keeps its own Alembic history, for notes' table only.

    python -m tools.split notes --to ../notes-service
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MANIFESTS", "NOTES", "ROOT", "Manifest", "SplitError", "main", "split"]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
#: Templates named ``*.template`` lose the suffix; ``@COMMON@`` in them becomes the path of
#: ``common/`` relative to the new project.
TEMPLATE_SUFFIX = ".template"
COMMON_MARKER = "@COMMON@"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


class SplitError(RuntimeError):
    """The split cannot be made (unknown feature, a destination that is not empty, ...)."""


@dataclass(frozen=True)
class Manifest:
    """What a feature's own project is made of."""

    feature: str
    #: Files and directories copied as they are, relative to the repository.
    copied: tuple[str, ...]
    #: The files written for the new service, laid out as in the new project.
    written: Path


NOTES = Manifest(
    "notes",
    copied=(
        # the feature: service, port, tables, and the adapters of its port to users
        "app/__init__.py",
        "app/config.py",
        "app/service/__init__.py",
        "app/service/pagination.py",
        "app/service/validation.py",
        "app/service/notes",
        "app/db/__init__.py",
        "app/db/base.py",
        "app/db/notes",
        "app/remote/__init__.py",
        "app/remote/grpc.py",
        "app/remote/users.py",
        # the entry points: REST
        "app/api/__init__.py",
        "app/api/rest/__init__.py",
        "app/api/rest/__main__.py",
        "app/api/rest/app.py",
        "app/api/rest/server.py",
        "app/api/rest/asgi.py",
        "app/api/rest/protocol.py",
        "app/api/rest/context.py",
        "app/api/rest/errors.py",
        "app/api/rest/middleware.py",
        "app/api/rest/payloads.py",
        "app/api/rest/operations.py",
        "app/api/rest/health.py",
        "app/api/rest/openapi.py",
        "app/api/rest/notes.py",
        "app/api/rest/schemas/base.py",
        "app/api/rest/schemas/notes.py",
        # invoke serve and the local database (the commands' package is written below)
        "app/commands/serve.py",
        "app/commands/localdb.py",
        "tools/devenv.py",
        # the entry points: gRPC (the generated code for users too: notes is its client)
        "app/api/grpc/__init__.py",
        "app/api/grpc/__main__.py",
        "app/api/grpc/server.py",
        "app/api/grpc/served.py",
        "app/api/grpc/context.py",
        "app/api/grpc/errors.py",
        "app/api/grpc/health.py",
        "app/api/grpc/interceptors.py",
        "app/api/grpc/messages.py",
        "app/api/grpc/notes.py",
        "app/api/grpc/user_events.py",
        "app/api/grpc/generated",
        "proto",
        # migrations: the environment (the history is notes' own, written below)
        "alembic.ini",
        "migrations/env.py",
        "migrations/script.py.mako",
        # the image: the monolith's locks (a superset of what notes needs until it is locked
        # again) and build context rules; the Dockerfile is written below
        "requirements/main.txt",
        "requirements/dev.txt",
        "requirements/pip.txt",
        ".dockerignore",
        # the test harness: the parity clients and the notes stories
        "tests/__init__.py",
        "tests/api/__init__.py",
        "tests/api/grpc/__init__.py",
        "tests/api/grpc/support.py",
        "tests/api/parity/__init__.py",
        "tests/api/parity/clients.py",
        "tests/split/__init__.py",
        "tests/split/notes",
    ),
    written=HERE / "notes",
)

MANIFESTS: Mapping[str, Manifest] = {NOTES.feature: NOTES}


def split(feature: str, destination: Path, *, root: Path = ROOT) -> list[Path]:
    """Write ``feature``'s project into ``destination`` (absent or empty); the files written."""
    manifest = MANIFESTS.get(feature)
    if manifest is None:
        raise SplitError(f"no manifest for {feature!r}; known: {', '.join(sorted(MANIFESTS))}")
    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        raise SplitError(f"{destination} is not empty")
    for path in manifest.copied:
        source = root / path
        if not source.exists():
            raise SplitError(f"the manifest names {path}, which does not exist")
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=_SKIP)
        else:
            shutil.copy2(source, target)
    common = Path(os.path.relpath(root / "common", destination)).as_posix()
    for template in sorted(manifest.written.rglob("*")):
        if not template.is_file() or "__pycache__" in template.parts:
            continue
        relative = template.relative_to(manifest.written)
        target = destination / str(relative).removesuffix(TEMPLATE_SUFFIX)
        if target.exists():
            raise SplitError(f"{relative} is both copied and written")
        target.parent.mkdir(parents=True, exist_ok=True)
        if template.name.endswith(TEMPLATE_SUFFIX):
            target.write_text(template.read_text().replace(COMMON_MARKER, common))
        else:
            shutil.copy2(template, target)
    return sorted(path for path in destination.rglob("*") if path.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.split", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("feature", choices=sorted(MANIFESTS))
    parser.add_argument("--to", required=True, type=Path, help="the new project's directory")
    args = parser.parse_args(argv)
    try:
        files = split(args.feature, args.to)
    except SplitError as exc:
        print(f"split: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {args.to}; next: docs/splitting-a-service.md")
    return 0
