"""Every silenced check says which check and why.

``# type: ignore`` must name its error codes (``# type: ignore[arg-type]``) and ``# noqa`` its
rule codes followed by `` - `` and a reason (``# noqa: S105 - a placeholder production
refuses``). mypy (ignore-without-code) and ruff (PGH) check the codes on the files they lint;
this test also checks the reasons, on every Python file of the repository that ruff lints.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_NOQA = re.compile(r"#\s*(?:ruff\s*:\s*)?noqa\b(?P<rest>.*)", re.IGNORECASE)
_NOQA_WITH_REASON = re.compile(r"^:\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*\s+-\s+\S")
_TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<rest>.*)")
_TYPE_IGNORE_WITH_CODE = re.compile(r"^\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]")


def suppression_problems(source: str) -> list[tuple[int, str]]:
    """``(line, comment)`` for each suppression comment in ``source`` that breaks the rules."""
    problems = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        comment = token.string
        noqa = _NOQA.search(comment)
        if noqa and not _NOQA_WITH_REASON.match(noqa["rest"]):
            problems.append((token.start[0], comment))
            continue
        ignore = _TYPE_IGNORE.search(comment)
        if ignore and not _TYPE_IGNORE_WITH_CODE.match(ignore["rest"]):
            problems.append((token.start[0], comment))
    return problems


def _excluded() -> list[Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [ROOT / path for path in config["tool"]["ruff"].get("extend-exclude", [])]


def python_files() -> Iterator[Path]:
    """The repository's Python files: hidden directories, caches and ruff's excludes skipped."""
    excluded = _excluded()
    for directory, subdirectories, files in os.walk(ROOT):
        here = Path(directory)
        subdirectories[:] = sorted(
            name
            for name in subdirectories
            if not name.startswith(".")
            and name not in {"__pycache__", "build", "dist", "node_modules"}
            and here / name not in excluded
        )
        for name in sorted(files):
            if name.endswith((".py", ".pyi")):
                yield here / name


@pytest.mark.parametrize(
    "line",
    [
        "x = 1  # noqa",
        "x = 1  # noqa: E501",
        "x = 1  # noqa:E501,S105",
        "x = 1  # noqa: S105 -",
        "# ruff: noqa",
        "x = f()  # type: ignore",
        "x = f()  # type:ignore",
        "x = f()  # type: ignore # noqa: E501 - too long",
        "x = f()  # type: ignore[]",
    ],
)
def test_a_suppression_without_code_or_reason_is_reported(line: str) -> None:
    assert suppression_problems(line + "\n") == [(1, line[line.index("#") :])]


@pytest.mark.parametrize(
    "line",
    [
        "x = 1  # noqa: S105 - a placeholder production refuses",
        "x = 1  # noqa: S603, S607 - the binaries are found on PATH on purpose",
        "x = f()  # type: ignore[import-untyped]",
        "x = f()  # type: ignore[arg-type, return-value]",
        "x = f()  # type: ignore[misc]  # noqa: E501 - a long generated name",
        'x = "# noqa and # type: ignore inside a string are not comments"',
    ],
)
def test_a_suppression_with_code_and_reason_passes(line: str) -> None:
    assert suppression_problems(line + "\n") == []


def test_the_file_walk_sees_the_project_but_not_the_excluded_code() -> None:
    seen = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {"tasks.py", "app/bootstrap.py", "common/src/common/db.py", "tests/conftest.py"} <= seen
    assert not any(path.startswith((".venv/", "app/api/grpc/generated/")) for path in seen)


def test_no_suppression_in_the_repository_lacks_its_code_or_reason() -> None:
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {comment}"
        for path in python_files()
        for line, comment in suppression_problems(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "\n".join(problems)
