"""The pre-commit hooks are valid and run the same locked tools as ``invoke lint``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

from pre_commit.clientlib import load_config  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> list[dict[str, Any]]:
    # pre-commit's own loader: it validates the schema (languages, keys) as `pre-commit run` does.
    config: dict[str, Any] = load_config(str(ROOT / ".pre-commit-config.yaml"))
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_ruff_the_formatter_mypy_and_the_import_contracts_are_hooked() -> None:
    programs = {Path(shlex.split(hook["entry"])[0]).name for hook in _hooks()}
    assert programs == {"ruff", "mypy", "lint-imports"}
    commands = {shlex.join(shlex.split(hook["entry"])[:2]) for hook in _hooks()}
    assert {".venv/bin/ruff check", ".venv/bin/ruff format"} <= commands


def test_every_hook_runs_a_tool_of_the_project_virtualenv() -> None:
    config: dict[str, Any] = load_config(str(ROOT / ".pre-commit-config.yaml"))
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    for hook in _hooks():
        program = shlex.split(hook["entry"])[0]
        assert hook["language"] == "unsupported", hook["id"]
        assert program.startswith(".venv/bin/"), hook["id"]
        assert os.access(ROOT / program, os.X_OK), f"{hook['id']}: {program} is not installed"
