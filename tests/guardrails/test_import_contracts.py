"""The import contracts fail when broken: lint a copy of the tree with forbidden imports added.

Each run copies ``app/``, ``common/`` and ``pyproject.toml`` to a temporary directory and runs
the real ``lint-imports`` there (the copy of ``common`` first on the path, so the installed one
is not analysed instead). Every forbidden import goes into one copy, linted once: each must
be named under its own contract in the report (a run costs about half a second).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@dataclass(frozen=True)
class Breach:
    """One forbidden import, the contract it breaks and the import chain that must be named."""

    name: str
    path: str
    statement: str
    contract: str
    chain: str


BREACHES = [
    Breach(
        "a web framework in the service layer",
        "app/service/notes/service.py",
        "import flask",
        "transport-free",
        "app.service.notes.service -> flask",
    ),
    Breach(
        "the data layer importing an adapter",
        "app/db/base.py",
        "import app.api",
        "layers",
        "app.db.base -> app.api",
    ),
    Breach(
        "the shared library importing the app",
        "common/src/common/errors.py",
        "import app",
        "common-standalone",
        "common.errors -> app",
    ),
    Breach(
        "the job queue library in the service layer",
        "app/service/notifications/service.py",
        "import procrastinate",
        "queue-free",
        "app.service.notifications.service -> procrastinate",
    ),
    Breach(
        "notes reaching into users' tables",
        "app/service/notes/service.py",
        "from app.db.users.repository import UserRepository",
        "users-tables-private",
        "app.service.notes.service -> app.db.users.repository",
    ),
    Breach(
        "notes asking auth directly instead of its port",
        "app/service/notes/service.py",
        "from app.service.auth.service import AuthService",
        "notes-through-its-port",
        "app.service.notes.service -> app.service.auth.service",
    ),
]


def _contract_names() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return {contract["id"]: contract["name"] for contract in contracts}


def _copy_tree(destination: Path) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "app", destination / "app", ignore=skip)
    shutil.copytree(ROOT / "common" / "src", destination / "common" / "src", ignore=skip)
    shutil.copy2(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def _start_lint(tree: Path) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(tree / "common" / "src"),
        # One contract per line, however long its name, and no colours.
        "COLUMNS": "400",
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _statuses(output: str) -> dict[str, str]:
    """``{contract name: "KEPT" | "BROKEN"}`` from lint-imports' summary lines."""
    line = r"^(.+?) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?$"
    return dict(re.findall(line, output, flags=re.MULTILINE))


def test_the_tree_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    process = _start_lint(_copy_tree(tmp_path))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert _statuses(output) == dict.fromkeys(_contract_names().values(), "KEPT"), output


def _broken_sections(output: str) -> dict[str, str]:
    """``{contract name: its part of the report}`` for the contracts lint-imports found broken.

    In the report each broken contract's name is underlined with dashes, and the import
    chains that break it follow until the next name.
    """
    report = output.partition("Broken contracts\n")[2]
    lines = report.splitlines()
    starts = [
        index
        for index in range(len(lines) - 1)
        if lines[index] and lines[index + 1] == "-" * len(lines[index])
    ]
    ends = [*starts[1:], len(lines)]
    return {
        lines[start]: "\n".join(lines[start + 2 : end])
        for start, end in zip(starts, ends, strict=True)
    }


@pytest.mark.slow
def test_each_forbidden_import_breaks_its_contract(tmp_path: Path) -> None:
    names = _contract_names()
    tree = _copy_tree(tmp_path)
    for breach in BREACHES:
        with (tree / breach.path).open("a") as module:
            module.write(f"\n{breach.statement}  # a forbidden import under test\n")
    process = _start_lint(tree)
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0, output
    broken = _broken_sections(output)

    problems = []
    for breach in BREACHES:
        contract = names[breach.contract]
        if contract not in broken:
            problems.append(f"{breach.name}: {contract!r} not reported broken")
        elif breach.chain + " (l." not in broken[contract]:
            problems.append(f"{breach.name}: {breach.chain!r} not named under {contract!r}")
    assert not problems, "\n".join(problems) + "\n\n" + output


def test_the_report_is_read_contract_by_contract() -> None:
    report = (
        "x KEPT\n\nBroken contracts\n----------------\n\nFirst contract\n--------------\n\n"
        "-   a -> b (l.1)\n\n\nSecond one\n----------\n\n-   c -> d (l.2)\n"
    )
    sections = _broken_sections(report)
    assert list(sections) == ["First contract", "Second one"]
    assert "a -> b (l.1)" in sections["First contract"]
    assert "c -> d" not in sections["First contract"]
