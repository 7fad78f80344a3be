"""What every RPC goes through: health, reflection, request ids, access logs, the error table."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

from app.api.grpc.errors import INTERNAL_MESSAGE, STATUS_TABLE
from app.api.grpc.generated.v1 import notes_pb2, users_pb2
from app.api.grpc.server import SERVICE_NAMES, create_grpc_server, grpc_address
from app.bootstrap import Runtime
from app.config import Settings
from app.service.notes.service import NotesService
from common.errors import NotFound, ServiceError
from common.logs import current_request_id
from tests.api.grpc.support import Metadata, Stubs, bearer, failure, field_violations, trailing
from tests.factories import Factories

GET_NOTE = "/backend.v1.NotesService/GetNote"


@pytest.fixture
def auth(factories: Factories) -> Metadata:
    return bearer(factories.token(factories.user()))


class _Recorder(logging.Handler):
    """Keeps each access-log record with the request id bound while it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[logging.LogRecord, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record, current_request_id()))


@pytest.fixture
def access_log() -> Iterator[_Recorder]:
    logger = logging.getLogger("app.api.grpc.access")
    recorder = _Recorder()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)


# -- health and reflection -----------------------------------------------------------------------
def test_health_reports_the_server_and_each_service_serving(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", *SERVICE_NAMES):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service
    with pytest.raises(grpc.RpcError) as caught:
        health.Check(health_pb2.HealthCheckRequest(service="backend.v1.Nothing"), timeout=10)
    assert isinstance(caught.value, grpc.Call)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_reflection_lists_and_describes_the_services(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    [response] = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
    )
    listed = {service.name for service in response.list_services_response.service}
    assert listed == {
        "backend.v1.UsersService",
        "backend.v1.AuthService",
        "backend.v1.NotesService",
        "backend.v1.UserEventsService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }
    # What grpcurl's `describe` and dynamic clients do: rebuild the types from the server.
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    notes = pool.FindServiceByName("backend.v1.NotesService")
    list_notes = notes.methods_by_name["ListNotes"]
    assert [field.name for field in list_notes.input_type.fields] == ["cursor", "limit", "query"]
    login = pool.FindServiceByName("backend.v1.AuthService").methods_by_name["LogIn"]
    expires_at = login.output_type.fields_by_name["expires_at"].message_type
    assert expires_at is not None
    assert expires_at.full_name == "google.protobuf.Timestamp"


# -- request ids and the access log ----------------------------------------------------------------
def test_a_given_request_id_is_bound_and_returned(
    stubs: Stubs, auth: Metadata, access_log: _Recorder
) -> None:
    metadata = (*auth, ("x-request-id", "trace-42.a:b_c"))
    _, call = stubs.users.GetMe.with_call(users_pb2.GetMeRequest(), metadata=metadata)
    assert trailing(call)["x-request-id"] == "trace-42.a:b_c"
    failed = failure(
        stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="missing"), metadata=metadata
    )
    assert trailing(failed)["x-request-id"] == "trace-42.a:b_c"
    assert [bound for _, bound in access_log.lines] == ["trace-42.a:b_c", "trace-42.a:b_c"]


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 129, "semi;colon"])
def test_a_missing_or_unfit_request_id_is_replaced(
    stubs: Stubs, auth: Metadata, access_log: _Recorder, given: str | None
) -> None:
    metadata = auth if given is None else (*auth, ("x-request-id", given))
    ids = set()
    for _ in range(2):
        _, call = stubs.users.GetMe.with_call(users_pb2.GetMeRequest(), metadata=metadata)
        ids.add(trailing(call)["x-request-id"])
    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", str(value)) for value in ids)
    assert {bound for _, bound in access_log.lines} == ids


def test_one_access_log_line_per_rpc_with_method_code_and_duration(
    stubs: Stubs, auth: Metadata, access_log: _Recorder
) -> None:
    stubs.notes.ListNotes(notes_pb2.ListNotesRequest(), metadata=auth)
    failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="missing"), metadata=auth)
    failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="missing"))
    lines = [
        (record.method, record.code, record.getMessage().split()[:2])  # type: ignore[attr-defined]
        for record, _ in access_log.lines
    ]
    assert lines == [
        ("/backend.v1.NotesService/ListNotes", "OK", ["/backend.v1.NotesService/ListNotes", "OK"]),
        (GET_NOTE, "NOT_FOUND", [GET_NOTE, "NOT_FOUND"]),
        (GET_NOTE, "UNAUTHENTICATED", [GET_NOTE, "UNAUTHENTICATED"]),
    ]
    for record, _ in access_log.lines:
        assert record.name == "app.api.grpc.access"
        assert record.levelno == logging.INFO
        assert isinstance(record.duration_ms, float)  # type: ignore[attr-defined]
        assert record.duration_ms >= 0  # type: ignore[attr-defined]


# -- the error table --------------------------------------------------------------------------------
class _Gone(NotFound):
    """An error added to the tree later: served by its nearest base's row."""


