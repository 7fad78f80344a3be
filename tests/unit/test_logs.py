from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from common.logs import JsonFormatter, bind_request_id, configure_logging, current_request_id


def test_request_ids_nest_and_reset() -> None:
    assert current_request_id() is None
    with bind_request_id("outer") as outer:
        assert outer == "outer"
        with bind_request_id() as inner:
            assert current_request_id() == inner != "outer"
        assert current_request_id() == "outer"
    assert current_request_id() is None


def test_json_lines_carry_the_request_id_and_extras() -> None:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.request_id = "abc123"
    record.status = 201
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "hello you"
    assert line["request_id"] == "abc123"
    assert line["status"] == 201
    assert line["level"] == "info"


def _logged(capsys: pytest.CaptureFixture[str], *, json_lines: bool) -> str:
    """One line logged inside a span of a request, in the chosen format."""
    provider = TracerProvider()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO", json_lines=json_lines)
    try:
        with (
            bind_request_id("req-1"),
            provider.get_tracer(__name__).start_as_current_span("request") as span,
        ):
            logging.getLogger("app.test").info("inside")
            context = span.get_span_context()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    return line.replace(f"{context.trace_id:032x}", "TRACE").replace(
        f"{context.span_id:016x}", "SPAN"
    )


def test_readable_lines_carry_the_trace_and_span_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert "[req-1 trace=TRACE span=SPAN] app.test: inside" in _logged(capsys, json_lines=False)


def test_json_lines_carry_the_trace_and_span_ids(capsys: pytest.CaptureFixture[str]) -> None:
    line = json.loads(_logged(capsys, json_lines=True))
    assert (line["request_id"], line["trace_id"], line["span_id"]) == ("req-1", "TRACE", "SPAN")


def test_outside_a_span_a_line_has_no_trace(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("INFO")
    try:
        logging.getLogger("app.test").info("alone")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "[-] app.test: alone" in capsys.readouterr().err
