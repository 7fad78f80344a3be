"""Prometheus metrics that every process of a service exports, summed across its processes.

A server runs several processes (uvicorn's workers, the gRPC server's forks), and a scrape
reaches one of them, so the metrics use prometheus-client's multiprocess mode: each process
writes its values to files in one directory, and whichever process answers a scrape sums them.
The mode is chosen when prometheus-client is first imported, from
``PROMETHEUS_MULTIPROC_DIR``; so a program calls :func:`prepare_directory` at its start,
before any process imports the library, and nothing here imports it at module level. Without
``PROMETHEUS_MULTIPROC_DIR`` it makes a directory of its own, removed at exit; one that is
set is emptied first (so it must belong to one program).

:class:`Metrics` holds a process's instruments (requests and their latency per REST route
and status and per gRPC method and code, jobs per task and outcome with their durations and
retries, the database pool's connections in use and waits for one) in a registry of its own,
so two runtimes in one process do not clash.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = [
    "CONTENT_TYPE",
    "Metrics",
    "exposition",
    "prepare_directory",
    "serve",
    "serve_at_start",
]

logger = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The text exposition format's content type (prometheus_client.CONTENT_TYPE_LATEST).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Seconds: fine enough for a request that reads one row, wide enough for a slow one.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)


def prepare_directory() -> Path:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` ready for this program's processes (see above).

    Call it in the program's first process before anything imports prometheus-client; the
    processes it starts afterwards inherit the variable.
    """
    configured = os.environ.get(ENV, "").strip()
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return directory
    directory = Path(tempfile.mkdtemp(prefix="metrics-"))
    os.environ[ENV] = str(directory)
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def _multiprocess_registry() -> CollectorRegistry:
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def exposition() -> bytes:
    """What a scrape gets: the metrics of every process of the program, summed."""
    from prometheus_client import generate_latest

    if not os.environ.get(ENV):
        return b""
    return generate_latest(_multiprocess_registry())


def serve(host: str, port: int) -> int:
    """Serve the program's metrics on ``http://host:port/metrics`` from a thread of this
    process; the port it got (``port`` 0 picks a free one)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, host, registry=_multiprocess_registry())
    return int(server.server_address[1])


def serve_at_start(host: str, port: int, variable: str) -> int:
    """:func:`serve`, as a program starts: the port it got, logged; when it cannot listen,
    the program exits naming the setting of the port (``variable``)."""
    try:
        served = serve(host, port)
    except OSError as exc:
        sys.exit(f"cannot serve metrics on {host} port {port} ({variable}): {exc}")
    shown = f"[{host}]" if ":" in host else host
    logger.info("metrics on http://%s:%d/metrics", shown, served)
    return served


def forget_process(pid: int) -> None:
    """Drop what a stopped process reported to the gauges of live processes."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class Metrics:
    """A process's instruments (see the module docstring)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "http_server_requests",
            "REST requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "http_server_request_duration_seconds",
            "Seconds from a REST request's arrival at the app to its answer.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.grpc_requests = Counter(
            "grpc_server_handled",
            "RPCs answered, by full method and status code.",
            ["method", "code"],
            registry=registry,
        )
        self.grpc_duration = Histogram(
            "grpc_server_handling_seconds",
            "Seconds an RPC took to answer.",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.jobs = Counter(
            "jobs_processed",
            "Jobs run by the worker, by task and outcome (succeeded, failed).",
            ["task", "outcome"],
            registry=registry,
        )
        self.job_duration = Histogram(
            "job_duration_seconds",
            "Seconds a job ran.",
            ["task"],
            buckets=JOB_BUCKETS,
            registry=registry,
        )
        self.job_retries = Counter(
            "job_retries",
            "Runs of a job after its first attempt, by task.",
            ["task"],
            registry=registry,
        )
        self.db_connections_in_use = Gauge(
            "db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.db_pool_wait = Histogram(
            "db_pool_wait_seconds",
            "Seconds a unit of work waited for a pooled database connection.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