@pytest.mark.parametrize(
    ("error", "code"),
    [(cls, code) for cls, code in STATUS_TABLE.items()] + [(_Gone, grpc.StatusCode.NOT_FOUND)],
    ids=lambda value: getattr(value, "__name__", getattr(value, "name", str(value))),
)
def test_each_error_of_the_tree_gets_its_status(
    stubs: Stubs,
    auth: Metadata,
    monkeypatch: pytest.MonkeyPatch,
    error: type[ServiceError],
    code: grpc.StatusCode,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise error(f"refused: {error.__name__}")

    monkeypatch.setattr(NotesService, "get", refuse)
    call = failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="x"), metadata=auth)
    assert call.code() is code
    assert call.details() == f"refused: {error.__name__}"
    status = rpc_status.from_call(call)
    assert status is not None
    assert (status.code, status.message) == (code.value[0], call.details())


def test_unavailable_says_when_to_retry(
    stubs: Stubs, auth: Metadata, monkeypatch: pytest.MonkeyPatch
) -> None:
    from common.errors import Unavailable

    def down(*args: Any, **kwargs: Any) -> Any:
        raise Unavailable("the database is unavailable")

    monkeypatch.setattr(NotesService, "get", down)
    call = failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="x"), metadata=auth)
    assert call.code() is grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(call)
    assert status is not None
    retry = error_details_pb2.RetryInfo()
    assert [detail for detail in status.details if detail.Unpack(retry)]
    assert retry.retry_delay.seconds == 5


def test_an_unexpected_error_is_a_logged_internal_without_internals(
    stubs: Stubs,
    auth: Metadata,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(NotesService, "get", crash)
    metadata = (*auth, ("x-request-id", "crash-1"))
    with caplog.at_level(logging.ERROR, logger="app.api.grpc"):
        call = failure(
            stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="x"), metadata=metadata
        )
    assert call.code() is grpc.StatusCode.INTERNAL
    assert call.details() == INTERNAL_MESSAGE
    assert field_violations(call) == {}
    assert "hunter2" not in repr(call.trailing_metadata())
    assert trailing(call)["x-request-id"] == "crash-1"
    [record] = [r for r in caplog.records if r.name.startswith("app.api.grpc")]
    assert record.levelno == logging.ERROR
    assert GET_NOTE in record.getMessage()
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


def test_teardown_runs_after_every_rpc_whatever_its_outcome(
    stubs: Stubs, auth: Metadata, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    teardowns = []
    original = runtime.lifecycle.teardown

    def counting_teardown() -> None:
        teardowns.append(current_request_id())
        original()

    monkeypatch.setattr(runtime.lifecycle, "teardown", counting_teardown)
    stubs.notes.ListNotes(notes_pb2.ListNotesRequest(), metadata=auth)
    failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="missing"), metadata=auth)
    failure(stubs.notes.GetNote, notes_pb2.GetNoteRequest(note_id="missing"))
    monkeypatch.setattr(NotesService, "get", lambda *a, **k: 1 / 0)
    with pytest.raises(grpc.RpcError):
        stubs.notes.GetNote(notes_pb2.GetNoteRequest(note_id="x"), metadata=auth)
    assert len(teardowns) == 4
    assert all(teardowns), "teardown runs inside the RPC, with its request id bound"


def test_bytes_that_are_not_the_message_are_invalid_argument(
    channel: grpc.Channel, auth: Metadata
) -> None:
    # No serializers: the bytes go out as they are.
    raw: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(GET_NOTE)
    # Field 1 (note_id) as a string holding invalid UTF-8.
    call = failure(raw, b"\x0a\x02\xff\xfe", metadata=auth)
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert call.details() == "the request is not a valid message for this RPC"


def test_an_unknown_method_is_unimplemented(channel: grpc.Channel) -> None:
    raw: grpc.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
        "/backend.v1.NotesService/Nothing"
    )
    call = failure(raw, b"")
    assert call.code() is grpc.StatusCode.UNIMPLEMENTED


# -- the factory ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("host", "address"),
    [("127.0.0.1", "127.0.0.1:50051"), ("::", "[::]:50051"), ("[::1]", "[::1]:50051")],
)
def test_addresses_bracket_ipv6_hosts(host: str, address: str) -> None:
    assert grpc_address(host, 50051) == address


def test_a_taken_port_is_an_error_not_a_shared_socket(settings: Settings, grpc_target: str) -> None:
    server = create_grpc_server(settings, max_workers=1)
    try:
        with pytest.raises(RuntimeError):
            server.add_insecure_port(grpc_target)
        with pytest.raises(RuntimeError):
            create_grpc_server(settings, address=grpc_target, max_workers=1)
    finally:
        server.stop(None)


@pytest.mark.parametrize(("age", "reconnects"), [(0.5, True), (0.0, False)])
def test_connections_age_out_so_clients_reconnect_and_rebalance(
    runtime: Runtime, settings: Settings, age: float, reconnects: bool
) -> None:
    """With GRPC_MAX_CONNECTION_AGE_SECONDS the server closes a connection after that long
    (gracefully: the client's channel goes idle and connects again for its next call)."""
    aged = settings.model_copy(update={"grpc_max_connection_age_seconds": age})
    server = create_grpc_server(aged, runtime=runtime, max_workers=2)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    states: list[grpc.ChannelConnectivity] = []
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            channel.subscribe(states.append, try_to_connect=True)
            health = health_pb2_grpc.HealthStub(channel)
            health.Check(health_pb2.HealthCheckRequest(), timeout=10)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and grpc.ChannelConnectivity.IDLE not in states[1:]:
                time.sleep(0.05)
            assert (grpc.ChannelConnectivity.IDLE in states[1:]) is reconnects, states
            # Either way the next call is answered.
            health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    finally:
        server.stop(None).wait()
