"""deploy/k8s: the manifests say what the code does, and render to valid Kubernetes objects.

Every variable they set is a setting the service reads; the probes ask the paths, ports and
health services the servers serve; the Job runs the migration command the image and compose
run; the pods run as the Dockerfile's user, hardened. With kubectl on PATH each overlay is
also rendered and validated against the Kubernetes schemas (strictly), as CI does with
``invoke deploy.check``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from app.api.grpc.health import LIVENESS
from app.api.rest import create_app
from app.bootstrap import Runtime
from app.config import Settings
from tasks import KUBERNETES_VERSION
from tests.conftest import make_test_settings
from tests.env.files import ROOT, command_of, load_compose

BASE = ROOT / "deploy/k8s/base"
OVERLAYS = sorted(
    path.parent for path in (ROOT / "deploy/k8s/overlays").glob("*/kustomization.yaml")
)
#: Variables that are not settings of the service, read by the libraries themselves.
LIBRARY_VARIABLES = re.compile(r"^(OTEL_\w+|PROMETHEUS_MULTIPROC_DIR)$")


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    yield from (doc for doc in yaml.safe_load_all(path.read_text()) if doc)


def _base() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in _documents(BASE / name)]


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in _base() if doc["kind"] == kind}


def _pod(name: str) -> dict[str, Any]:
    workload = {**_objects("Deployment"), **_objects("Job")}[name]
    pod: dict[str, Any] = workload["spec"]["template"]["spec"]
    return pod


def _container(name: str) -> dict[str, Any]:
    [container] = _pod(name)["containers"]
    return dict(container)


def _config() -> dict[str, str]:
    data: dict[str, str] = _objects("ConfigMap")["backend-config"]["data"]
    return data


def _literals(overlay: Path) -> dict[str, str]:
    """The keys and values the overlay's generators add (ConfigMap and Secret)."""
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    found: dict[str, str] = {}
    for generator in [
        *kustomization.get("configMapGenerator", []),
        *kustomization.get("secretGenerator", []),
    ]:
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            found[key] = value
    return found


def test_every_variable_the_manifests_set_is_a_setting_of_the_service() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    variables = set(_config())
    for overlay in OVERLAYS:
        variables |= set(_literals(overlay))
    unknown = {name for name in variables - settings if not LIBRARY_VARIABLES.match(name)}
    assert not unknown, f"not settings of the service: {sorted(unknown)}"


def test_the_configuration_is_valid_for_the_service() -> None:
    """The ConfigMap with each overlay's values (and its Secret's) loads as settings."""
    for overlay in OVERLAYS:
        values = {**_config(), **_literals(overlay)}
        values.setdefault("SECRET_KEY", "k" * 40)  # production's comes from outside
        values.setdefault("DATABASE_URL", "postgresql://app@postgres/app")
        changes = {name.lower(): value for name, value in values.items()}
        Settings.model_validate(changes)


def test_every_program_reads_the_config_map_and_the_secret() -> None:
    for name in ("backend-rest", "backend-grpc", "backend-worker", "backend-migrate"):
        sources = _container(name)["envFrom"]
        assert {"configMapRef": {"name": "backend-config"}} in sources
        assert {"secretRef": {"name": "backend-secrets"}} in sources
    for overlay in OVERLAYS:
        literals = _literals(overlay)
        if "DATABASE_URL" in literals:
            assert "SECRET_KEY" in literals


def test_rest_probes_ask_the_paths_and_port_the_server_serves() -> None:
    config = _config()
    container = _container("backend-rest")
    [port] = container["ports"]
    assert port["containerPort"] == int(config["REST_PORT"])
    runtime = Runtime(make_test_settings("postgresql://postgres@127.0.0.1:1/unused"))
    routes = {rule.rule for rule in create_app(runtime=runtime).url_map.iter_rules()}
    runtime.database.dispose()
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = container[probe]["httpGet"]
        assert check["port"] == port["name"]
        assert check["path"] in routes, check
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = _objects("Service")["backend-rest"]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]


