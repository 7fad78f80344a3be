"""compose.yaml: every command and health check names something the repository serves."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import grpc
import pytest
import yaml  # type: ignore[import-untyped]
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import Flask
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from app.api.rest.asgi import METRICS_PATH
from app.config import Settings
from tasks import OBSERVABILITY
from tests.env.files import (
    ROOT,
    command_of,
    container_ports,
    healthcheck_of,
    interpolate,
    load_compose,
    read_dockerfile,
)

#: Entry points whose code arrives with another piece of work: checked once they exist.
APP_SERVICES = ("migrate", "web", "grpc", "worker")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load_compose()["services"]
    return services


def _require_module(module: str) -> None:
    spec = _find(module)
    if spec is not None and spec.submodule_search_locations is not None:
        spec = _find(f"{module}.__main__")  # a package: `python -m` runs its __main__
    assert spec is not None, f"python -m {module} has nothing to run"


def _find(module: str) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_command_names_an_entry_point_of_the_repository(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    command = command_of(services[name])
    if command[:2] == ["python", "-m"]:
        _require_module(command[2])
    else:
        assert command[:3] == ["alembic", "upgrade", "head"]
        # What `alembic` finds from the image's working directory (alembic.ini beside it).
        script = ScriptDirectory.from_config(AlembicConfig(ROOT / "alembic.ini"))
        assert Path(script.dir, "env.py").is_file()
        assert len(script.get_heads()) == 1, "one head for `upgrade head`"


def test_app_services_run_the_image_this_repository_builds(
    services: dict[str, dict[str, Any]],
) -> None:
    stages = read_dockerfile().stages
    builders = [name for name in APP_SERVICES if "build" in services[name]]
    assert builders == ["migrate"], "one service builds the image, the first to start"
    build = services["migrate"]["build"]
    assert build["context"] == "."
    assert build["target"] in stages
    assert {services[name]["image"] for name in APP_SERVICES} == {services["migrate"]["image"]}


def test_start_order_is_database_then_migrations_then_servers(
    services: dict[str, dict[str, Any]],
) -> None:
    assert "healthcheck" in services["postgres"]
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "grpc", "worker"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }


def test_the_servers_listen_where_their_health_checks_and_ports_look(
    services: dict[str, dict[str, Any]],
) -> None:
    web, grpc_service = services["web"], services["grpc"]
    assert web["environment"]["REST_HOST"] == grpc_service["environment"]["GRPC_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    rest_port, grpc_port = web["environment"]["REST_PORT"], grpc_service["environment"]["GRPC_PORT"]
    assert container_ports(web) == {int(rest_port)}
    assert container_ports(grpc_service) == {int(grpc_port)}
    assert f"http://127.0.0.1:{rest_port}/readyz" in healthcheck_of(web)
    assert f"'127.0.0.1:{grpc_port}'" in healthcheck_of(grpc_service)


def test_the_app_services_reach_the_postgres_service(services: dict[str, dict[str, Any]]) -> None:
    postgres = {
        key: interpolate(value) for key, value in services["postgres"]["environment"].items()
    }
    expected = (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    for name in APP_SERVICES:
        assert interpolate(services[name]["environment"]["DATABASE_URL"]) == expected
    assert services[name]["env_file"] == [{"path": ".env", "required": False}]


def test_watch_syncs_into_the_installed_packages(services: dict[str, dict[str, Any]]) -> None:
    """Targets are the venv's site-packages of the image's Python, made writable in `dev`."""
    dockerfile = read_dockerfile()
    version = dockerfile.base_of(dockerfile.stages["runtime"]).split(":")[1].split("-")[0]
    site = f"/opt/venv/lib/python{version}/site-packages"
    chowned = " ".join(dockerfile.stages["dev"].all("RUN"))
    for name in ("web", "grpc", "worker"):
        rules = services[name]["develop"]["watch"]
        synced = {rule["path"]: rule["target"] for rule in rules if rule["action"] != "rebuild"}
        assert synced == {"./app": f"{site}/app", "./common/src/common": f"{site}/common"}
        for path, target in synced.items():
            assert (ROOT / path / "__init__.py").is_file()
            assert target in chowned
        assert all(rule["action"] != "rebuild" for rule in rules), "only the builder rebuilds"
    rebuilt = {rule["path"] for rule in services["migrate"]["develop"]["watch"]}
    assert {"./requirements/main.txt", "./pyproject.toml", "./migrations"} <= rebuilt


# -- the health checks, run for real -------------------------------------------------------------
def test_readyz_is_a_route_of_the_rest_app(services: dict[str, dict[str, Any]]) -> None:
    from app.api.rest import health as rest_health

    app = Flask(__name__)
    app.register_blueprint(rest_health.blueprint)
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/readyz" in routes
    assert "/readyz" in healthcheck_of(services["web"])


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class names it
        pass


@pytest.fixture
def http_status() -> Iterator[tuple[list[str], int]]:
    """A loopback server answering every request with ``status[0]``; yields (status, port)."""
    status = ["200 OK"]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status[0], [("Content-Type", "application/json")])
        return [b"{}"]

    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield status, server.server_port
    finally:
        server.shutdown()
        server.server_close()


def _run(check: str, old: str, new: str) -> int:
    """The health check as the engine runs it (``/bin/sh -c``), with this venv's Python."""
    assert check.startswith("python ")
    command = shlex.quote(sys.executable) + check.removeprefix("python").replace(old, new)
    shell = shutil.which("sh")
    assert shell is not None
    return subprocess.run(
        [shell, "-c", command], capture_output=True, timeout=30, check=False
    ).returncode


