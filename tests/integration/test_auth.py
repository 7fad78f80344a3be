"""Bearer tokens: issued at login, stored hashed, rejected once expired or revoked."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bootstrap import Runtime, Services
from app.config import Settings
from app.db.models import TokenRow
from common.errors import Unauthenticated
from tests.conftest import TickingClock
from tests.factories import DEFAULT_PASSWORD, Factories


def test_login_issues_a_token_that_resolves_to_the_user(
    services: Services, factories: Factories, session: Session
) -> None:
    user = factories.user()
    issued = services.auth.login(email=user.email, password=DEFAULT_PASSWORD)
    assert len(issued.token) >= 40
    assert services.auth.resolve(issued.token) == user
    stored = session.scalars(select(TokenRow.token_hash)).one()
    assert stored == hashlib.sha256(issued.token.encode()).digest()
    assert issued.token.encode() not in stored


@pytest.mark.parametrize("token", [None, "", "x" * 500, "no-such-token"])
def test_missing_or_unknown_tokens_are_rejected(services: Services, token: str | None) -> None:
    with pytest.raises(Unauthenticated):
        services.auth.resolve(token)


def test_tokens_expire(
    runtime: Runtime,
    session: Session,
    clock: TickingClock,
    override_settings: Callable[..., Settings],
) -> None:
    override_settings(token_ttl_seconds=60)
    services = runtime.services()  # built after the override, so it sees the 60 s lifetime
    user = Factories(services).user()
    issued = services.auth.login(email=user.email, password=DEFAULT_PASSWORD)
    clock.advance(seconds=59)
    assert services.auth.resolve(issued.token).id == user.id
    clock.advance(seconds=1)
    with pytest.raises(Unauthenticated, match="expired"):
        services.auth.resolve(issued.token)


def test_revoked_tokens_are_rejected(services: Services, factories: Factories) -> None:
    user = factories.user()
    token, other = factories.token(user), factories.token(user)
    services.auth.revoke(token)
    with pytest.raises(Unauthenticated):
        services.auth.resolve(token)
    with pytest.raises(Unauthenticated):
        services.auth.revoke(token)
    assert services.auth.resolve(other).id == user.id


def test_purge_removes_expired_and_revoked_tokens_only(
    services: Services, factories: Factories, clock: TickingClock, session: Session
) -> None:
    user = factories.user()
    old = factories.token(user)
    clock.advance(hours=23)
    revoked = factories.token(user)
    services.auth.revoke(revoked)
    fresh = factories.token(user)
    clock.advance(hours=2)  # `old` is now past its 24 h lifetime
    assert services.auth.purge_expired() == 2
    assert session.scalar(select(func.count()).select_from(TokenRow)) == 1
    assert services.auth.resolve(fresh).id == user.id
    with pytest.raises(Unauthenticated):
        services.auth.resolve(old)
