"""Traces with OpenTelemetry, configured by the standard ``OTEL_*`` variables.

Tracing is on when the environment asks for it: an OTLP endpoint
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) or an explicit
``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, or ``none``: spans made and dropped, the SDK's
cost without an exporter's). ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set.
Off, nothing is instrumented and the API's no-op tracer stands in, so tracing costs nothing.
The SDK reads the rest itself: ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG``, ``OTEL_EXPORTER_OTLP_*``.

A :class:`Tracing` belongs to a process's runtime: adapters instrument with its
``provider`` (Flask, the gRPC server and client, the engine), never the global one, so two
runtimes in one process (tests, a service and its peer) keep their spans apart. A job carries
the trace of the unit of work that enqueued it as a W3C ``traceparent`` (:func:`carrier`), and
the worker continues it (:func:`continued`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy import Engine

__all__ = [
    "EXPORTERS",
    "JOB_TRACE_ARGUMENT",
    "Tracing",
    "carrier",
    "continued",
    "current_ids",
    "requested_exporters",
]

#: The job argument that carries the trace of the unit of work that enqueued the job: the
#: queue adds it, the worker takes it out before the task sees its arguments.
JOB_TRACE_ARGUMENT = "_trace"

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


#: The span exporters OTEL_TRACES_EXPORTER may name (``none``: spans made, then dropped).
EXPORTERS = ("otlp", "console", "none")


def requested_exporters(environ: Mapping[str, str]) -> list[str]:
    """The exporters ``environ`` asks for (empty: tracing off); ``ValueError`` naming the
    variable for one this service does not have."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [
        name.strip().lower()
        for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")
        if name.strip()
    ]
    unknown = [name for name in named if name not in EXPORTERS]
    if unknown:
        raise ValueError(
            f"OTEL_TRACES_EXPORTER: unknown exporter {unknown[0]!r} "
            f"(one or more of {', '.join(EXPORTERS)}, comma-separated)"
        )
    if not named and any(environ.get(name, "").strip() for name in _ENDPOINTS):
        return ["otlp"]
    return named


class Tracing:
    """A process's tracing: an SDK provider, or ``None`` when tracing is off."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self.provider = provider

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    @classmethod
    def from_environment(
        cls, service_name: str, environ: Mapping[str, str] = os.environ
    ) -> Tracing:
        """What ``OTEL_*`` asks for (see the module docstring); ``service_name`` unless
        ``OTEL_SERVICE_NAME`` names the service."""
        exporters = requested_exporters(environ)
        if not exporters:
            return cls()

        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        resource = Resource.create({SERVICE_NAME: service_name}).merge(Resource.create())
        provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
        for name in exporters:
            if name == "otlp":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                    OTLPSpanExporter,
                )

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            elif name == "console":
                provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        return cls(provider)

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer of this process's provider (the no-op one when tracing is off)."""
        if self.provider is None:
            return trace.NoOpTracer()
        return self.provider.get_tracer(name)

    def instrument_engine(self, engine: Engine) -> None:
        """Spans for the statements SQLAlchemy runs on ``engine`` (none when off)."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeter

        # The instrumentation's tracer for one engine: its instrumentor would patch
        # create_engine for the whole process instead. Pool metrics are common.metrics'.
        usage = NoOpMeter("sqlalchemy").create_up_down_counter("db.client.connections.usage")
        tracer = self.tracer("opentelemetry.instrumentation.sqlalchemy")
        EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]

    def shutdown(self) -> None:
        """Export what is buffered and stop (a shutdown hook)."""
        if self.provider is not None:
            self.provider.shutdown()


def carrier() -> dict[str, str]:
    """The current trace as W3C headers (``traceparent``), or ``{}`` outside a sampled span."""
    headers: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(headers)
    return headers


def continued(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The context a unit of work continues: the trace ``headers`` carry, or a new one."""
    return propagate.extract(dict(headers or {}))


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` of the current span, in hex, or ``None`` outside one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"
