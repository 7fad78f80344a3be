"""The committed generated code matches the ``.proto`` files (``invoke proto`` regenerates it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import protogen


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package generated now from ``proto/``, in a scratch directory."""
    out = tmp_path_factory.mktemp("protogen")
    protogen.generate(out)
    return out / protogen.PACKAGE


def test_the_committed_generated_code_is_current(fresh: Path) -> None:
    stale = protogen.differences(fresh, protogen.GENERATED)
    assert stale == [], f"stale generated code, run `invoke proto`: {stale}"
    assert (fresh / "v1" / "notes_pb2.pyi").is_file()
    assert (fresh / "v1" / "notes_pb2_grpc.pyi").is_file()


def test_edited_missing_and_leftover_files_are_named(fresh: Path, tmp_path: Path) -> None:
    committed = tmp_path / "generated"
    shutil.copytree(fresh, committed)
    with (committed / "v1" / "users_pb2.py").open("a") as edited:
        edited.write("# edited by hand\n")
    (committed / "v1" / "notes_pb2_grpc.pyi").unlink()
    (committed / "v1" / "old_pb2.py").write_text("")
    (committed / "v1" / "__pycache__").mkdir()
    (committed / "v1" / "__pycache__" / "users_pb2.cpython-311.pyc").write_bytes(b"")
    package = "app/api/grpc/generated/v1/"
    assert protogen.differences(fresh, committed) == [
        package + "notes_pb2_grpc.pyi",
        package + "old_pb2.py",
        package + "users_pb2.py",
    ]


def test_protoc_errors_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proto = tmp_path / protogen.PACKAGE / "v1" / "broken.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(
        'syntax = "proto3";\npackage backend.v1;\nmessage Broken { strin name = 1; }\n'
    )
    monkeypatch.setattr(protogen, "PROTO_ROOT", tmp_path)
    with pytest.raises(protogen.ProtocError, match=r"broken\.proto"):
        protogen.generate(tmp_path / "out")
