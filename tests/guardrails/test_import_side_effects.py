"""Importing any module of ``app`` or ``common`` does nothing: no settings, engine, connection,
thread or logging set-up. Checked in a fresh interpreter with an empty environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Run with `python -c SCRIPT package...`: imports every module of the packages after making
# anything that would open a connection or build an engine raise.
SCRIPT = """
import importlib, logging, pkgutil, socket, sys, threading

import psycopg
import sqlalchemy
import sqlalchemy.engine
import sqlalchemy.engine.create


class SideEffect(Exception):
    pass


def refuse(what):
    def refused(*args, **kwargs):
        raise SideEffect(f"{what} called at import time")
    return refused


socket.socket.connect = refuse("socket.connect")
socket.socket.connect_ex = refuse("socket.connect_ex")
psycopg.connect = psycopg.Connection.connect = refuse("psycopg.connect")
sqlalchemy.create_engine = refuse("sqlalchemy.create_engine")
sqlalchemy.engine.create_engine = refuse("sqlalchemy.create_engine")
sqlalchemy.engine.create.create_engine = refuse("sqlalchemy.create_engine")

threads = threading.active_count()
failures, imported = [], 0
for package_name in sys.argv[1:]:
    package = importlib.import_module(package_name)
    names = [package_name] + [
        info.name for info in pkgutil.walk_packages(package.__path__, package_name + ".")
    ]
    for name in names:
        try:
            importlib.import_module(name)
            imported += 1
        except BaseException as exc:
            failures.append(f"{name}: {type(exc).__name__}: {' '.join(str(exc).split())}")
if threading.active_count() != threads:
    failures.append(f"threads started: {threading.enumerate()}")
if logging.getLogger().handlers:
    failures.append(f"logging configured: {logging.getLogger().handlers}")
print("\\n".join(failures + [f"imported {imported} modules"]))
sys.exit(1 if failures else 0)
"""


@pytest.mark.slow
def test_importing_any_module_of_app_and_common_has_no_side_effect(tmp_path: Path) -> None:
    # A control package beside them, in the same run, shows that side effects are caught.
    control = tmp_path / "eager"
    control.mkdir()
    (control / "__init__.py").write_text("")
    (control / "database.py").write_text(
        "from sqlalchemy import create_engine\n"
        "engine = create_engine('postgresql+psycopg://localhost/app')\n"
    )
    (control / "settings.py").write_text("from app import config\nsettings = config.load()\n")

    # Only PATH: no DATABASE_URL, APP_ENV or anything else; the directory has no .env either.
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, "app", "common", "eager"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *failures, summary = result.stdout.splitlines() or [""]
    assert sorted(line.split(":")[0] for line in failures) == [
        "eager.database",
        "eager.settings",
    ], result.stdout + result.stderr
    assert "SideEffect: sqlalchemy.create_engine called at import time" in failures[0]
    assert "ConfigurationError" in failures[1]
    assert "DATABASE_URL" in failures[1]
    assert summary.startswith("imported ")
    assert int(summary.split()[1]) >= 60  # every module was walked, not just the packages
