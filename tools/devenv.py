"""The project's virtualenv for ``tasks.py``: made from the hash-locked requirements, used to run
every tool.

Only the standard library and invoke are imported here, so the tasks work on a fresh machine
with nothing but Python and ``pip install invoke``: a task first makes sure ``.venv`` exists
and matches the lock files (``requirements/*.txt``) and the pyproject files, then runs its
command from the project root with the venv's tools. A service split off this project
(``invoke split``) gets this file as it is, with a ``tasks.py`` of its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from invoke.context import Context
from invoke.runners import Result

__all__ = ["DevEnv", "quote"]


@dataclass(frozen=True)
class DevEnv:
    """The virtualenv of the project at ``root``.

    ``local_packages`` are the project's own packages, relative to ``root``, installed
    editable without their dependencies (the locks hold those): ``(".",)`` for the project
    alone, ``("common", ".")`` with a library beside it.
    """

    root: Path
    local_packages: Sequence[str] = (".",)

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def lock_dev(self) -> Path:
        return self.root / "requirements" / "dev.txt"

    @property
    def lock_pip(self) -> Path:
        """The pip a venv made without uv installs first: the one a Python bundles may be too
        old for the locks (pip 23 reads an extra that a locked package asks for, such as
        ``coverage[toml]``, as a requirement of its own, unpinned, and refuses it in hash mode)."""
        return self.root / "requirements" / "pip.txt"

    def lock_inputs(self) -> list[Path]:
        """What decides whether the virtualenv is current."""
        projects = [
            (self.root / package).resolve() / "pyproject.toml" for package in self.local_packages
        ]
        return [self.lock_pip, self.lock_dev, *projects]

    def _fingerprint(self) -> str:
        digest = hashlib.sha256(sys.version.encode())
        for path in self.lock_inputs():
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def ensure(self, c: Context, *, quiet: bool = True) -> None:
        """Create or refresh ``.venv`` from the hash-locked requirements when they changed."""
        if sys.version_info < (3, 11):  # noqa: UP036 - tasks run on whatever Python invoke has
            sys.exit(
                f"Python 3.11 or newer is needed to run the tasks (this is {sys.version.split()[0]})"
            )
        stamp = self.venv / ".locked-deps"
        wanted = self._fingerprint()
        if self.python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
            return
        uv = shutil.which("uv")
        hide = True if quiet else None
        lock = self.lock_dev.relative_to(self.root)
        print(f"setting up {self.venv.name} from {lock} ({'uv' if uv else 'pip'})")
        editable = " ".join(f'-e "{package}"' for package in self.local_packages)
        with c.cd(str(self.root)):
            if uv:
                if not self.python.exists():
                    c.run(f'"{uv}" venv --python "{sys.executable}" "{self.venv}"', hide=hide)
                base = f'"{uv}" pip {{}} --python "{self.python}"'
                c.run(base.format("sync") + f' --require-hashes "{self.lock_dev}"', hide=hide)
                c.run(
                    base.format("install") + f" --no-deps --no-build-isolation {editable}",
                    hide=hide,
                )
            else:
                if not self.python.exists():
                    c.run(f'"{sys.executable}" -m venv "{self.venv}"', hide=hide)
                pip = f'"{self.python}" -m pip --disable-pip-version-check'
                c.run(f'{pip} install --require-hashes -r "{self.lock_pip}"', hide=hide)
                c.run(f'{pip} install --require-hashes -r "{self.lock_dev}"', hide=hide)
                c.run(f"{pip} install --no-deps --no-build-isolation {editable}", hide=hide)
        stamp.write_text(wanted + "\n")

    def env(self) -> dict[str, str]:
        """The environment tools run with: the venv first on PATH, as if it were activated."""
        return {
            "VIRTUAL_ENV": str(self.venv),
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def run(
        self,
        c: Context,
        command: str,
        *,
        env: dict[str, str] | None = None,
        pty: bool = False,
        database: bool = False,
    ) -> Result | None:
        """Run ``command`` from the project root with the venv's tools.

        ``database=True``: with ``DATABASE_URL`` set to the development database (see
        :meth:`database_env`).
        """
        self.ensure(c)
        if database:
            env = {**self.database_env(c), **(env or {})}
        with c.cd(str(self.root)):
            return c.run(command, env={**self.env(), **(env or {})}, pty=pty)

    def database_env(self, c: Context) -> dict[str, str]:
        """``DATABASE_URL`` for commands that use the database.

        The one configured (environment or ``.env``) when set; otherwise the project's own
        PostgreSQL under ``.data/``, started first when it is not running.
        ``python -m app.commands.localdb url`` decides, in the venv.
        """
        if os.environ.get("DATABASE_URL", "").strip():
            return {}
        self.ensure(c)
        with c.cd(str(self.root)):
            found = c.run(
                "python -m app.commands.localdb url", env=self.env(), hide="stdout", warn=True
            )
        if found is None or found.failed:
            sys.exit(1)  # the command said why on stderr
        return {"DATABASE_URL": found.stdout.strip()}

    def bytecode_env(self) -> dict[str, str]:
        """Keep compiled modules between runs even where ``PYTHONDONTWRITEBYTECODE`` is set.

        Container images set it so that nothing lands beside the sources. Without a cache
        every process of a run compiles what it imports, and pytest rewrites and compiles
        every test module in every xdist worker. The cache goes to ``.cache/pycache``
        (``PYTHONPYCACHEPREFIX``), outside the source tree.
        """
        if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
            return {}
        prefix = os.environ.get("PYTHONPYCACHEPREFIX") or str(self.root / ".cache" / "pycache")
        return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": prefix}


def quote(value: str) -> str:
    """``value`` as one word of a POSIX shell command."""
    return "'" + value.replace("'", "'\"'\"'") + "'"
