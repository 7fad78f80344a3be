from __future__ import annotations

import json
import logging

from common.logs import JsonFormatter, bind_request_id, current_request_id


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
