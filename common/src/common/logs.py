"""Logging set-up: readable lines locally, one JSON object per line when deployed.

Every record carries the request id of the unit of work it belongs to (``-`` outside one):
adapters set it with :func:`bind_request_id` from ``X-Request-ID`` / gRPC metadata (when
:func:`accepted_request_id` accepts it) or a new one. Inside a traced span it carries the
span's ``trace_id`` and ``span_id`` too (a record may bring its own, as ``extra``, when it is
written after its span ended), so a log line leads to its trace and back.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator

from common.telemetry import current_ids

__all__ = [
    "JsonFormatter",
    "accepted_request_id",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "new_request_id",
]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "trace",
}


#: Short and plain, so a caller's id cannot forge log lines or bloat them.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accepted_request_id(value: str | None) -> str | None:
    """A caller's request id when it is fit to be one, else ``None`` (and a new one is made)."""
    return value if value and _REQUEST_ID.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _request_id.get()


@contextlib.contextmanager
def bind_request_id(request_id: str | None = None) -> Iterator[str]:
    """Attach ``request_id`` (or a new one) to every log line inside the block."""
    value = request_id or new_request_id()
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class _ContextFilter(logging.Filter):
    """The request id, and the trace and span ids (when there are), on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        if not hasattr(record, "trace_id"):
            ids = current_ids()
            if ids is not None:
                record.trace_id, record.span_id = ids
        trace_id = getattr(record, "trace_id", None)
        record.trace = (
            f" trace={trace_id} span={getattr(record, 'span_id', '-')}" if trace_id else ""
        )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra=`` fields passed to the logger."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    """Replace the root handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s [%(request_id)s%(trace)s] %(name)s: %(message)s"
            )
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
