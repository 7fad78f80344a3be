"""How much the test harness costs per test: ``invoke bench.tests``.

Generates, in a temporary folder, N tests that each register a user through the service
layer and read it back, and N tests that touch no database, then runs them serially and
with xdist: on this project's harness as it comes (a savepoint per test in the worker's one
transaction, rolled back, the code under test committing through savepoints of its own), on
the harness with its opt-in ``pg_harness_pipeline = true`` (the savepoint commands sent with
the next statement, the rollback not waited for), and with the usual alternative (real commits
and ``TRUNCATE`` after each test).

Per-test figures are the steady state: inside pytest, the time from the first test's call to
the last test's call, over the tests in between (each interval holds one test's call, its
teardown and the next one's setup). What a run pays once is left out of them: interpreter
start-up and collection, the last test's teardown (the database dropped), and what comes
before the first test's call (the worker database cloned from the template, the app
bootstrapped), which is printed on its own line as the start-up.

The serial runs the overhead lines compare (no database, the harness, the harness pipelined)
are repeated in alternation, ``--rounds`` times each, and their medians are printed: on a
shared machine one run can be a fraction of a millisecond per test off, which is as much as
the target leaves.
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

from bench.record import printed, record

ROOT = Path(__file__).resolve().parent.parent

PYTEST_INI = """\
[pytest]
pg_harness = true
pg_harness_pipeline = {pipeline}
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


class Suite(NamedTuple):
    conftest: str
    test_file: str
    body: str
    pipeline: bool = False


def _write(folder: Path, suite: Suite, count: int) -> None:
    folder.mkdir(parents=True)
    pipeline = "true" if suite.pipeline else "false"
    (folder / "pytest.ini").write_text(PYTEST_INI.format(pipeline=pipeline))
    (folder / "conftest.py").write_text(textwrap.dedent(suite.conftest) + TIMING_PLUGIN)
    (folder / suite.test_file).write_text(textwrap.dedent(suite.body.format(count=count)))


FLOOR = "no database"
HARNESS = "harness"
PIPELINED = "harness, pipelined"
TRUNCATE = "TRUNCATE per test"


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
    parser.add_argument(
        "--record", action="store_true", help="also write the report into docs/benchmarks.md"
    )
    args = parser.parse_args(argv)
    count, workers, rounds = args.count, max(2, args.workers), max(1, args.rounds)
    with printed() as report:
        _bench(count, workers, rounds)
    if args.record:
        record("bench.tests", report.getvalue())
    return 0


def _bench(count: int, workers: int, rounds: int) -> None:

    with tempfile.TemporaryDirectory(prefix="bench-harness-") as tmp:
        base = Path(tmp)
        suites = {
            FLOOR: Suite(HARNESS_CONFTEST, "test_nodb.py", NO_DB_TEST),
            HARNESS: Suite(HARNESS_CONFTEST, "test_db.py", DB_TEST),
            PIPELINED: Suite(HARNESS_CONFTEST, "test_db.py", DB_TEST, pipeline=True),
            TRUNCATE: Suite(TRUNCATE_CONFTEST, "test_db.py", DB_TEST),
        }
        results: dict[str, tuple[float, float]] = {}
        print(
            f"{count} tests per suite; serial and xdist -n {workers}; database as the tests get it"
        )
        print("  ms/test: steady state; start-up: once per run, before the first test's call")
        folders: dict[str, Path] = {}
        for index, (name, suite) in enumerate(suites.items()):
            folders[name] = base / f"suite{index}"
            _write(folders[name], suite, count)
        # The serial runs the overhead lines compare: alternating, so all see the same machine.
        repeated = (FLOOR, HARNESS, PIPELINED)
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
                f"  {name:<28} serial {serial.per_test_ms:7.2f} ms/test"
                f"   xdist {parallel.per_test_ms:7.2f} ms/test"
                f"   start-up {serial.startup_ms:5.0f} ms serial, {parallel.startup_ms:5.0f} ms xdist"
            )
        if rounds > 1:
            print(
                f"  (serial {', '.join(repeated)}: medians of {rounds} alternating runs; "
                + "; ".join(
                    f"{name}: " + " ".join(f"{run.per_test_ms:.2f}" for run in runs)
                    for name, runs in serial_runs.items()
                )
                + ")"
            )

    floor_serial, floor_parallel = results[FLOOR]
    harness_serial, harness_parallel = results[HARNESS]
    pipelined_serial, pipelined_parallel = results[PIPELINED]
    truncate_serial, truncate_parallel = results[TRUNCATE]
    harness_cost = (harness_serial - floor_serial, harness_parallel - floor_parallel)
    pipelined_cost = (pipelined_serial - floor_serial, pipelined_parallel - floor_parallel)
    print(
        f"harness overhead: {harness_cost[0]:.2f} ms/test serial (target 1.50), "
        f"{harness_cost[1]:.2f} xdist"
    )
    print(
        f"pipelined harness overhead (pg_harness_pipeline = true): {pipelined_cost[0]:.2f} "
        f"ms/test serial ({ratio(pipelined_cost[0], harness_cost[0])} the default's), "
        f"{pipelined_cost[1]:.2f} xdist ({ratio(pipelined_cost[1], harness_cost[1])})"
    )
    print(
        f"TRUNCATE / harness: {truncate_serial / harness_serial:.1f}x serial, "
        f"{truncate_parallel / harness_parallel:.1f}x xdist"
    )
    print(
        f"xdist speed-up: harness {harness_serial / harness_parallel:.1f}x, "
        f"TRUNCATE {truncate_serial / truncate_parallel:.1f}x"
    )


def ratio(part: float, whole: float) -> str:
    """``part`` as a multiple of ``whole`` (overheads can be near zero, or below it)."""
    return f"{part / whole:.2f}x" if whole > 0 else "n/a"


if __name__ == "__main__":
    sys.exit(main())
