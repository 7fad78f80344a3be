"""schemathesis against the real REST server and its ``/openapi.json``: the document tells the truth.

Every operation, without a token and with one (a user signed up for the cases), stateful
links followed: over a thousand cases from a fixed seed, and not one server error, not one
answer off the document (status, content type, headers, body), not one schema-valid request
refused, but for the rules the document states in words only (``schemathesis_hooks``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.servers import ROOT, Served, environment

pytestmark = [pytest.mark.slow, pytest.mark.long]

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "positive_data_acceptance_but_unstated_rules",
    )
)
SEED = "42"
CASES_AT_LEAST = 1000
_GENERATED = re.compile(r"(\d+) generated, (\d+) passed")


@pytest.mark.parametrize("token", ["without", "with"])
def test_every_case_gets_an_answer_the_document_promises(
    pg_database_factory: Callable[[str], str], token: str, tmp_path: Path
) -> None:
    url = pg_database_factory(f"fuzz_{uuid.uuid4().hex[:12]}").replace("+psycopg", "")
    env = environment(
        url,
        WEB_CONCURRENCY="2",
        PASSWORD_TIME_COST="1",
        PASSWORD_MEMORY_COST_KIB="8",
        PASSWORD_PARALLELISM="1",
        # Thousands of log-ins from one address: the throttle has its own tests.
        LOGIN_MAX_FAILURES_PER_ACCOUNT="10000",
        LOGIN_MAX_FAILURES_PER_ADDRESS="100000",
    )
    with Served("app.api.rest", env) as rest:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{rest.address}/openapi.json",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                "100",
                "--seed",
                SEED,
                "--workers",
                "2",
            ],
            cwd=tmp_path,  # no schemathesis.toml of anyone's
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.reliability.schemathesis_hooks",
                "PYTHONPATH": str(ROOT),
                "FUZZ_AUTH": "1" if token == "with" else "0",
                "NO_COLOR": "1",
            },
            capture_output=True,
            text=True,
            timeout=900,
        )
    output = done.stdout + done.stderr
    counts = _GENERATED.search(output)
    assert counts, output[-5000:]
    print(f"schemathesis, {token} a token: {counts.group(0)}")  # noqa: T201 - the figures, for the record
    assert done.returncode == 0, output[-8000:]
    assert int(counts.group(1)) >= CASES_AT_LEAST, output[-3000:]
    assert counts.group(1) == counts.group(2), output[-8000:]
