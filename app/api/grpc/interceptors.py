"""The server interceptors every RPC goes through, outermost first.

1. :class:`RequestContextInterceptor`: the request id (from ``x-request-id`` metadata when
   well formed, else a new one) is bound for every log line of the RPC and returned in the
   trailing metadata; one access-log line per RPC on ``app.api.grpc.access``.
2. :class:`LifecycleInterceptor`: the RPC is one unit of work; the lifecycle's teardown hooks
   (closing the database session) run in ``finally``, whatever happened.
3. :class:`ErrorInterceptor`: the only place that decides status codes, through the table in
   :mod:`app.api.grpc.errors`. It also parses the request itself, so bytes that are not the
   RPC's message are INVALID_ARGUMENT rather than grpcio's INTERNAL.
4. :class:`AuthenticationInterceptor`: the bearer token of the ``authorization`` metadata,
   resolved as the RPC's service says (:mod:`app.api.grpc.catalog`: the auth service, or
   notes through its port to users), binds the :class:`~app.api.grpc.context.Caller`; RPCs
   in :data:`PUBLIC_METHODS` and the health and reflection services need none.

Only unary-unary RPCs are wrapped: every RPC of this API is one, and so is the health check.
Streaming ones (health ``Watch``, reflection) pass through untouched. Each interceptor wraps a
method's handler once and reuses the wrapped handler for every later call of that method
(grpcio asks the interceptors on every call); what differs between calls, such as the
metadata, is read from the call's context.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health
from grpc_reflection.v1alpha import reflection

from app.api.grpc.catalog import SERVICES
from app.api.grpc.context import Caller, bearer_token, bind_caller
from app.api.grpc.errors import internal_status, status_for
from app.api.grpc.served import ServedService
from app.bootstrap import Runtime
from common.errors import InvalidInput, ServiceError
from common.lifecycle import Lifecycle
from common.logs import accepted_request_id, bind_request_id
from common.metrics import Metrics

__all__ = [
    "OPEN_SERVICES",
    "PUBLIC_METHODS",
    "REQUEST_ID_KEY",
    "AuthenticationInterceptor",
    "ErrorInterceptor",
    "LifecycleInterceptor",
    "RequestContextInterceptor",
    "default_interceptors",
    "requires_token",
]

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("app.api.grpc.access")

REQUEST_ID_KEY = "x-request-id"

if TYPE_CHECKING:  # grpc's classes are generic in the type stubs only
    Behavior: TypeAlias = Callable[[Any, grpc.ServicerContext], Any]
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
    Continuation: TypeAlias = Callable[[grpc.HandlerCallDetails], Handler | None]


#: RPCs served without a token, as the catalog lists them.
PUBLIC_METHODS: frozenset[str] = frozenset().union(
    *(service.public_methods() for service in SERVICES)
)
#: Infrastructure services open to load balancers and tools such as grpcurl.
OPEN_SERVICES: frozenset[str] = frozenset({health.SERVICE_NAME, reflection.SERVICE_NAME})


def requires_token(method: str) -> bool:
    """Whether ``/package.Service/Rpc`` needs a bearer token: all but the listed ones do."""
    service = method.lstrip("/").partition("/")[0]
    return method not in PUBLIC_METHODS and service not in OPEN_SERVICES


def _wrapped(
    handler: Handler | None, wrap: Callable[[Behavior], Behavior], *, raw_requests: bool = False
) -> Handler | None:
    """``handler`` with its unary-unary behaviour wrapped; other handlers as they are.

    With ``raw_requests`` the new handler receives the request's bytes, and the behaviour
    ``wrap`` returns must parse them (with ``handler.request_deserializer``) itself.
    """
    if handler is None or handler.unary_unary is None:
        return handler
    return grpc.unary_unary_rpc_method_handler(
        wrap(handler.unary_unary),
        request_deserializer=None if raw_requests else handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class _Wrapped:
    """The handlers an interceptor made, by method: made on a method's first call, then reused.

    A handler is made again only if the one it wraps changed (which grpcio never does for a
    registered method). Two threads making the same method's handler at once both get a
    working one; the last stays.
    """

    def __init__(self, make: Callable[[str, Handler], Handler | None]) -> None:
        self._make = make
        self._made: dict[str, tuple[Handler, Handler | None]] = {}

    def __call__(self, method: str, handler: Handler | None) -> Handler | None:
        if handler is None:
            return None
        made = self._made.get(method)
        if made is not None and made[0] is handler:
            return made[1]
        wrapped = self._make(method, handler)
        self._made[method] = (handler, wrapped)
        return wrapped


class _Interceptor(grpc.ServerInterceptor):
    """An interceptor that wraps each method's handler once (:meth:`_wrap`) and reuses it."""

    def __init__(self) -> None:
        self._wrapped = _Wrapped(self._wrap)

    def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        return self._wrapped(handler_call_details.method, continuation(handler_call_details))

    def _wrap(self, method: str, handler: Handler) -> Handler | None:
        raise NotImplementedError


def _metadata_value(metadata: Iterable[tuple[str, str | bytes]] | None, key: str) -> str | None:
    for name, value in metadata or ():
        if name == key and isinstance(value, str):
            return value
    return None


