"""How much the test harness costs per test: ``invoke bench.tests``.

Generates, in a temporary folder, N tests that each register a user through the service
layer and read it back, and N tests that touch no database, then runs them serially and
with xdist: on this project's harness (a savepoint per test in the worker's one transaction,
rolled back, the code under test committing through savepoints of its own, the savepoint
commands sent with the next statement), on a plain SAVEPOINT fixture (a transaction per test
on an ordinary connection, the session joining it through savepoints, as commonly written),
and with the usual alternative (real commits and ``TRUNCATE`` after each test).

Per-test figures are the steady state: inside pytest, the time from the first test's call to
the last test's call, over the tests in between (each interval holds one test's call, its
teardown and the next one's setup). What a run pays once is left out of them: interpreter
start-up and collection, the last test's teardown (the database dropped), and what comes
before the first test's call (the worker database cloned from the template, the app
bootstrapped), which is printed on its own line as the start-up.

The two serial runs the overhead line compares (no database, harness) are repeated in
alternation, ``--rounds`` times each, and their medians are printed: on a shared machine one
run can be a fraction of a millisecond per test off, which is as much as the target leaves.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

PYTEST_INI = """\
[pytest]
pg_harness = true
filterwarnings = error
addopts = -q -p no:randomly -p no:cacheprovider
"""

TIMING_PLUGIN = """
import json, os, time
import pytest

_marks = {}

def pytest_runtest_setup(item):
    _marks.setdefault("setup", time.perf_counter())

def pytest_runtest_call(item):
    now = time.perf_counter()
    _marks.setdefault("first_call", now)
    _marks["last_call"] = now
    _marks["count"] = _marks.get("count", 0) + 1

def pytest_sessionfinish(session):
    if _marks:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        path = os.path.join(os.environ["BENCH_RESULTS"], worker + ".json")
        with open(path, "w") as handle:
            json.dump({**_marks, "clock": time.time() - time.perf_counter()}, handle)
"""

HARNESS_CONFTEST = """
from tests.conftest import (  # the project's own fixtures, unchanged
    factories, pytest_pg_harness_build_schema, runtime, services, session, settings,
)
"""

PLAIN_SAVEPOINT_CONFTEST = """
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from tests.conftest import pytest_pg_harness_build_schema, runtime, settings


@pytest.fixture(scope="session")
def plain_connection(pg_database_url):
    engine = create_engine(pg_database_url, poolclass=StaticPool)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


@pytest.fixture
def session(runtime, plain_connection):
    transaction = plain_connection.begin()
    runtime.database.bind_to(plain_connection)  # join_transaction_mode="create_savepoint"
    yield runtime.database.session
    runtime.database.remove_session()
    transaction.rollback()


@pytest.fixture
def services(runtime, session):
    return runtime.services()
"""

TRUNCATE_CONFTEST = """
import pytest
from sqlalchemy import text

from tests.conftest import pytest_pg_harness_build_schema, runtime, settings


@pytest.fixture
def session(runtime):
    yield runtime.database.session
    runtime.database.remove_session()
    with runtime.database.engine.begin() as connection:
        connection.execute(text("TRUNCATE users, auth_tokens, notes CASCADE"))


@pytest.fixture
def services(runtime, session):
    return runtime.services()
"""

DB_TEST = """
import pytest

PASSWORD = "correct horse 9 battery"


@pytest.mark.parametrize("n", range({count}))
def test_register_and_read_back(services, n):
    user = services.users.register(
        email=f"user{{n}}@example.com", display_name=f"User {{n}}", password=PASSWORD
    )
    assert services.users.get(user.id).email == f"user{{n}}@example.com"
"""

NO_DB_TEST = """
import pytest

from app.service.users.service import normalize_email


@pytest.mark.parametrize("n", range({count}))
def test_no_database(n):
    assert normalize_email(f" User{{n}}@Example.com ") == f"user{{n}}@example.com"
