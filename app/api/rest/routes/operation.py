"""One row of the route table: an operation with its models, statuses and documentation."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

__all__ = ["Operation"]


@dataclass(frozen=True, slots=True)
class Operation:
    endpoint: str
    """Flask's endpoint name: ``<blueprint>.<view function>``."""
    method: str
    path: str
    """As OpenAPI writes it: ``/v1/notes/{note_id}``."""
    summary: str
    status: int
    """The success status."""
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    """Needs ``Authorization: Bearer <token>``."""
    errors: tuple[int, ...] = ()
    """Statuses this operation itself can answer with, beyond those its inputs imply."""
    location: bool = False
    """A 201 that names the new resource in ``Location``."""
    description: str = ""
    links: tuple[str, ...] = ()
    """Endpoints that take the ``id`` of this operation's answer as their path parameter
    (OpenAPI links: clients and fuzzers learn where a new resource's id goes)."""

    @property
    def tag(self) -> str:
        return self.endpoint.partition(".")[0]

    def error_statuses(self) -> tuple[int, ...]:
        """Every documented failure status; anything else is the document's ``default``."""
        statuses = set(self.errors)
        if self.body is not None:
            statuses |= {400, 413, 415, 422}
        if self.query is not None:
            statuses.add(422)
        if self.auth:
            statuses.add(401)
        if "{" in self.path:
            statuses.add(404)
        return tuple(sorted(statuses))
