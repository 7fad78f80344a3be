"""The ASGI application uvicorn serves: the Flask app, handed each request whole.

uvicorn reads requests without tying up a worker, and this reads a request's body to its end
(at most ``REST_MAX_BODY_BYTES``, 413 past it) before the Flask app sees the request, so the
app never waits on a client: a slow or stalled one costs a connection, not a worker. The app
then runs in the event loop's thread, one request at a time, as a synchronous worker would
(``REST_THREADS`` 1, the default), or in a pool of ``REST_THREADS`` threads.

Each worker process builds its runtime and the Flask app as it starts (the ASGI lifespan),
settles its heap, and runs the shutdown hooks as it stops. Told to stop (SIGTERM, SIGINT), a
worker first goes on for :data:`DRAIN_SECONDS`: the connections the kernel has queued for it,
and the requests already sent on them, are taken in and answered rather than reset.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from app import bootstrap, config
from app.api.rest.app import create_app
from app.api.rest.errors import PROBLEM_MEDIA_TYPE, SECURITY_HEADERS, problem_json
from app.config import Settings
from common import metrics
from common.lifecycle import settle_for_serving

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = ["DISCARD_FACTOR", "DRAIN_SECONDS", "METRICS_PATH", "FlaskBridge", "create_asgi_app"]

logger = logging.getLogger(__name__)

#: Seconds a worker told to stop goes on taking in what was already sent to it.
DRAIN_SECONDS = 0.2
#: How much of a body over the limit is read and dropped before the 413, in limits.
DISCARD_FACTOR = 8
#: Where Prometheus scrapes the metrics of every worker, summed (not an API operation).
METRICS_PATH = "/metrics"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: A WSGI answer: the status code, the headers (as ASGI has them) and the whole body.
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def create_asgi_app(settings: Settings | None = None) -> FlaskBridge:
    """uvicorn's factory (``app.api.rest.asgi:create_asgi_app``): settings from the environment."""
    return FlaskBridge(settings or config.load())


class FlaskBridge:
    """ASGI in, the Flask app's WSGI out (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.wsgi: WSGIApplication | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    # -- start and stop -------------------------------------------------------------------------
    def start(self) -> None:
        """Build the app once (the runtime with it) and settle the heap that start-up made."""
        if self.wsgi is not None:
            return
        self.wsgi = create_app(self.settings)
        if self.settings.rest_threads > 1:
            self._pool = ThreadPoolExecutor(self.settings.rest_threads, thread_name_prefix="rest")
        settle_for_serving(self.settings.gc_freeze_after_startup)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        bootstrap.shutdown()
        metrics.forget_process(os.getpid())
        logger.info("REST worker stopped; shutdown hooks ran")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                    _drain_before_stopping(asyncio.get_running_loop())
                except Exception as exc:
                    logger.exception("the REST app did not start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- a request ------------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == METRICS_PATH and self.settings.metrics_enabled:
            await _answer_metrics(scope, send)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        self.start()
        assert self.wsgi is not None  # noqa: S101 - start() made it
        environ = wsgi_environ(scope, body)
        try:
            if self._pool is None:
                # Let the loop read and accept first: requests that arrived meanwhile join
                # the queue now rather than after a whole batch has run (the slowest answers).
                await asyncio.sleep(0)
                status, headers, content = call_wsgi(self.wsgi, environ)
            else:
                loop = asyncio.get_running_loop()
                status, headers, content = await loop.run_in_executor(
                    self._pool, call_wsgi, self.wsgi, environ
                )
        except Exception:  # the app answers its own failures; this is a bug below it
            logger.exception("the REST app failed outside its error handlers")
            status, headers = 500, [(b"content-type", PROBLEM_MEDIA_TYPE.encode())]
            content = problem_json(
                status=500, code="internal", title="Internal server error", detail="internal error"
            )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body; ``None`` when refused as too large (answered) or the client left.

        A body over the limit is read on and dropped, up to :data:`DISCARD_FACTOR` times the
        limit, before the 413 goes out: a client that sends its whole body before it reads
        the answer then gets the answer, not a reset connection.
        """
        limit = self.settings.rest_max_body_bytes
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = declared.isdigit() and int(declared) > limit
        if too_large and int(declared) > DISCARD_FACTOR * limit:
            await _too_large(send, limit)  # too much to drop: the connection closes unread
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            too_large = too_large or size > limit
            if not too_large:
                chunks.append(chunk)
            if not message.get("more_body", False) or size > DISCARD_FACTOR * limit:
                break
        if too_large:
            await _too_large(send, limit)
            return None
        return b"".join(chunks)


async def _answer_metrics(scope: Scope, send: Send) -> None:
    """``GET /metrics``: the exposition of every worker's metrics (read from their files)."""
    if scope["method"] not in ("GET", "HEAD"):
        status, headers, content = 405, [(b"allow", b"GET, HEAD")], b""
    else:
        content = await asyncio.get_running_loop().run_in_executor(None, metrics.exposition)
        status, headers = 200, [(b"content-type", metrics.CONTENT_TYPE.encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    body = b"" if scope["method"] == "HEAD" else content
    await send({"type": "http.response.body", "body": body})


def _drain_before_stopping(loop: asyncio.AbstractEventLoop) -> None:
    """Delay uvicorn's own stop signal handlers by :data:`DRAIN_SECONDS`.

    A worker answering in the event loop's thread accepts and reads only between requests; a
    stop that closed the socket at once would reset the connections queued meanwhile.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # signals reach the main thread only: nothing to delay
    for signum in (signal.SIGTERM, signal.SIGINT):
        stop = signal.getsignal(signum)
        if callable(stop):

            def later(number: int, frame: FrameType | None, stop: Any = stop) -> None:
                # A handler may run in the middle of the loop's own work: hand the timer over
                # the way asyncio's signal handling does, not by touching the loop's heap here.
                loop.call_soon_threadsafe(loop.call_later, DRAIN_SECONDS, stop, number, frame)

            signal.signal(signum, later)


async def _too_large(send: Send, limit: int) -> None:
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    body = problem_json(
        status=status.value,
        code="content-too-large",
        title="Content too large",
        detail=f"the body is over {limit} bytes",
    )
    headers = [
        *((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status.value, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def wsgi_environ(scope: Scope, body: bytes) -> WSGIEnvironment:
    """PEP 3333's environ for an ASGI HTTP scope whose body was read whole."""
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin-1"),
        "PATH_INFO": scope["path"].encode().decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client := scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        if name == "CONTENT_LENGTH":
            continue  # the body's own length, read above
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def call_wsgi(app: WSGIApplication, environ: WSGIEnvironment) -> Answer:
    """Run a WSGI app on ``environ`` to the end of its answer."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(
        status: str,
        headers: list[tuple[str, str]],
        exc_info: tuple[type[BaseException], BaseException, TracebackType] | None = None,
    ) -> Callable[[bytes], object]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return written.append

    result: Iterable[bytes] = app(environ, start_response)  # type: ignore[arg-type]
    try:
        content = b"".join([*written, *result])
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    pairs = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    return int(status.split(" ", 1)[0]), pairs, content
