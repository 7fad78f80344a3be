"""The devcontainer and the VS Code launch configurations agree with compose and the repo."""

from __future__ import annotations

import importlib.util
from typing import Any
from urllib.parse import urlsplit

import pytest

import tasks
from tests.env.files import (
    DEVCONTAINER,
    ROOT,
    container_ports,
    interpolate,
    load_compose,
    merged_services,
    read_jsonc,
)


@pytest.fixture(scope="module")
def devcontainer() -> dict[str, Any]:
    config: dict[str, Any] = read_jsonc(DEVCONTAINER)
    return config


@pytest.fixture(scope="module")
def services(devcontainer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services as the devcontainer sees them: its compose files merged in order."""
    files = [DEVCONTAINER.parent / name for name in devcontainer["dockerComposeFile"]]
    assert files[0].resolve() == ROOT / "compose.yaml", "compose.yaml is the source of truth"
    return merged_services(*files)


def test_the_workspace_service_and_its_companions_exist(
    devcontainer: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert devcontainer["service"] == "dev"
    assert set(devcontainer["runServices"]) == {"dev", "postgres"}
    assert set(devcontainer["runServices"]) <= set(services)


def test_dev_is_out_of_a_plain_compose_up_but_visible_to_the_devcontainer(
    services: dict[str, dict[str, Any]],
) -> None:
    # Dev Containers list services without activating profiles, so the merged `dev` has none.
    assert load_compose()["services"]["dev"]["profiles"] == ["devcontainer"]
    assert "profiles" not in services["dev"]


def test_the_project_and_its_own_venv_are_mounted_at_the_workspace(
    devcontainer: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    workspace = devcontainer["workspaceFolder"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in services["dev"]["volumes"])
    assert mounts["."] == workspace
    venv = f"{workspace}/{tasks.VENV.relative_to(tasks.ROOT)}"
    assert venv in mounts.values()
    settings = devcontainer["customizations"]["vscode"]["settings"]
    assert settings["python.defaultInterpreterPath"] == f"{venv}/bin/python"
    assert settings["python.testing.pytestEnabled"] is True


def test_tests_and_the_app_inside_reach_the_stack_postgres(
    services: dict[str, dict[str, Any]],
) -> None:
    postgres = {
        key: interpolate(value) for key, value in services["postgres"]["environment"].items()
    }
    environment = services["dev"]["environment"]
    for variable, database in (
        ("TEST_DATABASE_URL", "postgres"),
        ("DATABASE_URL", postgres["POSTGRES_DB"]),
    ):
        url = urlsplit(interpolate(environment[variable]))
        assert (url.hostname, url.port) == ("postgres", 5432)
        assert (url.username, url.password) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
        )
        assert url.path == f"/{database}"
    assert services["dev"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_setup_is_the_readme_step_and_the_server_ports_are_forwarded(
    devcontainer: dict[str, Any],
) -> None:
    assert devcontainer["postCreateCommand"].endswith("invoke setup")
    compose = load_compose()["services"]
    assert set(devcontainer["forwardPorts"]) == container_ports(compose["web"]) | container_ports(
        compose["grpc"]
    )
    extensions = devcontainer["customizations"]["vscode"]["extensions"]
    assert {"ms-python.python", "ms-python.debugpy", "charliermarsh.ruff"} <= set(extensions)


def test_launch_configurations_run_modules_that_exist() -> None:
    launch = read_jsonc(ROOT / ".vscode" / "launch.json")
    configurations = launch["configurations"]
    assert all(config["type"] == "debugpy" for config in configurations)
    modules = {config["module"] for config in configurations if "module" in config}
    assert modules == {"app.api.rest", "app.api.grpc", "pytest"}
    assert importlib.util.find_spec("app.api.rest.__main__") is not None
    assert importlib.util.find_spec("pytest") is not None
    assert [c for c in configurations if c.get("purpose") == ["debug-test"]]
    inputs = {item["id"] for item in launch.get("inputs", [])}
    for config in configurations:
        for arg in config.get("args", []):
            if arg.startswith("${input:"):
                assert arg.removeprefix("${input:").rstrip("}") in inputs
