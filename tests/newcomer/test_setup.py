"""The bare-machine way in: ``pip install invoke`` and ``invoke setup`` with the pip Python bundles.

A tier of its own (``invoke test --tier newcomer``, run by CI): it installs every locked package.

The pip a Python bundles may be older than the locks need (pip 23 refuses an extra a locked
package asks for, such as ``coverage[toml]``, as unpinned in hash mode), so a venv made with
pip installs the hash-pinned pip of ``requirements/pip.txt`` first. This runs it for real: a
copy of the project, a venv made ``--without-pip`` and given the running Python's bundled pip
by ``ensurepip``, no uv on ``PATH``, and only the package index to download from.
"""

from __future__ import annotations

import ensurepip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.env.files import ROOT

LOCKED_PIP = re.search(r"^pip==(\S+)", (ROOT / "requirements" / "pip.txt").read_text(), re.M)


def _tracked_copy(destination: Path) -> None:
    files = subprocess.run(
        [
            shutil.which("git") or "git",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = destination / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _path_without_uv() -> str:
    keep = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not (Path(entry) / "uv").exists()
    ]
    return os.pathsep.join(keep)


@pytest.mark.slow
def test_invoke_setup_works_with_the_pip_python_bundles(tmp_path: Path) -> None:
    assert LOCKED_PIP, "requirements/pip.txt pins no pip"
    project = tmp_path / "project"
    _tracked_copy(project)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIRTUAL_ENV", "PIP_REQUIRE", "UV_", "PYTHONPATH", "COV_"))
    }
    env["PATH"] = _path_without_uv()
    assert shutil.which("uv", path=env["PATH"]) is None

    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([venv / "bin" / "python", "-m", "ensurepip"], check=True, env=env)
    bundled = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "--version"], capture_output=True, text=True, env=env
    ).stdout.split()[1]
    assert bundled == ensurepip.version()
    subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "invoke"], check=True, env=env
    )
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"

    setup = subprocess.run(
        [venv / "bin" / "invoke", "setup"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "(pip)" in setup.stdout  # not uv
    installed = subprocess.run(
        [project / ".venv" / "bin" / "python", "-m", "pip", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert installed == LOCKED_PIP.group(1)
    imported = subprocess.run(
        [project / ".venv" / "bin" / "python", "-c", "import app.bootstrap, common.postgres"],
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
