"""What a running job knows of the service: its runtime, its services, its unit of work.

The worker hands the runtime to every job through ``context.additional_context`` (see
:func:`app.worker.app.create_app`); :func:`unit_of_work` wraps each job the way Flask's
``teardown_appcontext`` and the gRPC lifecycle interceptor wrap requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from procrastinate import JobContext
from procrastinate.worker import Worker

from app.bootstrap import Runtime, Services
from common.logs import bind_request_id

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
    with bind_request_id(f"job-{context.job.id}"), runtime_of(context).unit_of_work():
        return call_next()
