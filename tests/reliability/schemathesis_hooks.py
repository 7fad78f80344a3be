"""schemathesis hooks for the fuzzing test (``SCHEMATHESIS_HOOKS`` names this module).

* a check: schema-valid requests are accepted, except for refusals by the rules the document
  can only describe in words, since they depend on more than the request: a common password,
  one holding the email address, a current password that is not, a cursor not issued here;
* with ``FUZZ_AUTH=1``, cases run as a user signed up and logged in for them, a new one every
  two seconds: long enough for a stateful scenario to find the note it made, short enough
  that a case deleting the account or changing the password does not lock the rest out.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

#: What the service layer answers for the rules no JSON Schema can state.
UNSTATED = frozenset(
    {
        "is one of the most common passwords: choose another",
        "must not contain your email address",
        "is not the current password",
        "is not a cursor this service issued",
    }
)
PASSWORD = "a fuzzing user's password"


@schemathesis.check
def positive_data_acceptance_but_unstated_rules(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    if response.status_code == 422:
        errors = json.loads(response.content or b"{}").get("errors") or []
        if errors and {error["message"] for error in errors} <= UNSTATED:
            return None
    return positive_data_acceptance(ctx, response, case)


def _post(url: str, body: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the server under test, on loopback
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the same
        answer: dict[str, Any] = json.loads(response.read())
        return answer


if os.environ.get("FUZZ_AUTH") == "1":

    @schemathesis.auth(refresh_interval=2)
    class FreshUser:
        def get(self, case: schemathesis.Case[Any], ctx: schemathesis.AuthContext) -> str:
            base = case.operation.base_url or ""
            email = f"fuzz-{uuid.uuid4().hex}@example.com"
            _post(f"{base}/v1/users", {"email": email, "password": PASSWORD, "display_name": "F"})
            token: str = _post(f"{base}/v1/auth/tokens", {"email": email, "password": PASSWORD})[
                "token"
            ]
            return token

        def set(
            self, case: schemathesis.Case[Any], data: str, ctx: schemathesis.AuthContext
        ) -> None:
            case.headers["Authorization"] = f"Bearer {data}"
