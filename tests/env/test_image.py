"""The image (Dockerfile, .dockerignore): built from the same hash-locked files as the venv."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import shutil
import subprocess

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import tasks
from tests.env.files import (
    ROOT,
    Dockerfile,
    container_ports,
    load_compose,
    read_dockerfile,
    read_lock,
    shell_commands,
)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return read_dockerfile()


def _pip_installs(run: str) -> list[list[str]]:
    """The ``pip install`` invocations of one RUN line, as argument lists."""
    return [args for args in shell_commands(run) if "pip" in args and "install" in args]


def test_runtime_dependencies_come_from_the_lock_with_hash_checking(dockerfile: Dockerfile) -> None:
    builder = dockerfile.stages["builder"]
    assert any("requirements/main.txt" in src.split()[:-1] for src in builder.all("COPY"))
    installs = [args for run in builder.all("RUN") for args in _pip_installs(run)]
    # pip from its own lock before anything else: the base image's may be too old for the locks.
    assert "requirements/pip.txt" in installs[0], installs[0]
    assert "--require-hashes" in installs[0]
    from_lock = [args for args in installs if "requirements/main.txt" in args]
    assert from_lock, "the builder installs requirements/main.txt"
    for args in from_lock:
        assert "--require-hashes" in args
        assert "/opt/venv/bin/python" in args, "into the venv the runtime stage copies"
    # Everything else pip installs is either hash-checked too or the two local wheels.
    for args in installs:
        assert "--require-hashes" in args or ("--no-deps" in args and args[-1].endswith(".whl")), (
            args
        )


def test_the_image_pins_exactly_what_the_venv_pins() -> None:
    """main.txt (the image) is a subset of the lock the venv is made from, hashes included."""
    image = read_lock((ROOT / "requirements" / "main.txt").read_text())
    venv = read_lock(tasks.LOCK_DEV.read_text())
    assert image
    differing = {
        name: (pin, venv.get(name)) for name, pin in image.items() if venv.get(name) != pin
    }
    assert differing == {}


def _build_tools_command(dockerfile: Dockerfile) -> list[str]:
    for run in dockerfile.stages["builder"].all("RUN"):
        for command in shell_commands(run):
            if command[0] == "awk" and "requirements/dev.txt" in command:
                return command
    raise AssertionError("no awk step extracting the build tools from requirements/dev.txt")


def test_the_build_tools_taken_from_the_dev_lock_are_complete(dockerfile: Dockerfile) -> None:
    """hatchling and everything it needs on Python 3.11, so pip's hash mode accepts the set."""
    command = _build_tools_command(dockerfile)
    awk = shutil.which(command[0])
    if awk is None:
        pytest.skip("awk is not installed here")
    extracted = subprocess.run(
        [awk, *command[1:]], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    pins = read_lock(extracted)
    assert all(pin.hashes for pin in pins.values())

    wanted = {"hatchling"}
    for pyproject in (ROOT / "pyproject.toml", ROOT / "common" / "pyproject.toml"):
        assert 'build-backend = "hatchling.build"' in pyproject.read_text()
    environment = {"python_version": "3.11", "python_full_version": "3.11.0", "extra": ""}
    todo = ["hatchling"]
    while todo:
        for line in importlib.metadata.requires(todo.pop()) or []:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if (requirement.marker is None or requirement.marker.evaluate(environment)) and (
                name not in wanted
            ):
                wanted.add(name)
                todo.append(name)
    assert set(pins) == wanted
    assert pins["hatchling"].version in SpecifierSet(">=1.25")


def test_the_runtime_stage_is_slim_and_unprivileged(dockerfile: Dockerfile) -> None:
    runtime = dockerfile.stages["runtime"]
    assert dockerfile.base_of(runtime) == dockerfile.base_of(dockerfile.stages["builder"])
    assert "slim" in dockerfile.base_of(runtime)
    runs = " ".join(runtime.all("RUN"))
    for tool in ("apt-get", "gcc", "build-essential", "pip "):
        assert tool not in runs
    for stage in (runtime, dockerfile.stages["dev"]):
        user, _, group = stage.all("USER")[-1].partition(":")
        # Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
        assert user.isdigit(), user
        assert int(user) != 0
        assert group.isdigit(), group
        assert int(group) != 0
    assert any(src.startswith("--from=builder /opt/venv") for src in runtime.all("COPY"))
    assert dockerfile.default_stage.name == "production"
    assert dockerfile.base_of(dockerfile.default_stage) == dockerfile.base_of(runtime)
    assert dockerfile.default_stage.instructions == [], "production is the runtime, unchanged"


def test_the_image_exposes_the_ports_compose_publishes(dockerfile: Dockerfile) -> None:
    exposed = {
        int(port) for line in dockerfile.stages["runtime"].all("EXPOSE") for port in line.split()
    }
    services = load_compose()["services"]
    assert exposed == container_ports(services["web"]) | container_ports(services["grpc"])
    assert dockerfile.stages["runtime"].all("CMD") == ['["python", "-m", "app.api.rest"]']


def test_the_runtime_stage_has_what_alembic_needs(dockerfile: Dockerfile) -> None:
    copied = {line.split()[0] for line in dockerfile.stages["runtime"].all("COPY")}
    assert {"alembic.ini", "migrations/"} <= copied
    assert dockerfile.stages["runtime"].all("WORKDIR") == ["/app"]


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern.removeprefix("**/")) for pattern in patterns)


def test_dockerignore_keeps_local_state_out_and_the_sources_in(dockerfile: Dockerfile) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for local in (".git", ".venv", ".data", ".env", "__pycache__", ".mypy_cache", ".pytest_cache"):
        assert _ignored(local, patterns), local
    copied = [
        line.split()[0]
        for stage in dockerfile.stages.values()
        for line in stage.all("COPY")
        if not line.startswith("--from")
    ]
    assert copied
    for source in copied:
        top = source.rstrip("/").split("/")[0]
        assert (ROOT / top).exists(), source
        assert not _ignored(top, patterns), source