def test_the_rest_health_check_passes_only_on_200(
    services: dict[str, dict[str, Any]], http_status: tuple[list[str], int]
) -> None:
    check = healthcheck_of(services["web"])
    status, port = http_status
    assert _run(check, "127.0.0.1:8000", f"127.0.0.1:{port}") == 0
    status[0] = "503 Service Unavailable"
    assert _run(check, "127.0.0.1:8000", f"127.0.0.1:{port}") != 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_the_rest_health_check_fails_when_nothing_listens(
    services: dict[str, dict[str, Any]],
) -> None:
    check = healthcheck_of(services["web"])
    assert _run(check, "127.0.0.1:8000", f"127.0.0.1:{_closed_port()}") != 0


@pytest.fixture
def health_server() -> Iterator[tuple[health.HealthServicer, int]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield servicer, port
    finally:
        server.stop(grace=None)


def test_the_grpc_health_check_passes_only_when_serving(
    services: dict[str, dict[str, Any]], health_server: tuple[health.HealthServicer, int]
) -> None:
    check = healthcheck_of(services["grpc"])
    servicer, port = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert _run(check, "127.0.0.1:50051", f"127.0.0.1:{port}") == 0
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert _run(check, "127.0.0.1:50051", f"127.0.0.1:{port}") != 0
    assert _run(check, "127.0.0.1:50051", f"127.0.0.1:{_closed_port()}") != 0


def test_the_grpc_server_registers_the_health_service() -> None:
    _require_module("app.api.grpc")
    sources = "\n".join(path.read_text() for path in (ROOT / "app" / "api" / "grpc").rglob("*.py"))
    assert "add_HealthServicer_to_server" in sources


def test_the_observability_profile_scrapes_every_program_where_it_serves_metrics(
    services: dict[str, dict[str, Any]],
) -> None:
    """Prometheus' targets are the stack's services on the ports their metrics listen on."""
    defaults = Settings.model_fields
    [rest_port] = container_ports(services["web"])
    expected = {
        "rest": (f"web:{rest_port}", METRICS_PATH),
        "grpc": (f"grpc:{defaults['grpc_metrics_port'].default}", "/metrics"),
        "worker": (f"worker:{defaults['worker_metrics_port'].default}", "/metrics"),
    }
    config = yaml.safe_load((ROOT / "deploy/observability/prometheus.yml").read_text())
    scraped = {
        job["job_name"]: (
            job["static_configs"][0]["targets"][0],
            job.get("metrics_path", "/metrics"),
        )
        for job in config["scrape_configs"]
    }
    assert scraped == expected
    for service in ("web", "grpc", "worker"):
        environment = services[service]["environment"]
        assert environment["METRICS_HOST"] == "0.0.0.0"  # noqa: S104 - the stack's network
    promtool = shutil.which("promtool")
    if promtool is not None:
        subprocess.run(
            [promtool, "check", "config", str(ROOT / "deploy/observability/prometheus.yml")],
            check=True,
            capture_output=True,
            timeout=30,
        )


def test_the_observability_profile_sends_traces_through_its_collector(
    services: dict[str, dict[str, Any]],
) -> None:
    endpoint = OBSERVABILITY["OTEL_EXPORTER_OTLP_ENDPOINT"]
    host, port = endpoint.removeprefix("http://").split(":")
    assert services[host]["profiles"] == ["observability"]
    collector = yaml.safe_load((ROOT / "deploy/observability/otel-collector.yaml").read_text())
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{port}")
    exporter = collector["exporters"]["otlp/jaeger"]["endpoint"]
    assert exporter.split(":")[0] in services
    for service in ("web", "grpc", "worker"):
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in services[service]["environment"]
