"""``backend.v1.AuthService`` and the authentication interceptor in front of every other RPC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf import message

from app.api.grpc.generated.v1 import auth_pb2, notes_pb2, user_events_pb2, users_pb2
from app.api.grpc.interceptors import PUBLIC_METHODS
from app.api.grpc.served import ServedService
from app.bootstrap import Runtime
from tests.api.grpc.support import Metadata, Stubs, bearer, failure
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD, Factories

#: Every RPC that needs a token, with a request that would otherwise be served.
PROTECTED: dict[str, tuple[Callable[[Stubs], Callable[..., Any]], message.Message]] = {
    "GetMe": (lambda s: s.users.GetMe, users_pb2.GetMeRequest()),
    "UpdateMe": (lambda s: s.users.UpdateMe, users_pb2.UpdateMeRequest(display_name="X")),
    "ChangePassword": (
        lambda s: s.users.ChangePassword,
        users_pb2.ChangePasswordRequest(current_password="a", new_password="b"),
    ),
    "DeleteMe": (lambda s: s.users.DeleteMe, users_pb2.DeleteMeRequest()),
    "GetUser": (lambda s: s.users.GetUser, users_pb2.GetUserRequest(user_id="x")),
    "LogOut": (lambda s: s.auth.LogOut, auth_pb2.LogOutRequest()),
    "CreateNote": (lambda s: s.notes.CreateNote, notes_pb2.CreateNoteRequest(title="t")),
    "GetNote": (lambda s: s.notes.GetNote, notes_pb2.GetNoteRequest(note_id="x")),
    "ListNotes": (lambda s: s.notes.ListNotes, notes_pb2.ListNotesRequest()),
    "UpdateNote": (lambda s: s.notes.UpdateNote, notes_pb2.UpdateNoteRequest(note_id="x")),
    "DeleteNote": (lambda s: s.notes.DeleteNote, notes_pb2.DeleteNoteRequest(note_id="x")),
}


def test_every_rpc_is_either_public_or_listed_here_as_protected() -> None:
    methods = {
        f"/{service.full_name}/{method.name}"
        for module in (users_pb2, auth_pb2, notes_pb2, user_events_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert PUBLIC_METHODS.issubset(methods)
    assert {m.rpartition("/")[2] for m in PUBLIC_METHODS} == {
        "SignUp",
        "LogIn",
        "ResolveToken",
        "UserExists",
        "UserDeleted",
    }
    assert {m.rpartition("/")[2] for m in methods - PUBLIC_METHODS} == set(PROTECTED)


def test_a_catalog_entry_names_real_rpcs_and_a_way_to_check_every_other_one() -> None:
    notes = notes_pb2.DESCRIPTOR.services_by_name["NotesService"]
    with pytest.raises(ValueError, match=r"has no RPC \['ReadNote'\]"):
        ServedService(notes, lambda runtime, server: None, public=frozenset({"ReadNote"}))
    with pytest.raises(ValueError, match="need a token but no way to check it"):
        ServedService(notes, lambda runtime, server: None, public=frozenset({"GetNote"}))


def test_log_in_returns_a_token_and_its_expiry(
    stubs: Stubs, factories: Factories, runtime: Runtime, clock: TickingClock
) -> None:
    user = factories.user()
    issued_at = clock.now
    response = stubs.auth.LogIn(
        auth_pb2.LogInRequest(email=user.email.upper(), password=DEFAULT_PASSWORD)
    )
    expires_at = response.expires_at.ToDatetime(tzinfo=dt.UTC)
    ttl = dt.timedelta(seconds=runtime.settings.token_ttl_seconds)
    assert issued_at + ttl < expires_at < issued_at + ttl + dt.timedelta(seconds=1)
    me = stubs.users.GetMe(users_pb2.GetMeRequest(), metadata=bearer(response.token))
    assert me.user.id == str(user.id)


def test_a_wrong_password_and_an_unknown_email_fail_alike(
    stubs: Stubs, factories: Factories
) -> None:
    user = factories.user()
    outcomes = set()
    for email, password in (
        (user.email, "wrong password 1"),
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("", ""),
    ):
        call = failure(stubs.auth.LogIn, auth_pb2.LogInRequest(email=email, password=password))
        outcomes.add((call.code(), call.details()))
    assert outcomes == {(grpc.StatusCode.UNAUTHENTICATED, "wrong email or password")}


@pytest.mark.parametrize("rpc", sorted(PROTECTED))
@pytest.mark.parametrize(
    "metadata",
    [
        (),
        (("authorization", "Bearer not-a-token"),),
        (("authorization", "Bearer "),),
        (("authorization", "Basic dXNlcjpwYXNz"),),
        (("authorization", "Bearer " + "x" * 500),),
    ],
    ids=["missing", "unknown", "empty", "other-scheme", "oversized"],
)
def test_protected_rpcs_need_a_valid_bearer_token(
    stubs: Stubs, rpc: str, metadata: Metadata
) -> None:
    method, request = PROTECTED[rpc]
    call = failure(method(stubs), request, metadata=metadata)
    assert call.code() is grpc.StatusCode.UNAUTHENTICATED


def test_an_expired_token_is_unauthenticated(
    stubs: Stubs, factories: Factories, runtime: Runtime, clock: TickingClock
) -> None:
    user = factories.user()
    auth = bearer(factories.token(user))
    clock.advance(seconds=runtime.settings.token_ttl_seconds - 1)
    assert stubs.users.GetMe(users_pb2.GetMeRequest(), metadata=auth).user.id == str(user.id)
    clock.advance(seconds=2)
    call = failure(stubs.users.GetMe, users_pb2.GetMeRequest(), metadata=auth)
    assert call.code() is grpc.StatusCode.UNAUTHENTICATED
    assert call.details() == "the token is invalid, expired or revoked"


def test_log_out_revokes_only_that_token(stubs: Stubs, factories: Factories) -> None:
    user = factories.user()
    kept, revoked = factories.token(user), factories.token(user)
    stubs.auth.LogOut(auth_pb2.LogOutRequest(), metadata=bearer(revoked))
    call = failure(stubs.users.GetMe, users_pb2.GetMeRequest(), metadata=bearer(revoked))
    assert call.code() is grpc.StatusCode.UNAUTHENTICATED
    again = failure(stubs.auth.LogOut, auth_pb2.LogOutRequest(), metadata=bearer(revoked))
    assert again.code() is grpc.StatusCode.UNAUTHENTICATED
    assert stubs.users.GetMe(users_pb2.GetMeRequest(), metadata=bearer(kept)).user.id == str(
        user.id
    )


def test_resolve_token_needs_no_metadata_and_refuses_bad_tokens(
    stubs: Stubs, factories: Factories, runtime: Runtime, clock: TickingClock
) -> None:
    user = factories.user()
    token = factories.token(user)
    resolved = stubs.auth.ResolveToken(auth_pb2.ResolveTokenRequest(token=token))
    assert (resolved.user.id, resolved.user.email) == (str(user.id), user.email)
    for bad in ("", "not-a-token", "x" * 500):
        call = failure(stubs.auth.ResolveToken, auth_pb2.ResolveTokenRequest(token=bad))
        assert call.code() is grpc.StatusCode.UNAUTHENTICATED
    clock.advance(seconds=runtime.settings.token_ttl_seconds + 1)
    expired = failure(stubs.auth.ResolveToken, auth_pb2.ResolveTokenRequest(token=token))
    assert expired.code() is grpc.StatusCode.UNAUTHENTICATED
