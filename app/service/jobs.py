"""The job queue port: the service layer asks for background work without naming the queue.

A feature declares each kind of job it needs as a :class:`Task` (the name a worker runs it
under and the queue it waits in) and enqueues it through a :class:`JobQueue` bound to the
unit of work's session: the job commits with the data that caused it, or rolls back with it.
The worker (``app.worker``) registers a function under each name and calls the service layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

__all__ = ["JSONValue", "JobQueue", "Task"]

#: What a job's arguments may hold: they are stored as JSON until a worker runs the job.
JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None


@dataclass(frozen=True, slots=True)
class Task:
    """A kind of background job: the name a worker knows it by and the queue it waits in."""

    name: str
    queue: str = "default"


class JobQueue(Protocol):
    def enqueue(self, task: Task, /, **arguments: JSONValue) -> None:
        """Add a job running ``task`` with ``arguments``, in the caller's transaction.

        Nothing is enqueued until the caller commits; a rollback discards the job too.
        """