def test_grpc_probes_ask_the_health_services_the_server_registers() -> None:
    config = _config()
    container = _container("backend-grpc")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {
        "grpc": int(config["GRPC_PORT"]),
        "metrics": int(config["GRPC_METRICS_PORT"]),
    }
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": ports["grpc"], "service": LIVENESS}
    assert container["readinessProbe"]["grpc"] == {"port": ports["grpc"]}  # "": overall
    service = _objects("Service")["backend-grpc"]
    assert service["spec"]["clusterIP"] == "None"  # headless: clients balance over the pods
    assert float(config["GRPC_MAX_CONNECTION_AGE_SECONDS"]) > 0


def test_metrics_are_scraped_where_each_program_serves_them() -> None:
    config = _config()
    expected = {
        "backend-rest": config["REST_PORT"],
        "backend-grpc": config["GRPC_METRICS_PORT"],
        "backend-worker": config["WORKER_METRICS_PORT"],
    }
    for name, port in expected.items():
        annotations = _objects("Deployment")[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == port
        assert annotations["prometheus.io/path"] == "/metrics"
    assert config["METRICS_HOST"] == "0.0.0.0"  # noqa: S104 - the pod's network


def test_the_migration_job_runs_what_the_image_and_compose_run() -> None:
    command = _container("backend-migrate")["command"]
    assert command == command_of(load_compose()["services"]["migrate"])
    assert command == ["alembic", "upgrade", "head"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY alembic.ini ./" in dockerfile
    assert "COPY migrations/ migrations/" in dockerfile
    assert _pod("backend-migrate")["restartPolicy"] == "OnFailure"


def test_each_deployment_runs_an_entry_point_of_the_repository() -> None:
    modules = {
        "backend-rest": "app.api.rest",
        "backend-grpc": "app.api.grpc",
        "backend-worker": "app.worker",
    }
    for name, module in modules.items():
        assert _container(name)["command"] == ["python", "-m", module]
        assert (ROOT / module.replace(".", "/") / "__main__.py").is_file()


def test_pods_run_as_the_images_numeric_user_hardened() -> None:
    [user] = set(re.findall(r"^USER (\d+:\d+)$", (ROOT / "Dockerfile").read_text(), re.M))
    uid, gid = (int(part) for part in user.split(":"))
    for name in ("backend-rest", "backend-grpc", "backend-worker", "backend-migrate"):
        pod = _pod(name)
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)
        assert pod["automountServiceAccountToken"] is False
        container = _container(name)
        hardened = container["securityContext"]
        assert hardened["readOnlyRootFilesystem"] is True
        assert hardened["allowPrivilegeEscalation"] is False
        assert hardened["capabilities"]["drop"] == ["ALL"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108 - an emptyDir
        assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
        assert "memory" in container["resources"]["limits"]


def test_pods_get_longer_to_stop_than_their_servers_take() -> None:
    config = _config()
    defaults = Settings.model_fields
    rest_grace = float(defaults["rest_graceful_timeout"].default)
    grace = {
        "backend-rest": rest_grace,
        "backend-grpc": float(config["GRPC_GRACE_SECONDS"]),
    }
    for name, seconds in grace.items():
        assert _pod(name)["terminationGracePeriodSeconds"] > seconds


def test_each_server_has_a_disruption_budget_and_an_autoscaler() -> None:
    budgets, scalers = _objects("PodDisruptionBudget"), _objects("HorizontalPodAutoscaler")
    for name in ("backend-rest", "backend-grpc"):
        labels = _objects("Deployment")[name]["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == labels
        assert scalers[name]["spec"]["scaleTargetRef"]["name"] == name
        assert scalers[name]["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.name)
def test_each_overlay_renders_to_valid_kubernetes_objects(overlay: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip(
            "kubectl is not on PATH (CI has it): rendering is left to `invoke deploy.check`"
        )
    import kubernetes_validate  # type: ignore[import-untyped]

    rendered = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    kinds = {obj["kind"] for obj in objects}
    assert {"Deployment", "Job", "Service", "ConfigMap"} <= kinds