def _status_code(context: grpc.ServicerContext, *, failed: bool) -> grpc.StatusCode:
    # ServicerContext.code() is public since grpcio 1.38; the type stubs do not have it yet.
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    if code is not None:
        return code
    return grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK


class RequestContextInterceptor(_Interceptor):
    """Request id in, request id out (trailing metadata), one access-log line per RPC, and
    its count and duration by method and code when there are metrics."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        super().__init__()
        self._metrics = metrics

    def _wrap(self, method: str, handler: Handler) -> Handler | None:
        metrics = self._metrics

        def wrap(behavior: Behavior) -> Behavior:
            def with_request_id(request: Any, context: grpc.ServicerContext) -> Any:
                started = time.perf_counter()
                failed = False
                given = accepted_request_id(
                    _metadata_value(context.invocation_metadata(), REQUEST_ID_KEY)
                )
                with bind_request_id(given) as request_id:
                    try:
                        return behavior(request, context)
                    except BaseException:
                        failed = True
                        raise
                    finally:
                        trailing = tuple(context.trailing_metadata() or ())
                        context.set_trailing_metadata((*trailing, (REQUEST_ID_KEY, request_id)))
                        code = _status_code(context, failed=failed)
                        seconds = time.perf_counter() - started
                        _log_access(method, code, seconds)
                        if metrics is not None:
                            metrics.grpc_requests.labels(method, code.name).inc()
                            metrics.grpc_duration.labels(method).observe(seconds)

            return with_request_id

        return _wrapped(handler, wrap)


def _log_access(method: str, code: grpc.StatusCode, seconds: float) -> None:
    duration_ms = round(seconds * 1000, 1)
    access_logger.info(
        "%s %s %.1fms",
        method,
        code.name,
        duration_ms,
        extra={"method": method, "code": code.name, "duration_ms": duration_ms},
    )


class LifecycleInterceptor(_Interceptor):
    """Each RPC is a unit of work: the teardown hooks run after it, even when it failed."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        super().__init__()
        self._lifecycle = lifecycle

    def _wrap(self, method: str, handler: Handler) -> Handler | None:
        def wrap(behavior: Behavior) -> Behavior:
            def in_unit_of_work(request: Any, context: grpc.ServicerContext) -> Any:
                with self._lifecycle.unit_of_work():
                    return behavior(request, context)

            return in_unit_of_work

        return _wrapped(handler, wrap)


class ErrorInterceptor(_Interceptor):
    """Errors of the tree to their status, anything else to a logged, generic INTERNAL."""

    def _wrap(self, method: str, handler: Handler) -> Handler | None:
        parse = handler.request_deserializer

        def wrap(behavior: Behavior) -> Behavior:
            def with_status(raw: Any, context: grpc.ServicerContext) -> Any:
                try:
                    return behavior(_parsed(raw, parse), context)
                except ServiceError as exc:
                    status = status_for(exc)
                except Exception:
                    logger.exception("unexpected error in %s", method)
                    status = internal_status()
                context.abort_with_status(status)

            return with_status

        return _wrapped(handler, wrap, raw_requests=True)


def _parsed(raw: Any, parse: Callable[[bytes], Any] | None) -> Any:
    if parse is None:
        return raw
    try:
        return parse(raw)
    except DecodeError as exc:
        raise InvalidInput("the request is not a valid message for this RPC") from exc


class AuthenticationInterceptor(_Interceptor):
    """``authorization: Bearer <token>`` → the caller, for every RPC that needs a token."""

    def __init__(self, runtime: Runtime, services: Sequence[ServedService] = SERVICES) -> None:
        super().__init__()
        self._runtime = runtime
        self._authenticate = {s.name: s.authenticate for s in services if s.authenticate}

    def _wrap(self, method: str, handler: Handler) -> Handler | None:
        authenticate = self._authenticate.get(method.lstrip("/").partition("/")[0])
        if authenticate is None or not requires_token(method):
            return handler

        def wrap(behavior: Behavior) -> Behavior:
            def authenticated(request: Any, context: grpc.ServicerContext) -> Any:
                token = bearer_token(context.invocation_metadata())
                # Raises Unauthenticated when the token is absent or not valid.
                user_id = authenticate(self._runtime.services(), token)
                with bind_caller(Caller(user_id=user_id, token=token or "")):
                    return behavior(request, context)

            return authenticated

        return _wrapped(handler, wrap)


def default_interceptors(runtime: Runtime) -> list[grpc.ServerInterceptor]:
    """The interceptors of :func:`~app.api.grpc.server.create_grpc_server`, outermost first:
    OpenTelemetry's server span first when tracing is on (health checks left out)."""
    tracing: list[grpc.ServerInterceptor] = []
    if runtime.tracing.enabled:
        from opentelemetry.instrumentation.grpc import filters, server_interceptor

        tracing.append(
            server_interceptor(  # type: ignore[no-untyped-call]
                tracer_provider=runtime.tracing.provider,
                filter_=filters.negate(filters.health_check()),
            )
        )
    return [
        *tracing,
        RequestContextInterceptor(runtime.metrics),
        LifecycleInterceptor(runtime.lifecycle),
        ErrorInterceptor(),
        AuthenticationInterceptor(runtime),
    ]
