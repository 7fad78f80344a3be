"""The benchmarks run end to end and print the figures they promise, briefly.

A benchmark no one can run any more is a figure no one can check: each is run here for a
fraction of a second, on the worker's database, and its report read (not its figures).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.reliability.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.long]


def test_bench_serve_compares_two_configurations_side_by_side(pg_database_url: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": pg_database_url,
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "1",
        "GRPC_PROCESSES": "1",
    }
    command = [
        sys.executable,
        "-m",
        "bench.serve",
        *("--duration", "0.3", "--warmup", "0", "--rounds", "2", "--connections", "2"),
        *("--only", "floor", "--only", "rest", "--only", "grpc", "--python-client"),
        *("--client-processes", "1", "--grpc-channels", "1"),
        "--versus",
        "DATABASE_FAST_PATH=true",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = done.stdout
    assert "with DATABASE_FAST_PATH=true / as configured (medians)" in report
    for scenario in ("REST GET /v1/notes/{id}", "gRPC GetNote"):
        ratios = [
            line for line in report.splitlines() if line.startswith(scenario) and " x" in line
        ]
        assert len(ratios) == 1, report
    assert "round 2 with DATABASE_FAST_PATH=true:" in report
