"""``invoke split notes`` makes a project that stands on its own: its tests pass against users.

The project is written into a temporary directory and its own test suite run there, in a
subprocess with this interpreter (no new virtualenv: the packages it needs are installed
here, ``common`` among them as the library it depends on), against the users service this
session started. Only the plugins the project uses are loaded.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.split.conftest import UsersFromThisCodeBase
from tools import split

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_the_notes_project_passes_its_own_tests_against_the_users_service(
    tmp_path: Path, users_side: UsersFromThisCodeBase, pg_database_url: str
) -> None:
    project = tmp_path / "notes"
    split.split("notes", project)
    assert not (project / "app" / "service" / "users").exists()
    assert (project / "tests/split/notes/test_stories.py").read_bytes() == (
        ROOT / "tests/split/notes/test_stories.py"
    ).read_bytes()

    env = {name: value for name, value in os.environ.items() if not name.startswith("COVERAGE")}
    env.update(
        USERS_SERVICE_ADDR=users_side.target,
        # The project's harness creates and drops its own databases on the same server.
        TEST_DATABASE_URL=pg_database_url,
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "common.testing.plugin", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b14 passed\b", output), output


def test_a_split_refuses_an_unknown_feature_and_a_directory_in_use(tmp_path: Path) -> None:
    with pytest.raises(split.SplitError, match="no manifest for 'users'"):
        split.split("users", tmp_path / "users")
    (tmp_path / "taken" / "file").parent.mkdir()
    (tmp_path / "taken" / "file").write_text("")
    with pytest.raises(split.SplitError, match="is not empty"):
        split.split("notes", tmp_path / "taken")