"""


def _write(folder: Path, conftest: str, test_file: str, test_body: str) -> None:
    folder.mkdir(parents=True)
    (folder / "pytest.ini").write_text(PYTEST_INI)
    (folder / "conftest.py").write_text(textwrap.dedent(conftest) + TIMING_PLUGIN)
    (folder / test_file).write_text(textwrap.dedent(test_body))


class Timing(NamedTuple):
    per_test_ms: float  # steady state: first call to last call, over the intervals between
    startup_ms: float  # the slowest worker's first setup to its first call (session fixtures)


def _run(folder: Path, workers: int, expected: int) -> Timing:
    with tempfile.TemporaryDirectory() as results:
        command = [sys.executable, "-m", "pytest", "--rootdir", str(folder), str(folder)]
        if workers > 1:
            command += ["-n", str(workers)]
        # This tree's app and common, even where another copy of common is installed.
        path = os.pathsep.join([str(ROOT), str(ROOT / "common" / "src")])
        env = {**os.environ, "BENCH_RESULTS": results, "PYTHONPATH": path}
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"benchmark run failed in {folder}:\n{done.stdout}\n{done.stderr}")
        marks = [json.loads(path.read_text()) for path in Path(results).glob("*.json")]
    count = sum(int(mark["count"]) for mark in marks)
    if count != expected:
        sys.exit(f"expected {expected} tests, measured {count}")
    start = min(float(mark["clock"] + mark["first_call"]) for mark in marks)
    end = max(float(mark["clock"] + mark["last_call"]) for mark in marks)
    intervals = count - len(marks)  # each worker's first call opens its span
    startup = max(float(mark["first_call"] - mark["setup"]) for mark in marks)
    return Timing((end - start) * 1000 / intervals, startup * 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="tests of each kind")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating serial runs of the floor and harness"
    )
    args = parser.parse_args(argv)
    count, workers, rounds = args.count, max(2, args.workers), max(1, args.rounds)

    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        base = Path(tmp)
        suites = {
            "no database": (HARNESS_CONFTEST, "test_nodb.py", NO_DB_TEST),
            "harness (rollback)": (HARNESS_CONFTEST, "test_db.py", DB_TEST),
            "plain SAVEPOINT": (PLAIN_SAVEPOINT_CONFTEST, "test_db.py", DB_TEST),
            "TRUNCATE per test": (TRUNCATE_CONFTEST, "test_db.py", DB_TEST),
        }
        results: dict[str, tuple[float, float]] = {}
        print(
            f"{count} tests per suite; serial and xdist -n {workers}; database as the tests get it"
        )
        print("  ms/test: steady state; start-up: once per run, before the first test's call")
        folders: dict[str, Path] = {}
        for index, (name, (conftest, test_file, body)) in enumerate(suites.items()):
            folders[name] = base / f"suite{index}"
            _write(folders[name], conftest, test_file, body.format(count=count))
        # The two serial runs the target compares: alternating, so both see the same machine.
        repeated = ("no database", "harness (rollback)")
        serial_runs: dict[str, list[Timing]] = {name: [] for name in repeated}
        for _ in range(rounds):
            for name in repeated:
                serial_runs[name].append(_run(folders[name], 1, count))
        for name, folder in folders.items():
            if name in serial_runs:
                runs = serial_runs[name]
                serial = Timing(
                    statistics.median(run.per_test_ms for run in runs),
                    statistics.median(run.startup_ms for run in runs),
                )
            else:
                serial = _run(folder, 1, count)
            parallel = _run(folder, workers, count)
            results[name] = (serial.per_test_ms, parallel.per_test_ms)
            print(
                f"  {name:<20} serial {serial.per_test_ms:7.2f} ms/test"
                f"   xdist {parallel.per_test_ms:7.2f} ms/test"
                f"   start-up {serial.startup_ms:5.0f} ms serial, {parallel.startup_ms:5.0f} ms xdist"
            )
        if rounds > 1:
            print(
                f"  (serial no database and harness: medians of {rounds} alternating runs; "
                + "; ".join(
                    f"{name}: " + " ".join(f"{run.per_test_ms:.2f}" for run in runs)
                    for name, runs in serial_runs.items()
                )
                + ")"
            )

    floor_serial, floor_parallel = results["no database"]
    harness_serial, harness_parallel = results["harness (rollback)"]
    plain_serial, plain_parallel = results["plain SAVEPOINT"]
    truncate_serial, truncate_parallel = results["TRUNCATE per test"]
    print(f"serial harness overhead: {harness_serial - floor_serial:.2f} ms/test (target 1.50)")
    print(f"xdist harness overhead: {harness_parallel - floor_parallel:.2f} ms/test")
    harness_cost = (harness_serial - floor_serial, harness_parallel - floor_parallel)
    plain_cost = (plain_serial - floor_serial, plain_parallel - floor_parallel)
    print(
        f"plain SAVEPOINT fixture overhead: {plain_cost[0]:.2f} ms/test serial "
        f"({plain_cost[0] / harness_cost[0]:.1f}x the harness's), {plain_cost[1]:.2f} xdist "
        f"({plain_cost[1] / harness_cost[1]:.1f}x)"
    )
    print(
        f"TRUNCATE / harness: {truncate_serial / harness_serial:.1f}x serial, "
        f"{truncate_parallel / harness_parallel:.1f}x xdist"
    )
    print(
        f"xdist speed-up: harness {harness_serial / harness_parallel:.1f}x, "
        f"TRUNCATE {truncate_serial / truncate_parallel:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
