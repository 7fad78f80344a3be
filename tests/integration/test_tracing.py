"""One trace from a REST or gRPC call through its SQL into the job it enqueued, and across services.

Each test runs the service's real adapters (Flask's app, a gRPC server on a socket, the
worker's procrastinate app) over a runtime whose tracing exports to memory, on a database of
its own (the runtime commits for real: its engine is the one the instrumentation watches).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator, Sequence

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.api.grpc import create_grpc_server
from app.api.grpc.generated.v1 import auth_pb2, notes_pb2, users_pb2
from app.api.rest import create_app
from app.bootstrap import Runtime
from app.service.notifications.service import SEND_WELCOME
from app.worker.app import create_app as create_worker_app
from common.telemetry import Tracing
from tests.api.grpc.support import Stubs, bearer
from tests.conftest import make_test_settings
from tests.factories import DEFAULT_PASSWORD

_emails = itertools.count(1)
_databases = itertools.count(1)
#: A worker batch that has not finished by then has hung.
BATCH_TIMEOUT = 20


class Traced:
    """A runtime whose spans go to memory, and what it recorded."""

    def __init__(self, database_url: str, **settings: object) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.runtime = Runtime(
            make_test_settings(database_url, mail_backend="outbox", **settings),
            tracing=Tracing(provider),
        )
        self.runtime.lifecycle.initialize()

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def run_mail_jobs(self) -> None:
        """One worker pass over the mail queue, as the worker process runs it."""
        app = create_worker_app(self.runtime, periodic=False)

        async def batch() -> None:
            async with app.open_async():
                await app.run_worker_async(
                    queues=[SEND_WELCOME.queue],
                    wait=False,
                    listen_notify=False,
                    install_signal_handlers=False,
                )

        asyncio.run(asyncio.wait_for(batch(), BATCH_TIMEOUT))

    def close(self) -> None:
        self.runtime.lifecycle.shutdown()


@pytest.fixture
def traced(pg_database_factory: Callable[[str], str]) -> Iterator[Traced]:
    traced = Traced(pg_database_factory(f"traced{next(_databases)}"))
    yield traced
    traced.close()


def _one(spans: Sequence[ReadableSpan], predicate: Callable[[ReadableSpan], bool]) -> ReadableSpan:
    [span] = [span for span in spans if predicate(span)]
    return span


def _attribute(span: ReadableSpan, name: str) -> object:
    return (span.attributes or {}).get(name)


def _ancestors(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """``span``'s parent, its parent's parent and so on, as far as they were recorded."""
    by_id = {s.context.span_id: s for s in spans}
    chain: list[ReadableSpan] = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


def _assert_one_trace_from(server: ReadableSpan, spans: Sequence[ReadableSpan]) -> None:
    """The request's SQL, the welcome job and what the job did hang under ``server``."""
    trace_id = server.context.trace_id
    assert server.parent is None  # the client sent no trace: the request starts one
    sql = [s for s in spans if s.kind is SpanKind.CLIENT and _attribute(s, "db.system")]
    request_sql = [s for s in sql if server in _ancestors(s, spans)]
    assert any("INSERT INTO users" in str(_attribute(s, "db.statement")) for s in request_sql)
    job = _one(spans, lambda s: s.name == f"job {SEND_WELCOME.name}")
    assert job.kind is SpanKind.CONSUMER
    assert job.context.trace_id == trace_id
    assert server in _ancestors(job, spans)  # the job continues the request's trace
    mail = _one(spans, lambda s: s.name == "mail send")
    assert job in _ancestors(mail, spans)
    job_sql = [s for s in sql if job in _ancestors(s, spans)]
    assert job_sql, "the job's statements are spans of its trace"
    assert all(s.context.trace_id == trace_id for s in [*request_sql, *job_sql, mail])


def test_a_rest_sign_up_is_one_trace_through_its_sql_and_welcome_job(traced: Traced) -> None:
    client = create_app(runtime=traced.runtime).test_client()
    email = f"traced-rest{next(_emails)}@example.com"
    response = client.post(
        "/v1/users", json={"email": email, "password": DEFAULT_PASSWORD, "display_name": "T"}
    )
    assert response.status_code == 201, response.json
    traced.run_mail_jobs()

    spans = traced.spans()
    server = _one(spans, lambda s: s.kind is SpanKind.SERVER)
    assert server.name == "POST /v1/users"
    assert _attribute(server, "http.status_code") == 201
    _assert_one_trace_from(server, spans)


def test_a_grpc_sign_up_is_one_trace_through_its_sql_and_welcome_job(traced: Traced) -> None:
    server = create_grpc_server(traced.runtime.settings, runtime=traced.runtime, max_workers=2)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            Stubs.on(channel).users.SignUp(
                users_pb2.SignUpRequest(
                    email=f"traced-grpc{next(_emails)}@example.com",
                    password=DEFAULT_PASSWORD,
                    display_name="T",
                ),
                timeout=10,
            )
    finally:
        server.stop(None).wait()
    traced.run_mail_jobs()

    spans = traced.spans()
    rpc = _one(spans, lambda s: s.kind is SpanKind.SERVER)
    assert rpc.name == "/backend.v1.UsersService/SignUp"
    _assert_one_trace_from(rpc, spans)


def test_apart_notes_and_users_share_the_trace_of_a_call(
    pg_database_factory: Callable[[str], str],
) -> None:
    """Notes run on their own: a note's creation asks users, over gRPC, whose token it is."""
    users = Traced(pg_database_factory("traced_users"))
    users_server = create_grpc_server(users.runtime.settings, runtime=users.runtime, max_workers=2)
    port = users_server.add_insecure_port("127.0.0.1:0")
    users_server.start()
    notes = Traced(pg_database_factory("traced_notes"), users_service_addr=f"127.0.0.1:{port}")
    notes_server = create_grpc_server(notes.runtime.settings, runtime=notes.runtime, max_workers=2)
    notes_port = notes_server.add_insecure_port("127.0.0.1:0")
    notes_server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            Stubs.on(channel).users.SignUp(
                users_pb2.SignUpRequest(
                    email=(email := f"traced-split{next(_emails)}@example.com"),
                    password=DEFAULT_PASSWORD,
                    display_name="T",
                ),
                timeout=10,
            )
            logged_in = Stubs.on(channel).auth.LogIn(
                auth_pb2.LogInRequest(email=email, password=DEFAULT_PASSWORD), timeout=10
            )
        users.exporter.clear()
        with grpc.insecure_channel(f"127.0.0.1:{notes_port}") as channel:
            Stubs.on(channel).notes.CreateNote(
                notes_pb2.CreateNoteRequest(title="traced"),
                metadata=bearer(logged_in.token),
                timeout=10,
            )
    finally:
        notes_server.stop(None).wait()
        users_server.stop(None).wait()
        notes.close()
        users.close()

    notes_spans, users_spans = notes.spans(), users.spans()
    create = _one(notes_spans, lambda s: s.kind is SpanKind.SERVER)
    assert create.name == "/backend.v1.NotesService/CreateNote"
    asked = [s for s in notes_spans if s.kind is SpanKind.CLIENT and s.name.startswith("/")]
    assert asked, "notes' calls to users are client spans"
    assert all(create in _ancestors(s, notes_spans) for s in asked)
    answered = [s for s in users_spans if s.kind is SpanKind.SERVER]
    assert answered, "users answered within the trace"
    client_ids = {s.context.span_id for s in asked}
    for span in answered:
        assert span.context.trace_id == create.context.trace_id
        assert span.parent is not None
        assert span.parent.span_id in client_ids
