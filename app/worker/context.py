"""What a running job knows of the service: its runtime, its services, its unit of work.

The worker hands the runtime to every job through ``context.additional_context`` (see
:func:`app.worker.app.create_app`); :func:`unit_of_work` wraps each job the way Flask's
``teardown_appcontext`` and the gRPC lifecycle interceptor wrap requests, and with the job's
telemetry: a span that continues the trace of the unit of work that enqueued the job (its
``traceparent`` came with the job's arguments, see :mod:`app.db.jobs`), and the job's count,
duration and retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from opentelemetry.trace import SpanKind
from procrastinate import JobContext
from procrastinate.worker import Worker

from app.bootstrap import Runtime, Services
from common.logs import bind_request_id
from common.telemetry import JOB_TRACE_ARGUMENT, continued

__all__ = ["RUNTIME", "runtime_of", "services_of", "unit_of_work"]

#: Key of the runtime in each job's ``context.additional_context``.
RUNTIME = "runtime"


def runtime_of(context: JobContext) -> Runtime:
    return cast(Runtime, context.additional_context[RUNTIME])


def services_of(context: JobContext) -> Services:
    """The services of the running job's unit of work (valid inside :func:`unit_of_work`)."""
    return runtime_of(context).services()


def unit_of_work(call_next: Callable[[], Any], context: JobContext, worker: Worker) -> Any:
    """Task middleware around every (synchronous) task: one unit of work per job.

    The teardown hooks (closing the job's session) run even when the task fails. Log lines
    of the job carry ``job-<id>`` where a request's carry its request id.
    """
    runtime = runtime_of(context)
    job = context.job
    # Not an argument of the task: taken out before the task is called with the rest.
    carried = job.task_kwargs.pop(JOB_TRACE_ARGUMENT, None)
    span = runtime.tracing.tracer(__name__).start_as_current_span(
        f"job {job.task_name}",
        context=continued(
            {str(key): str(value) for key, value in carried.items()}
            if isinstance(carried, dict)
            else None
        ),
        kind=SpanKind.CONSUMER,
        attributes={"job.id": job.id or 0, "job.attempts": job.attempts, "job.queue": job.queue},
    )
    metrics = runtime.metrics
    started = time.perf_counter()
    outcome = "failed"
    try:
        with span, bind_request_id(f"job-{job.id}"), runtime.unit_of_work():
            result = call_next()
        outcome = "succeeded"
        return result
    finally:
        if metrics is not None:
            metrics.jobs.labels(job.task_name, outcome).inc()
            metrics.job_duration.labels(job.task_name).observe(time.perf_counter() - started)
            if job.attempts:
                metrics.job_retries.labels(job.task_name).inc()
