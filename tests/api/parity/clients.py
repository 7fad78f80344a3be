"""One small client interface over both APIs, so the same user stories run through REST and gRPC.

:class:`RestClient` speaks HTTP (through a Flask app in process, or to a base URL) and
:class:`GrpcClient` speaks gRPC (over a channel, or to a target). Both return the same plain
values and fail with the same :class:`ApiError`, whose ``kind`` is the error's stable code
(:attr:`common.errors.ServiceError.code`):

* REST puts the code in the problem's ``type`` (``/problems/<code>``) and the bad fields in
  its ``errors``;
* gRPC puts the code in a ``google.rpc.ErrorInfo``'s ``reason`` and the bad fields in a
  ``google.rpc.BadRequest``, both in the rich status; a status without an ErrorInfo (an
  INTERNAL) is read by its status code (:data:`GRPC_KINDS`, the inverse of the server's
  table).

Where the two APIs name a field differently, the clients use one name (:data:`REST_FIELDS`
says which REST names they rename), in requests and in the fields of errors alike. Nothing
here depends on the test runner, so other suites can point these clients at other deployments.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from flask import Flask
from google.protobuf import message, timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from app.api.grpc.generated.v1 import auth_pb2, notes_pb2, users_pb2
from common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from tests.api.grpc.support import Stubs, bearer

__all__ = [
    "GRPC_KINDS",
    "REST_FIELDS",
    "ApiError",
    "Client",
    "GrpcClient",
    "HttpResponse",
    "Note",
    "NotePage",
    "Outcome",
    "RestClient",
    "Token",
    "UnexpectedResponse",
    "User",
]

#: The kind of an error a gRPC status code stands for: the inverse of the server's table.
GRPC_KINDS: Mapping[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated.code,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied.code,
    grpc.StatusCode.NOT_FOUND: NotFound.code,
    grpc.StatusCode.ALREADY_EXISTS: Conflict.code,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInput.code,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited.code,
    grpc.StatusCode.UNAVAILABLE: Unavailable.code,
    grpc.StatusCode.FAILED_PRECONDITION: ServiceError.code,
    grpc.StatusCode.INTERNAL: "internal",
}

#: REST's names for fields that the clients (and gRPC) call otherwise.
REST_FIELDS: Mapping[str, str] = {"q": "query"}

_PROBLEM_TYPE_PREFIX = "/problems/"
_TIMEOUT_SECONDS = 10.0


# -- what both clients return ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Token:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Note:
    id: str
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class NotePage:
    """Newest first; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[Note, ...]
    next_cursor: str | None


#: An error's kind, message and fields: what a story compares.
Outcome = tuple[str, str, dict[str, str]]


