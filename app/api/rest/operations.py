"""REST operations declared once: Flask's route, what the view reads, and the OpenAPI operation.

A feature's views live on a :class:`Routes` (a Flask blueprint) and are declared with
:meth:`Routes.operation`::

    @routes.operation("POST", "", "Create a note", 201, schemas.NoteOut, body=schemas.NoteIn)
    def create_note(caller: uuid.UUID, body: schemas.NoteIn) -> Response: ...

That one declaration registers the Flask route, hands the view its caller (the routes'
``authenticate``, unless ``auth=False``) and its input parsed into the declared models
(``body``, ``query``), and is the row the OpenAPI document (:mod:`app.api.rest.openapi`) and
the tests' contract check read. The caller is known before the input is read, so a request
without a valid token is a 401 whatever its body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Blueprint, Flask, Response
from flask.sansio.blueprints import Blueprint as AnyBlueprint
from pydantic import BaseModel

from app.api.rest.payloads import parse_body, parse_query

__all__ = ["Operation", "Routes", "declared_operations", "operations_by_endpoint"]

CallerT = TypeVar("CallerT")
View = Callable[..., Response]

_FLASK_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


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


class Routes(Blueprint, Generic[CallerT]):
    """A blueprint whose views are declared with their operation (see the module docstring).

    ``authenticate`` returns the caller of the current request, or raises
    ``Unauthenticated``; views of operations that need a token receive it as ``caller``.
    """

    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        url_prefix: str = "",
        authenticate: Callable[[], CallerT] | None = None,
    ) -> None:
        super().__init__(name, import_name, url_prefix=url_prefix or None)
        self.authenticate = authenticate
        self.operations: list[Operation] = []

    def operation(
        self,
        method: str,
        rule: str,
        summary: str,
        status: int,
        response: type[BaseModel] | None = None,
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        location: bool = False,
        description: str = "",
        links: tuple[str, ...] = (),
    ) -> Callable[[View], View]:
        """Declare the view below as this operation (``rule`` is Flask's, after the prefix)."""
        authenticate = self.authenticate
        if auth and authenticate is None:
            raise TypeError(f"{self.name}: an operation with auth needs Routes(authenticate=...)")

        def declare(view: View) -> View:
            path = _FLASK_VARIABLE.sub(r"{\1}", (self.url_prefix or "") + rule)
            self.operations.append(
                Operation(
                    f"{self.name}.{view.__name__}",
                    method,
                    path,
                    summary,
                    status,
                    response,
                    body,
                    query,
                    auth,
                    errors,
                    location,
                    description,
                    links,
                )
            )

            @functools.wraps(view)
            def handle(**path_parameters: str) -> Response:
                inputs: dict[str, Any] = {}
                if auth and authenticate is not None:
                    inputs["caller"] = authenticate()
                if body is not None:
                    inputs["body"] = parse_body(body)
                if query is not None:
                    inputs["query"] = parse_query(query)
                return view(**path_parameters, **inputs)

            self.add_url_rule(rule, view.__name__, handle, methods=[method])
            return view

        return declare


def declared_operations(blueprints: Iterable[AnyBlueprint]) -> tuple[Operation, ...]:
    """The operations of the given blueprints, in their order (plain blueprints have none)."""
    return tuple(
        operation
        for blueprint in blueprints
        if isinstance(blueprint, Routes)
        for operation in blueprint.operations
    )


def operations_by_endpoint(app: Flask) -> Mapping[str, Operation]:
    """The operations an app serves, by Flask endpoint."""
    return {
        operation.endpoint: operation for operation in declared_operations(app.blueprints.values())
    }
