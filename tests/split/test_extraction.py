"""``invoke split notes`` makes a project that stands on its own: its tests pass against users.

The project is written into a temporary directory and its own test suite run there against
the users service this session started: quickly, with this interpreter (the packages it needs
are installed here, ``common`` among them as the library it depends on, and only the plugins
the project uses are loaded); and, in the long tier, as its README says, with its own
``invoke test``, which makes the project's ``.venv`` from its locks first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

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
    output = _passes(
        project,
        env,
        [sys.executable, "-m", "pytest", "-p", "common.testing.plugin", "-q"],
        timeout=120,
    )
    assert re.search(r"\b14 passed\b", output), output


def _passes(project: Path, env: dict[str, str], command: list[str], *, timeout: float) -> str:
    """What ``command`` printed in ``project``, once it exited 0."""
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_notes_project_has_the_templates_shape(tmp_path: Path) -> None:
    """Its own tasks, README quick start, compose file and locks, pointing at this common/."""
    project = tmp_path / "notes"
    split.split("notes", project)
    for path in ("tasks.py", "tools/devenv.py", "README.md", "compose.yaml", "Dockerfile"):
        assert (project / path).is_file(), path
    for lock in ("main.txt", "dev.txt", "pip.txt"):
        assert (project / "requirements" / lock).is_file(), lock
    written = [
        project / name for name in ("tasks.py", "README.md", "compose.yaml", "pyproject.toml")
    ]
    assert not [path.name for path in written if split.COMMON_MARKER in path.read_text()]

    listed = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert {"test", "serve", "setup", "lock", "migrate", "db.stop"} <= set(
        re.findall(r"^  (\S+)", listed, re.M)
    )

    readme = (project / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert quick_start.splitlines()[-2:] == ["invoke test", "invoke serve"]

    compose = yaml.safe_load((project / "compose.yaml").read_text())
    assert {"postgres", "migrate", "web", "grpc"} <= set(compose["services"])
    common = compose["x-app"]["build"]["additional_contexts"]["common"]
    assert (project / common / "pyproject.toml").resolve() == ROOT / "common" / "pyproject.toml"


@pytest.mark.long
def test_the_notes_projects_own_invoke_test_passes_against_the_users_service(
    tmp_path: Path, users_side: UsersFromThisCodeBase, pg_database_url: str
) -> None:
    """As a new owner runs it: ``invoke test`` makes ``.venv`` from the locks, then tests."""
    project = tmp_path / "notes"
    split.split("notes", project)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("COVERAGE", "PYTEST", "VIRTUAL_ENV"))
    }
    env.update(USERS_SERVICE_ADDR=users_side.target, TEST_DATABASE_URL=pg_database_url)
    output = _passes(project, env, [sys.executable, "-m", "invoke", "test"], timeout=900)
    assert "setting up .venv from requirements/dev.txt" in output
    assert re.search(r"\b14 passed\b", output), output


def test_a_split_refuses_an_unknown_feature_and_a_directory_in_use(tmp_path: Path) -> None:
    with pytest.raises(split.SplitError, match="no manifest for 'users'"):
        split.split("users", tmp_path / "users")
    (tmp_path / "taken" / "file").parent.mkdir()
    (tmp_path / "taken" / "file").write_text("")
    with pytest.raises(split.SplitError, match="is not empty"):
        split.split("notes", tmp_path / "taken")
