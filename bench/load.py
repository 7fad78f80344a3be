"""Load generators for ``invoke bench.serve``, each run in processes of their own.

``python -m bench.load rest|grpc ...`` opens its connections, prints ``ready``, waits for a
line on stdin (so that every load process starts at once), sends requests in a closed loop
for ``--warmup`` then ``--duration`` seconds, and prints one JSON object: the latencies in
milliseconds of the requests that completed within the measured window, and the count of
failed ones. REST uses keep-alive ``http.client`` connections (reopened when the server
closes them), one per thread; gRPC uses ``grpc.aio``, ``--threads`` concurrent calls on one
event loop spread over ``--channels`` channels (cheaper per call than blocking calls in threads,
which matters when the load shares the cores with the server). :func:`run_wrk` drives wrk instead, when
it is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import math
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.stats import Run

__all__ = ["Window", "main", "parse_wrk", "run_wrk"]


@dataclass
class Window:
    """The measured window of one closed-loop run, and what completed inside it."""

    start: float
    end: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def after(cls, warmup: float, duration: float) -> Window:
        start = time.perf_counter() + warmup
        return cls(start, start + duration)

    def loop(self, request: Callable[[], bool]) -> None:
        """Call ``request`` (True when it succeeded) until the window ends; record its timings."""
        latencies: list[float] = []
        errors = 0
        while True:
            sent = time.perf_counter()
            if sent >= self.end:
                break
            ok = request()
            done = time.perf_counter()
            if self.start <= sent and done <= self.end:
                if ok:
                    latencies.append((done - sent) * 1000)
                else:
                    errors += 1
        with self.lock:
            self.latencies_ms.extend(latencies)
            self.errors += errors

    def report(self) -> str:
        return json.dumps(
            {
                "latencies_ms": [round(value, 3) for value in self.latencies_ms],
                "errors": self.errors,
            }
        )


def _rest_client(host: str, port: int, path: str, headers: dict[str, str]) -> Callable[[], bool]:
    connection = http.client.HTTPConnection(host, port, timeout=30)

    def request() -> bool:
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            return False
        if response.will_close:
            connection.close()  # the next request opens a new connection
        return response.status == 200

    return request


def _run(clients: Sequence[Callable[[], bool]], warmup: float, duration: float) -> Window:
    window = Window.after(warmup, duration)
    workers = [threading.Thread(target=window.loop, args=(client,)) for client in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return window


def _settle() -> None:
    """Leave what set-up made out of the collector's full passes, as the servers do, so the
    client's own pauses weigh as little as possible in the latencies it records."""
    gc.collect()
    gc.freeze()


async def _grpc_run(args: argparse.Namespace) -> str:
    """``--threads`` concurrent GetNote calls over ``--channels`` channels, on one event loop."""
    import grpc

    from app.api.grpc.generated.v1 import notes_pb2, notes_pb2_grpc

    # A subchannel pool of each channel's own: otherwise channels to one target share one
    # connection, and a server with several processes would see one client.
    options = (("grpc.use_local_subchannel_pool", 1),)
    channels = [
        grpc.aio.insecure_channel(args.target, options=options)
        for _ in range(max(1, args.channels))
    ]
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), timeout=10)
        stubs = [notes_pb2_grpc.NotesServiceStub(channel) for channel in channels]
        metadata = (("authorization", f"Bearer {args.token}"),)
        message = notes_pb2.GetNoteRequest(note_id=args.note_id)
        _settle()
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        window = Window.after(args.warmup, args.duration)

        async def caller(stub: notes_pb2_grpc.NotesServiceAsyncStub) -> None:
            latencies: list[float] = []
            errors = 0
            while (sent := time.perf_counter()) < window.end:
                try:
                    await stub.GetNote(message, metadata=metadata, timeout=30)
                    ok = True
                except grpc.RpcError:
                    ok = False
                done = time.perf_counter()
                if window.start <= sent and done <= window.end:
                    if ok:
                        latencies.append((done - sent) * 1000)
                    else:
                        errors += 1
            window.latencies_ms.extend(latencies)
            window.errors += errors

        await asyncio.gather(*(caller(stubs[index % len(stubs)]) for index in range(args.threads)))
        return window.report()
    finally:
        for channel in channels:
            await channel.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--threads", type=int, required=True, help="concurrent requests")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, required=True)
    kinds = parser.add_subparsers(dest="kind", required=True)
    rest = kinds.add_parser("rest")
    rest.add_argument("--host", default="127.0.0.1")
    rest.add_argument("--port", type=int, required=True)
    rest.add_argument("--path", required=True)
    rest.add_argument("--header", action="append", default=[], help="Name: value")
    grpc = kinds.add_parser("grpc")
    grpc.add_argument("--target", required=True, help="host:port")
    grpc.add_argument("--note-id", required=True)
    grpc.add_argument("--token", required=True)
    grpc.add_argument("--channels", type=int, default=1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.kind == "grpc":
        print(asyncio.run(_grpc_run(args)), flush=True)
        return 0
    headers = {
        name.strip(): value.strip()
        for name, _, value in (header.partition(":") for header in args.header)
    }
    clients = [_rest_client(args.host, args.port, args.path, headers) for _ in range(args.threads)]
    _settle()
    print("ready", flush=True)
    sys.stdin.readline()
    print(_run(clients, args.warmup, args.duration).report(), flush=True)
    return 0


# -- wrk -------------------------------------------------------------------------------------------
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> Run:
    """The figures of ``wrk --latency`` output; non-2xx answers and socket errors count as failed."""
    rate = _RATE.search(output)
    percentiles = {
        level: float(value) * _UNITS_MS[unit] for level, value, unit in _LATENCY.findall(output)
    }
    if rate is None or set(percentiles) != {"50", "99"}:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(count) for count in _NON_2XX.findall(output))
    if sockets := _SOCKET_ERRORS.search(output):
        errors += sum(int(count) for count in sockets.groups())
    return Run(float(rate.group(1)), percentiles["50"], percentiles["99"], errors)


def run_wrk(
    wrk: str,
    url: str,
    *,
    headers: Sequence[str],
    connections: int,
    warmup: float,
    duration: float,
) -> Run:
    """Warm up, then measure ``url`` with wrk (one thread: it is not the bottleneck here).

    wrk counts whole seconds: both times are rounded up to one.
    """
    base = [wrk, "-t1", f"-c{connections}", "--timeout", "30s"]
    for header in headers:
        base += ["-H", header]
    if warmup > 0:
        subprocess.run([*base, f"-d{math.ceil(warmup)}s", url], check=True, capture_output=True)
    done = subprocess.run(
        [*base, f"-d{math.ceil(duration)}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    )
    return parse_wrk(done.stdout)


if __name__ == "__main__":
    sys.exit(main())
