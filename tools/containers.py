"""The container ways in, run for real: ``invoke containers.image``, ``containers.compose`` and
``containers.devcontainer`` (``python -m tools.containers image|compose|devcontainer``).

Each builds and starts what a user would, checks what a user relies on, prints a line per
check with how long it took, and removes what it made, whether the checks passed or not. They
need a Docker-compatible engine (``DOCKER_HOST``), the ``docker`` CLI with Compose v2, and for
the devcontainer the Dev Containers CLI (``devcontainer``).

image
    Builds the production and dev targets; the container runs as a numeric user other than
    root; without ``DATABASE_URL`` it exits non-zero naming the variable; against a PostgreSQL
    container the migrations run and ``/readyz`` answers 200.
compose
    ``docker compose up --detach --wait --build`` with no container or volume left; the migration exited 0; ``/readyz`` is
    200 and the gRPC health service SERVING on the published ports; a user signs up over REST,
    logs in over gRPC, writes a note over gRPC and reads it over REST; the worker sends them
    the welcome mail; ``docker compose down --volumes``.
devcontainer
    A fresh clone of this commit (owned by whoever runs this, not by the container's user),
    ``devcontainer up``, then ``invoke test`` and ``invoke lint`` inside; the containers and
    volumes removed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "backend-app"
#: The database image the project's files name (compose.yaml's).
POSTGRES_IMAGE = "postgres:17"
#: The throwaway user's and database's password (a container removed after the check).
PASSWORD = "correct horse battery staple 9"  # noqa: S105 - a throwaway, named here

__all__ = ["CheckFailed", "main"]


class CheckFailed(RuntimeError):
    """A check did not hold; the message says what was seen."""


class Report:
    """One line per check: ``ok`` or ``FAILED``, what, and its seconds."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.started = time.monotonic()
        print(f"{title}:", flush=True)

    @contextlib.contextmanager
    def check(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except BaseException:
            print(f"  FAILED  {what} ({time.monotonic() - started:.1f} s)", flush=True)
            raise
        print(f"  ok      {what} ({time.monotonic() - started:.1f} s)", flush=True)

    def done(self) -> None:
        print(f"{self.title}: all checks passed in {time.monotonic() - self.started:.0f} s")


def run(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A command's output; with ``check``, :class:`CheckFailed` unless it exits 0."""
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and done.returncode != 0:
        raise CheckFailed(
            f"`{shlex.join(args)}` exited {done.returncode}:\n{_tail(done.stdout + done.stderr)}"
        )
    return done


def run_container(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``docker run ARGS`` to its end, then the container removed.

    Not ``docker run --rm``: some engines behind Docker's API (podman 4) remove the container
    before its exit status is read, and report 0 whatever it was.
    """
    name = f"check-run-{uuid.uuid4().hex[:12]}"
    try:
        return run("docker", "run", "--name", name, *args, check=check)
    finally:
        run("docker", "rm", "--force", name, check=False)


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_until(what: str, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not within {timeout:g} s")
        time.sleep(0.5)


def http_status(url: str, *, body: dict[str, Any] | None = None, token: str = "") -> int:
    return http_json(url, body=body, token=token)[0]


def http_json(
    url: str, *, body: dict[str, Any] | None = None, token: str = ""
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - http URLs built here
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the same
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except OSError:
        return 0, {}


def grpc_serving(target: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


# -- image -------------------------------------------------------------------------------------
def check_image(tag: str) -> None:
    report = Report("image")
    production, dev = f"{IMAGE}:{tag}", f"{IMAGE}:{tag}-dev"
    network, database = f"check-{tag}", f"check-{tag}-postgres"
    try:
        with report.check(f"docker build --target production -t {production} ."):
            run("docker", "build", "--target", "production", "-t", production, ".")
        with report.check(f"docker build --target dev -t {dev} ."):
            run("docker", "build", "--target", "dev", "-t", dev, ".")
        for image in (production, dev):
            with report.check(f"{image} runs as a numeric user other than root"):
                user = run("docker", "image", "inspect", "-f", "{{.Config.User}}", image)
                uid, _, gid = user.stdout.strip().partition(":")
                if not (uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0):
                    raise CheckFailed(f"USER is {user.stdout.strip()!r}")
                seen = run_container(image, "id", "-u").stdout.strip()
                if seen != uid:
                    raise CheckFailed(f"id -u says {seen}, USER says {uid}")
        with report.check("without DATABASE_URL it exits non-zero naming the variable"):
            done = run_container(production, check=False)
            if done.returncode == 0 or "DATABASE_URL" not in done.stdout + done.stderr:
                raise CheckFailed(f"exit {done.returncode}:\n{_tail(done.stdout + done.stderr)}")
        run("docker", "network", "create", network)
        url = f"postgresql://postgres:{PASSWORD.replace(' ', '')}@{database}:5432/postgres"
        with report.check(f"a {POSTGRES_IMAGE} container answers"):
            run(
                "docker", "run", "--detach", "--name", database, "--network", network,
                "-e", f"POSTGRES_PASSWORD={PASSWORD.replace(' ', '')}", POSTGRES_IMAGE,
            )  # fmt: skip
            wait_until(
                "pg_isready",
                lambda: run(
                    "docker", "exec", database, "pg_isready", "-q", "-h", "127.0.0.1", check=False
                ).returncode == 0,
                timeout=60,
            )  # fmt: skip
        with report.check("alembic upgrade head, in the image, against it"):
            run_container(
                "--network", network, "-e", f"DATABASE_URL={url}",
                production, "alembic", "upgrade", "head",
            )  # fmt: skip
        with report.check("the image's default command serves /readyz 200"):
            rest = f"check-{tag}-rest"
            run(
                "docker", "run", "--detach", "--name", rest, "--network", network,
                "-e", f"DATABASE_URL={url}", "-e", "REST_HOST=0.0.0.0",
                "-p", "127.0.0.1::8000", production,
            )  # fmt: skip
            port = run("docker", "port", rest, "8000").stdout.split()[0]
            wait_until(
                f"GET http://{port}/readyz",
                lambda: http_status(f"http://{port}/readyz") == 200,
                timeout=60,
            )
    finally:
        for container in (f"check-{tag}-rest", database):
            run("docker", "rm", "--force", "--volumes", container, check=False)
        run("docker", "network", "rm", network, check=False)
        run("docker", "image", "rm", production, dev, check=False)
    report.done()


# -- compose ----------------------------------------------------------------------------------
def check_compose(project: str) -> None:
    report = Report("compose")
    env = {"COMPOSE_PROJECT_NAME": project, "PUBLISH_REST_PORT": "0", "PUBLISH_GRPC_PORT": "0"}

    def compose(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("docker", "compose", *args, env=env, check=check)

    try:
        compose("down", "--volumes", "--remove-orphans", check=False)
        with report.check("docker compose up --detach --wait --build (from no containers)"):
            compose("up", "--detach", "--wait", "--build")
        with report.check("migrate exited 0"):
            state = json.loads(compose("ps", "--all", "--format", "json", "migrate").stdout or "{}")
            states = state if isinstance(state, list) else [state]
            codes = [entry.get("ExitCode") for entry in states]
            if codes != [0]:
                raise CheckFailed(f"migrate: {states}")
        rest = "http://" + compose("port", "web", "8000").stdout.strip()
        target = compose("port", "grpc", "50051").stdout.strip()
        with report.check(f"REST {rest}/readyz 200"):
            wait_until("readyz", lambda: http_status(f"{rest}/readyz") == 200, timeout=30)
        with report.check(f"gRPC {target} health SERVING"):
            wait_until("gRPC health", lambda: grpc_serving(target), timeout=30)
        email = f"stack-{uuid.uuid4().hex[:12]}@example.com"
        with report.check("a user's story over REST and gRPC through the published ports"):
            _story(rest, target, email)
        with report.check("the worker sent the welcome mail"):
            wait_until(
                f"a mail to {email} in the worker's log",
                lambda: email in compose("logs", "--no-color", "worker").stdout,
                timeout=90,
            )
    finally:
        with report.check("docker compose down --volumes"):
            compose("down", "--volumes", "--remove-orphans")
    report.done()


def _story(rest: str, target: str, email: str) -> None:
    """Sign up (REST), log in (gRPC), write a note (gRPC), read it back (REST)."""
    import grpc

    from app.api.grpc.generated.v1 import auth_pb2, auth_pb2_grpc, notes_pb2, notes_pb2_grpc

    status, _ = http_json(
        f"{rest}/v1/users", body={"email": email, "password": PASSWORD, "display_name": "Stack"}
    )
    if status != 201:
        raise CheckFailed(f"sign-up answered {status}")
    with grpc.insecure_channel(target) as channel:
        token = (
            auth_pb2_grpc.AuthServiceStub(channel)
            .LogIn(auth_pb2.LogInRequest(email=email, password=PASSWORD), timeout=10)
            .token
        )
        note = (
            notes_pb2_grpc.NotesServiceStub(channel)
            .CreateNote(
                notes_pb2.CreateNoteRequest(title="from the stack", body="over gRPC"),
                metadata=(("authorization", f"Bearer {token}"),),
                timeout=10,
            )
            .note
        )
    status, read = http_json(f"{rest}/v1/notes/{note.id}", token=token)
    if status != 200 or read.get("title") != "from the stack":
        raise CheckFailed(f"reading the note answered {status}: {read}")


# -- devcontainer -----------------------------------------------------------------------------
def check_devcontainer(project: str) -> None:
    report = Report("devcontainer")
    env = {"COMPOSE_PROJECT_NAME": project}
    with tempfile.TemporaryDirectory(prefix="devcontainer-") as scratch:
        workspace = Path(scratch) / "project"
        with report.check("a fresh clone of this commit"):
            run("git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(workspace))
            head = run("git", "rev-parse", "HEAD").stdout.strip()
            run("git", "checkout", "--quiet", "--detach", head, cwd=workspace)
        folder = ("--workspace-folder", str(workspace))
        down = (
            "docker", "compose", "-f", "compose.yaml", "-f", "compose.devcontainer.yaml",
            "--profile", "devcontainer", "down", "--volumes", "--remove-orphans",
        )  # fmt: skip
        try:
            with report.check("devcontainer up (postCreateCommand: invoke setup)"):
                run("devcontainer", "up", *folder, env=env)
            for task in ("test", "lint"):
                with report.check(f"devcontainer exec … invoke {task}"):
                    run("devcontainer", "exec", *folder, "python", "-m", "invoke", task, env=env)
        finally:
            with report.check("the containers and volumes removed"):
                run(*down, cwd=workspace, env=env)
    report.done()


# -- the command ------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.containers", description=__doc__)
    parser.add_argument("what", choices=("image", "compose", "devcontainer"))
    parser.add_argument(
        "--project",
        default="",
        help="the compose project (or image tag) name (default: backend-check-WHAT)",
    )
    args = parser.parse_args(argv)
    name = args.project or f"backend-check-{args.what}"
    checks: dict[str, Callable[[str], None]] = {
        "image": check_image,
        "compose": check_compose,
        "devcontainer": check_devcontainer,
    }
    try:
        checks[args.what](name)
    except CheckFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
