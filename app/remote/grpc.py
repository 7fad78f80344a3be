"""What every gRPC client of another service shares: the channel, deadlines, retries, errors.

A call has a deadline (``REMOTE_TIMEOUT_SECONDS``). An idempotent call that the other side
answers UNAVAILABLE (it is down, restarting, or unreachable) is tried again, up to
``REMOTE_ATTEMPTS`` times in all, with a short exponential backoff. A failure then comes back
as an error of the common tree (:data:`ERRORS`), so the adapters of this service answer it by
their own tables: above all, a service that cannot be reached is
:class:`~common.errors.Unavailable` (503, UNAVAILABLE), never a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc

from common.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
    Unauthenticated,
    Unavailable,
)
from common.telemetry import Tracing

__all__ = ["CHANNEL_OPTIONS", "ERRORS", "CallPolicy", "Connection", "error_for"]

logger = logging.getLogger(__name__)

RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")

#: The other side's refusals, as the error this service raises in turn. Codes not listed
#: (INTERNAL, UNKNOWN, ...) mean the other service failed: :class:`Unavailable` too.
ERRORS: Mapping[grpc.StatusCode, type[ServiceError]] = {
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: Conflict,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidInput,
    grpc.StatusCode.FAILED_PRECONDITION: ServiceError,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Unavailable,
}

#: Reconnect soon after the other service comes back (grpcio waits up to two minutes by
#: default); calls meanwhile fail fast as UNAVAILABLE instead of waiting for a connection.
CHANNEL_OPTIONS: Sequence[tuple[str, int]] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """How calls to one service are made: deadline per attempt, attempts, first backoff."""

    timeout: float = 2.0
    attempts: int = 3
    backoff: float = 0.05


def error_for(error: grpc.RpcError, service: str) -> ServiceError:
    """The error of the common tree a failed call to ``service`` stands for."""
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (error.details() if isinstance(error, grpc.Call) else None) or ""
    kind = ERRORS.get(code, Unavailable)
    if kind is Unavailable:
        # The other side's own words stay in the log: a caller learns only who failed.
        logger.warning("the %s service failed: %s %s", service, code.name, details)
        return Unavailable(f"the {service} service is unavailable")
    return kind(details or f"the {service} service refused the call ({code.name})")


class Connection:
    """One channel to another service (opened on first use, closed at shutdown) and its calls."""

    def __init__(
        self,
        target: str,
        *,
        service: str,
        policy: CallPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        tracing: Tracing | None = None,
    ) -> None:
        self.target = target
        self.service = service
        self.policy = policy or CallPolicy()
        #: With tracing on, each call is a client span, and the trace goes on to the other side.
        self.tracing = tracing
        self._sleep = sleep
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    @property
    def channel(self) -> grpc.Channel:
        with self._lock:
            if self._channel is None:
                channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
                if self.tracing is not None and self.tracing.enabled:
                    from opentelemetry.instrumentation.grpc import client_interceptor, grpcext

                    traced = client_interceptor(  # type: ignore[no-untyped-call]
                        tracer_provider=self.tracing.provider
                    )
                    # The instrumentation's interceptor has its own interface, and adapter.
                    channel = grpcext.intercept_channel(channel, traced)  # type: ignore[no-untyped-call]
                self._channel = channel
            return self._channel

    def close(self) -> None:
        with self._lock:
            channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def call(
        self,
        method: grpc.UnaryUnaryMultiCallable[RequestT, ResponseT],
        request: RequestT,
        *,
        idempotent: bool,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> ResponseT:
        """``method(request)`` under the policy; failures as errors of the common tree."""
        attempts = self.policy.attempts if idempotent else 1
        attempt = 1
        while True:
            try:
                return method(request, timeout=self.policy.timeout, metadata=tuple(metadata))
            except grpc.RpcError as exc:
                if attempt >= attempts or not _unavailable(exc):
                    raise error_for(exc, self.service) from exc
            wait = self.policy.backoff * 2 ** (attempt - 1)
            attempt += 1
            logger.info(
                "the %s service is unavailable; attempt %d of %d in %.2fs",
                self.service,
                attempt,
                attempts,
                wait,
            )
            self._sleep(wait)


def _unavailable(error: grpc.RpcError) -> bool:
    return isinstance(error, grpc.Call) and error.code() is grpc.StatusCode.UNAVAILABLE
