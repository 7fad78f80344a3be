"""Generate the gRPC package ``app.api.grpc.generated`` from ``proto/`` (``invoke proto``).

The ``.proto`` files live under ``proto/`` at the path their Python modules get
(``proto/app/api/grpc/generated/v1/users.proto`` becomes ``app.api.grpc.generated.v1.users_pb2``),
so the generated modules import each other by their full package path. protoc (from
grpcio-tools) writes the messages and stubs, mypy-protobuf the ``.pyi`` files; the package's
``__init__.py`` files are written here. The output is committed; ``--check`` (and a test)
fails when it differs from what the ``.proto`` files give.

    python -m tools.protogen           # regenerate app/api/grpc/generated
    python -m tools.protogen --check   # exit 1 and name the stale files
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["GENERATED", "PACKAGE", "PROTO_ROOT", "differences", "generate", "main", "stale_files"]

ROOT = Path(__file__).resolve().parent.parent
#: The include root: a proto's path below it is its Python module's path.
PROTO_ROOT = ROOT / "proto"
#: The generated package, relative to the include root and to the project root alike.
PACKAGE = Path("app", "api", "grpc", "generated")
GENERATED = ROOT / PACKAGE

_INIT = {
    PACKAGE: '"""Code generated from ``proto/`` by ``invoke proto``; do not edit."""\n',
    PACKAGE / "v1": '"""The ``backend.v1`` protobuf package: messages, stubs and servicers."""\n',
}
_PLUGINS = ("protoc-gen-mypy", "protoc-gen-mypy_grpc")


class ProtocError(RuntimeError):
    """protoc refused the ``.proto`` files; the message is its output."""


def _plugin(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise ProtocError(f"{name} not found: install the dev dependencies (mypy-protobuf)")
    return found


def generate(out_root: Path) -> list[Path]:
    """Write the generated package under ``out_root`` (``out_root/app/api/grpc/generated``)."""
    protos = sorted((PROTO_ROOT / PACKAGE).rglob("*.proto"))
    if not protos:
        raise ProtocError(f"no .proto files under {PROTO_ROOT / PACKAGE}")
    out = str(out_root)
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        *(f"--plugin={name}={_plugin(name)}" for name in _PLUGINS),
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *(str(proto.relative_to(PROTO_ROOT)) for proto in protos),
    ]
    result = subprocess.run(command, cwd=PROTO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProtocError((result.stderr or result.stdout).strip())
    for package, docstring in _INIT.items():
        (out_root / package).mkdir(parents=True, exist_ok=True)
        (out_root / package / "__init__.py").write_text(docstring)
    return sorted(path for path in (out_root / PACKAGE).rglob("*") if path.is_file())


def _files(directory: Path) -> set[Path]:
    return {
        path.relative_to(directory)
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences(fresh: Path, committed: Path) -> list[str]:
    """Files missing from, extra in or different in ``committed`` compared with ``fresh``."""
    ours = _files(fresh)
    theirs = _files(committed) if committed.is_dir() else set()
    stale = ours ^ theirs
    stale |= {
        name
        for name in ours & theirs
        if not filecmp.cmp(fresh / name, committed / name, shallow=False)
    }
    return sorted(str(PACKAGE / name) for name in stale)


def stale_files(committed: Path = GENERATED) -> list[str]:
    """The generated files that differ from what the ``.proto`` files give now."""
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        return differences(Path(scratch) / PACKAGE, committed)


def write(target: Path = GENERATED) -> None:
    """Replace ``target`` with a fresh generation (removing files no proto makes any more)."""
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(Path(scratch) / PACKAGE, target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.protogen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="only report stale generated files (exit 1)"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files()
            for name in stale:
                print(f"stale: {name}", file=sys.stderr)
            if stale:
                print("run `invoke proto` and commit the result", file=sys.stderr)
            return 1 if stale else 0
        write()
    except ProtocError as exc:
        print(f"protoc failed:\n{exc}", file=sys.stderr)
        return 2
    print(f"generated {GENERATED.relative_to(ROOT)} from {PROTO_ROOT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