class ApiError(Exception):
    """A refusal, the same from both APIs: its kind, its message, and what is wrong per field."""

    def __init__(self, kind: str, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.fields: dict[str, str] = dict(fields or {})

    def outcome(self) -> Outcome:
        """What a story compares: two errors with the same outcome are indistinguishable."""
        return self.kind, self.message, self.fields


class UnexpectedResponse(Exception):
    """An answer outside the API's contract (an unexpected status, a body that is not a problem)."""


class Client(Protocol):
    """The user stories' view of an API. ``token`` is the caller's bearer token, or ``None``."""

    transport: str

    def sign_up(self, *, email: str, password: str, display_name: str) -> User: ...

    def log_in(self, *, email: str, password: str) -> Token: ...

    def log_out(self, token: str | None) -> None: ...

    def me(self, token: str | None) -> User: ...

    def update_me(self, token: str | None, *, display_name: str | None = None) -> User: ...

    def change_password(
        self, token: str | None, *, current_password: str, new_password: str
    ) -> None: ...

    def create_note(self, token: str | None, *, title: str, body: str = "") -> Note: ...

    def get_note(self, token: str | None, note_id: str) -> Note: ...

    def list_notes(
        self,
        token: str | None,
        *,
        query: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> NotePage: ...

    def update_note(
        self, token: str | None, note_id: str, *, title: str | None = None, body: str | None = None
    ) -> Note: ...

    def delete_note(self, token: str | None, note_id: str) -> None: ...


# -- REST --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    content_type: str
    body: bytes


#: Sends ``(method, path and query, JSON body or None, headers)``; returns the answer.
HttpTransport = Callable[[str, str, bytes | None, Mapping[str, str]], HttpResponse]


class RestClient:
    """The REST API (``/v1``) through an HTTP transport: a Flask app in process, or a server."""

    transport = "rest"

    def __init__(self, send: HttpTransport) -> None:
        self._send = send

    @classmethod
    def in_process(cls, app: Flask) -> RestClient:
        """Requests through ``app``'s test client (its ``test_client_class``), no socket."""
        test_client = app.test_client()

        def send(
            method: str, path: str, body: bytes | None, headers: Mapping[str, str]
        ) -> HttpResponse:
            response = test_client.open(path, method=method, data=body, headers=dict(headers))
            return HttpResponse(response.status_code, response.mimetype or "", response.get_data())

        return cls(send)

    @classmethod
    def over_http(cls, base_url: str, *, timeout: float = _TIMEOUT_SECONDS) -> RestClient:
        """Requests to a server at ``base_url`` (``http[s]://host:port``, without ``/v1``)."""
        parts = urllib.parse.urlsplit(base_url)
        connection_class = {
            "http": http.client.HTTPConnection,
            "https": http.client.HTTPSConnection,
        }
        if parts.scheme not in connection_class or not parts.netloc:
            raise ValueError(f"not an http or https base URL: {base_url!r}")
        connect = connection_class[parts.scheme]
        prefix = parts.path.rstrip("/")

        def send(
            method: str, path: str, body: bytes | None, headers: Mapping[str, str]
        ) -> HttpResponse:
            connection = connect(parts.netloc, timeout=timeout)
            try:
                connection.request(method, prefix + path, body=body, headers=dict(headers))
                response = connection.getresponse()
                content_type = response.headers.get_content_type()
                return HttpResponse(response.status, content_type, response.read())
            finally:
                connection.close()

        return cls(send)

    def sign_up(self, *, email: str, password: str, display_name: str) -> User:
        body = {"email": email, "password": password, "display_name": display_name}
        return _rest_user(self._call("POST", "/v1/users", 201, json_body=body))

    def log_in(self, *, email: str, password: str) -> Token:
        data = self._call(
            "POST", "/v1/auth/tokens", 201, json_body={"email": email, "password": password}
        )
        return Token(data["token"], _rest_time(data["expires_at"]))

    def log_out(self, token: str | None) -> None:
        self._call("DELETE", "/v1/auth/tokens/current", 204, token=token)

    def me(self, token: str | None) -> User:
        return _rest_user(self._call("GET", "/v1/users/me", 200, token=token))

    def update_me(self, token: str | None, *, display_name: str | None = None) -> User:
        body = _given(display_name=display_name)
        return _rest_user(self._call("PATCH", "/v1/users/me", 200, token=token, json_body=body))

    def change_password(
        self, token: str | None, *, current_password: str, new_password: str
    ) -> None:
        body = {"current_password": current_password, "new_password": new_password}
        self._call("PUT", "/v1/users/me/password", 204, token=token, json_body=body)

    def create_note(self, token: str | None, *, title: str, body: str = "") -> Note:
        payload = {"title": title, "body": body}
        return _rest_note(self._call("POST", "/v1/notes", 201, token=token, json_body=payload))

    def get_note(self, token: str | None, note_id: str) -> Note:
        return _rest_note(self._call("GET", _note_path(note_id), 200, token=token))

    def list_notes(
        self,
        token: str | None,
        *,
        query: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> NotePage:
        params = _given(q=query, limit=limit, cursor=cursor)
        path = "/v1/notes" + ("?" + urllib.parse.urlencode(params) if params else "")
        data = self._call("GET", path, 200, token=token)
        return NotePage(tuple(_rest_note(item) for item in data["items"]), data["next_cursor"])

    def update_note(
        self, token: str | None, note_id: str, *, title: str | None = None, body: str | None = None
    ) -> Note:
        payload = _given(title=title, body=body)
        return _rest_note(
            self._call("PATCH", _note_path(note_id), 200, token=token, json_body=payload)
        )

    def delete_note(self, token: str | None, note_id: str) -> None:
        self._call("DELETE", _note_path(note_id), 204, token=token)

    def _call(
        self,
        method: str,
        path: str,
        expected: int,
        *,
        token: str | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(json_body).encode()
        response = self._send(method, path, body, headers)
        if response.status == expected:
            return json.loads(response.body) if response.body else None
        raise _rest_error(method, path, response)


def _rest_error(method: str, path: str, response: HttpResponse) -> Exception:
    if response.status < 400 or response.content_type != "application/problem+json":
        return UnexpectedResponse(f"{method} {path}: {response.status} {response.body[:200]!r}")
    problem = json.loads(response.body)
    kind = str(problem["type"]).removeprefix(_PROBLEM_TYPE_PREFIX)
    fields = {
        REST_FIELDS.get(e["field"], e["field"]): e["message"] for e in problem.get("errors") or ()
    }
    return ApiError(kind, problem["detail"], fields)


def _note_path(note_id: str) -> str:
    return "/v1/notes/" + urllib.parse.quote(note_id, safe="")


def _given(**values: object) -> dict[str, object]:
    """The members that were given: what a PATCH changes, or a query string carries."""
    return {name: value for name, value in values.items() if value is not None}


def _rest_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _rest_user(data: Mapping[str, Any]) -> User:
    return User(
        id=data["id"],
        email=data["email"],
        display_name=data["display_name"],
        created_at=_rest_time(data["created_at"]),
        updated_at=_rest_time(data["updated_at"]),
    )


def _rest_note(data: Mapping[str, Any]) -> Note:
    return Note(
        id=data["id"],
        title=data["title"],
        body=data["body"],
        created_at=_rest_time(data["created_at"]),
        updated_at=_rest_time(data["updated_at"]),
    )


# -- gRPC --------------------------------------------------------------------------------------
RequestT = TypeVar("RequestT", bound=message.Message)
ResponseT = TypeVar("ResponseT", bound=message.Message)


class GrpcClient:
    """The gRPC API (``backend.v1``) over a channel: the caller's, or one it opens to a target."""

    transport = "grpc"

    def __init__(self, channel: grpc.Channel, *, timeout: float = _TIMEOUT_SECONDS) -> None:
        self._stubs = Stubs.on(channel)
        self._timeout = timeout

    @classmethod
    @contextlib.contextmanager
    def connect(cls, target: str, *, timeout: float = _TIMEOUT_SECONDS) -> Iterator[GrpcClient]:
        """A client on its own insecure channel to ``target``, closed after the ``with`` block.

        The channel connects on the first call; a server that cannot be reached fails that
        call as ``unavailable``.
        """
        with grpc.insecure_channel(target) as channel:
            yield cls(channel, timeout=timeout)

    def sign_up(self, *, email: str, password: str, display_name: str) -> User:
        request = users_pb2.SignUpRequest(email=email, password=password, display_name=display_name)
        return _grpc_user(self._call(self._stubs.users.SignUp, request, None).user)

    def log_in(self, *, email: str, password: str) -> Token:
        request = auth_pb2.LogInRequest(email=email, password=password)
        response = self._call(self._stubs.auth.LogIn, request, None)
        return Token(response.token, _grpc_time(response.expires_at))

    def log_out(self, token: str | None) -> None:
        self._call(self._stubs.auth.LogOut, auth_pb2.LogOutRequest(), token)

    def me(self, token: str | None) -> User:
        return _grpc_user(self._call(self._stubs.users.GetMe, users_pb2.GetMeRequest(), token).user)

    def update_me(self, token: str | None, *, display_name: str | None = None) -> User:
        request = users_pb2.UpdateMeRequest(display_name=display_name)
        return _grpc_user(self._call(self._stubs.users.UpdateMe, request, token).user)

    def change_password(
        self, token: str | None, *, current_password: str, new_password: str
    ) -> None:
        request = users_pb2.ChangePasswordRequest(
            current_password=current_password, new_password=new_password
        )
        self._call(self._stubs.users.ChangePassword, request, token)

    def create_note(self, token: str | None, *, title: str, body: str = "") -> Note:
        request = notes_pb2.CreateNoteRequest(title=title, body=body)
        return _grpc_note(self._call(self._stubs.notes.CreateNote, request, token).note)

    def get_note(self, token: str | None, note_id: str) -> Note:
        request = notes_pb2.GetNoteRequest(note_id=note_id)
        return _grpc_note(self._call(self._stubs.notes.GetNote, request, token).note)

    def list_notes(
        self,
        token: str | None,
        *,
        query: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> NotePage:
        request = notes_pb2.ListNotesRequest(query=query or "", limit=limit, cursor=cursor or "")
        response = self._call(self._stubs.notes.ListNotes, request, token)
        return NotePage(
            tuple(_grpc_note(note) for note in response.notes), response.next_cursor or None
        )

    def update_note(
        self, token: str | None, note_id: str, *, title: str | None = None, body: str | None = None
    ) -> Note:
        request = notes_pb2.UpdateNoteRequest(note_id=note_id, title=title, body=body)
        return _grpc_note(self._call(self._stubs.notes.UpdateNote, request, token).note)

    def delete_note(self, token: str | None, note_id: str) -> None:
        request = notes_pb2.DeleteNoteRequest(note_id=note_id)
        self._call(self._stubs.notes.DeleteNote, request, token)

    def _call(
        self,
        method: grpc.UnaryUnaryMultiCallable[RequestT, ResponseT],
        request: RequestT,
        token: str | None,
    ) -> ResponseT:
        metadata = bearer(token) if token is not None else ()
        try:
            response: ResponseT = method(request, metadata=metadata, timeout=self._timeout)
        except grpc.RpcError as error:
            raise _grpc_error(error) from error
        return response


def _grpc_error(error: grpc.RpcError) -> Exception:
    if not isinstance(error, grpc.Call) or error.code() not in GRPC_KINDS:
        return UnexpectedResponse(f"the call failed outside the API's contract: {error!r}")
    reason, violations = _rich_details(error)
    kind = reason or GRPC_KINDS[error.code()]
    return ApiError(kind, error.details() or "", violations)


def _rich_details(call: grpc.Call) -> tuple[str | None, dict[str, str]]:
    """The ErrorInfo's reason (when there is one) and the BadRequest's field violations."""
    status = rpc_status.from_call(call)
    reason: str | None = None
    violations: dict[str, str] = {}
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.update({v.field: v.description for v in bad_request.field_violations})
    return reason, violations


def _grpc_time(value: timestamp_pb2.Timestamp) -> dt.datetime:
    return value.ToDatetime(tzinfo=dt.UTC)


def _grpc_user(user: users_pb2.User) -> User:
    return User(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        created_at=_grpc_time(user.created_at),
        updated_at=_grpc_time(user.updated_at),
    )


def _grpc_note(note: notes_pb2.Note) -> Note:
    return Note(
        id=note.id,
        title=note.title,
        body=note.body,
        created_at=_grpc_time(note.created_at),
        updated_at=_grpc_time(note.updated_at),
    )
