"""``python -m app.worker`` as a container runs it, on a database of its own with real commits.

A sign-up committed by another process reaches the running worker, which delivers the
welcome message and counts the job in its metrics; SIGTERM then stops it cleanly.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select
from sqlalchemy.pool import NullPool

from app.bootstrap import Runtime
from app.db.models import MailOutboxRow
from app.worker import __main__ as entrypoint
from common.postgres import create_database, drop_database, with_database
from common.testing import alembic_upgrade
from tests.conftest import make_test_settings
from tests.factories import DEFAULT_PASSWORD

ROOT = Path(__file__).resolve().parents[3]
STARTED = "Starting worker on all queues"


class WorkerProcess:
    """The worker in a child process, its log (stderr) collected by a thread."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.worker"],
            env=env,
            cwd=cwd,  # no .env there
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.collected: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            self.collected.append(line)
            if text in line:
                return

    def output(self) -> str:
        self._reader.join(timeout=30)
        while not self.lines.empty():
            self.collected.append(self.lines.get())
        return "".join(self.collected)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join(timeout=30)
        assert self.process.stderr is not None
        self.process.stderr.close()


@pytest.fixture
def database_url(pg_database_url: str) -> Iterator[str]:
    """A migrated database of its own: this test commits, and its worker schedules jobs."""
    name = f"{make_url(pg_database_url).database}_{uuid.uuid4().hex[:8]}"
    create_database(pg_database_url, name)
    url = with_database(pg_database_url, name)
    try:
        alembic_upgrade(url, ROOT / "alembic.ini")
        yield url
    finally:
        drop_database(pg_database_url, name)


@pytest.mark.slow
def test_it_delivers_committed_jobs_and_stops_cleanly_on_sigterm(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "MAIL_BACKEND": "outbox",
        "WORKER_METRICS_PORT": "0",
    }
    worker = WorkerProcess(env, tmp_path)
    try:
        worker.wait_for(STARTED)
        # Another process signs up and commits; it could die now, the job is in the database.
        signing_up = Runtime(make_test_settings(database_url))
        try:
            with signing_up.services_scope() as services:
                user = services.users.register(
                    email="worker@example.com", display_name="W", password=DEFAULT_PASSWORD
                )
        finally:
            signing_up.database.dispose()

        engine = create_engine(database_url, poolclass=NullPool)
        try:
            delivered = select(func.count()).where(MailOutboxRow.recipient == user.email)
            deadline = time.monotonic() + 20
            with engine.connect() as connection:
                while connection.scalar(delivered) == 0:
                    assert time.monotonic() < deadline, "no welcome message"
                    time.sleep(0.05)
                    connection.rollback()
        finally:
            engine.dispose()

        [port] = re.findall(
            r"metrics on http://127\.0\.0\.1:(\d+)/metrics", "".join(worker.collected)
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as scrape:
            exposition = scrape.read().decode()
        task = 'task="notifications.send_welcome"'
        assert f'jobs_processed_total{{outcome="succeeded",{task}}} 1.0' in exposition, exposition
        assert f"job_duration_seconds_count{{{task}}} 1.0" in exposition, exposition

        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0
        log = worker.output()
    finally:
        worker.close()
    assert "notifications.send_welcome" in log
    assert "ended with status: Success" in log, log
    assert "worker stopped; shutdown hooks ran" in log, log


def test_a_bad_setting_is_named_and_nothing_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/app")
    monkeypatch.setenv("MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(SystemExit) as exited:
        entrypoint.main()
    assert "MAIL_BACKEND" in str(exited.value.code)
