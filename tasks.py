"""Developer tasks: ``invoke --list`` shows them all.

Only the standard library and invoke are imported here (and :mod:`tools.devenv`, which imports
no more), so the tasks work on a fresh machine with nothing but Python and ``pip install
invoke``: every task first makes sure ``.venv`` exists and matches the lock files
(``requirements/*.txt``), then runs the tools from it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from tools.devenv import DevEnv, quote

ROOT = Path(__file__).resolve().parent
DEV = DevEnv(ROOT, ("common", "."))
VENV = DEV.venv
BIN = DEV.bin
LOCK_DEV = DEV.lock_dev


#: Run a command from the project root with the venv's tools (:meth:`DevEnv.run`).
run = DEV.run


# -- setup and locking -----------------------------------------------------------------------
@task
def setup(c: Context) -> None:
    """Create .venv and install the locked dependencies (again only when the locks change)."""
    DEV.ensure(c, quiet=False)
    print(f"ready: {VENV}")


@task
def lock(c: Context, upgrade: bool = False) -> None:
    """Recompile the hash-locked requirements from the pyproject files (needs uv)."""
    uv = shutil.which("uv") or (str(BIN / "uv") if (BIN / "uv").exists() else None)
    if uv is None:
        sys.exit("`invoke lock` needs uv: pip install uv (or use nix develop)")
    common = (
        "--universal --generate-hashes --no-header --python-version 3.11 "
        "--no-emit-package backend-common --quiet"
    )
    flag = " --upgrade" if upgrade else ""
    with c.cd(str(ROOT)):
        c.run(
            f'"{uv}" pip compile pyproject.toml --group dev {common}{flag} -o requirements/dev.txt'
        )
        # The image's lock takes the development lock's versions, so both pin the same.
        c.run(
            f'"{uv}" pip compile pyproject.toml -c requirements/dev.txt {common}'
            " -o requirements/main.txt"
        )
        c.run(f'echo pip | "{uv}" pip compile - {common}{flag} -o requirements/pip.txt')
    print("locked: requirements/main.txt, requirements/dev.txt, requirements/pip.txt")


# -- quality -------------------------------------------------------------------------------------
@task
def lint(c: Context) -> None:
    """ruff (lint and format check), mypy, and the import-linter layer contracts."""
    run(c, "ruff check .")
    run(c, "ruff format --check .")
    run(c, "mypy")
    # Its cache where IMPORT_LINTER_CACHE_DIR says (the devcontainer's home), else beside us.
    run(
        c,
        "lint-imports --cache-dir "
        + quote(os.environ.get("IMPORT_LINTER_CACHE_DIR", ".import_linter_cache")),
    )


@task(name="format")
def format_(c: Context) -> None:
    """Apply ruff's fixes and formatter."""
    run(c, "ruff check --fix .")
    run(c, "ruff format .")


@task(
    name="test",
    help={
        "path": "test files or directories (default: the whole suite)",
        "k": "only tests matching this keyword expression",
        "serial": "one process instead of one per core",
        "cov": "measure coverage of app and common and require 90 %",
        "tier": "also run a tier that takes minutes: long, newcomer (repeatable)",
        "extra": "more pytest arguments, quoted",
    },
    iterable=["tier"],
)
def run_tests(
    c: Context,
    path: str = "",
    k: str = "",
    serial: bool = False,
    cov: bool = False,
    tier: list[str] | None = None,
    extra: str = "",
) -> None:
    """Run the test suite in parallel on a real PostgreSQL (see README: the test database)."""
    # With --cov, coverage starts before pytest, so the modules its plugins import early (the
    # harness, common) are measured too; xdist workers and the servers tests start in
    # subprocesses are measured through coverage's subprocess patch (pyproject).
    args = ["coverage run -m pytest" if cov else "pytest"]
    if not serial:
        args += ["-n", "auto"]
    if k:
        args += ["-k", quote(k)]
    for name in tier or ():
        args += ["--tier", quote(name)]
    if extra:
        args.append(extra)
    if path:
        args.append(path)
    if cov:
        run(c, "coverage erase")
    run(c, " ".join(args), env=DEV.bytecode_env())
    if cov:
        run(c, "coverage combine --quiet")
        run(c, "coverage report")  # fails under [tool.coverage.report] fail_under


@task(help={"check": "only report stale generated files (exit 1), as CI does"})
def proto(c: Context, check: bool = False) -> None:
    """Regenerate the gRPC code (app/api/grpc/generated) from the .proto files in proto/."""
    run(c, "python -m tools.protogen" + (" --check" if check else ""))


@task(
    positional=["feature"],
    help={
        "feature": "the feature to copy out (notes)",
        "to": "the new project's directory (absent or empty)",
    },
)
def split(c: Context, feature: str, to: str) -> None:
    """Copy a feature into a project of its own (docs/splitting-a-service.md)."""
    run(c, f"python -m tools.split {quote(feature)} --to {quote(to)}")


@task
def shell(c: Context) -> None:
    """ptpython with the app initialised: settings, session, models and services imported."""
    run(c, "python -m app.commands.shell", pty=sys.stdin.isatty(), database=True)


@task
def worker(c: Context) -> None:
    """Run the worker (background jobs: the welcome mail, the hourly token purge) until Ctrl-C."""
    run(c, "python -m app.worker", pty=sys.stdin.isatty(), database=True)


@task(
    help={
        "email": "the new user's email",
        "name": "the display name",
        "password": "prompted for when omitted (keeps it out of the shell history)",
    }
)
def create_user(c: Context, email: str, name: str, password: str = "") -> None:
    """Register a user in the database the tasks use (migrated first), like a sign-up."""
    run(c, "alembic upgrade head", database=True)
    args = f"--email {quote(email)} --name {quote(name)}"
    if password:
        args += f" --password {quote(password)}"
    run(c, f"python -m app.commands create-user {args}", pty=sys.stdin.isatty(), database=True)


@task(help={"users": "sample users (default 3)", "notes": "notes per user (default 5)"})
def seed(c: Context, users: int = 3, notes: int = 5) -> None:
    """Add sample users with notes to the database the tasks use (migrated first); idempotent."""
    run(c, "alembic upgrade head", database=True)
    run(c, f"python -m app.commands seed --users {users} --notes {notes}", database=True)


# -- database ------------------------------------------------------------------------------------
@task
def migrate(c: Context, revision: str = "head") -> None:
    """Upgrade the database (DATABASE_URL) to a revision, the latest by default."""
    run(c, f"alembic upgrade {revision}", database=True)


@task
def makemigration(c: Context, m: str) -> None:
    """Autogenerate a revision from the models: invoke db.makemigration -m "add tags"."""
    run(c, f"alembic revision --autogenerate -m {quote(m)}", database=True)


@task
def downgrade(c: Context, revision: str = "-1") -> None:
    """Step the database back one revision (or to the given one)."""
    run(c, f"alembic downgrade {revision}", database=True)


@task
def history(c: Context) -> None:
    """List the migrations, marking the current one."""
    run(c, "alembic history --indicate-current", database=True)


@task
def check(c: Context) -> None:
    """Fail when the models and the migrations differ (run on a migrated database)."""
    run(c, "alembic check", database=True)


@task
def reset(c: Context) -> None:
    """Drop everything and migrate from scratch; refused in staging and production."""
    env = DEV.database_env(c)
    run(c, "python -m app.commands reset-db --yes", env=env)
    run(c, "alembic upgrade head", env=env)


@task(name="stop")
def db_stop(c: Context) -> None:
    """Stop the local development database (the data under .data/ stays)."""
    run(c, "python -m app.commands.localdb stop")


@task(name="status")
def db_status(c: Context) -> None:
    """Which database the tasks use, and whether the local one runs (and its URL)."""
    run(c, "python -m app.commands.localdb status")


db = Collection("db", migrate, makemigration, downgrade, history, check, reset, db_stop, db_status)


# -- running the service ---------------------------------------------------------------------------
@task(
    help={
        "rest_port": "REST port (default REST_PORT, else 8000; 0 picks a free one)",
        "grpc_port": "gRPC port (default GRPC_PORT, else 50051; 0 picks a free one)",
    }
)
def serve(c: Context, rest_port: str = "", grpc_port: str = "") -> None:
    """Migrate, then run the REST and gRPC servers (and the worker) until Ctrl-C.

    With no DATABASE_URL it uses the project's own PostgreSQL under .data/ (README).
    """
    args = "".join(
        f" --{name}-port {int(value)}"
        for name, value in (("rest", rest_port), ("grpc", grpc_port))
        if value != ""
    )
    run(c, "python -m app.commands.serve" + args, pty=sys.stdin.isatty())


# -- Kubernetes (deploy/k8s) --------------------------------------------------------------------
#: The Kubernetes version the manifests are validated for (docs/deploying.md).
KUBERNETES_VERSION = "1.31.0"


@task(name="check")
def deploy_check(c: Context) -> None:
    """Render every overlay of deploy/k8s with kustomize and validate it, strictly, offline."""
    if shutil.which("kubectl") is None:
        sys.exit("deploy.check needs kubectl (with its built-in kustomize) on PATH")
    for overlay in sorted((ROOT / "deploy/k8s/overlays").glob("*/kustomization.yaml")):
        folder = overlay.parent.relative_to(ROOT)
        print(f"{folder}: kubectl kustomize | kubernetes-validate --strict -k {KUBERNETES_VERSION}")
        run(
            c,
            f"kubectl kustomize {quote(str(folder))} | kubernetes-validate --strict --quiet "
            f"-k {KUBERNETES_VERSION} -",
        )


@task(
    name="scale-out",
    help={
        "settle": "seconds of load before and after each restart (default 3)",
        "rate": "sign-ups a second at most (default 40)",
    },
)
def scale_out(c: Context, settle: float = 3.0, rate: float = 40.0) -> None:
    """2 REST (haproxy), 2 gRPC, 2 workers on PgBouncer: load through a rolling restart."""
    run(c, f"python -m tools.scale_out --settle {float(settle):g} --rate {float(rate):g}")


deploy = Collection("deploy", deploy_check)


# -- the compose stack (compose.yaml) ---------------------------------------------------------
def _compose(
    c: Context, args: str, *, pty: bool = False, env: dict[str, str] | None = None
) -> None:
    if shutil.which("docker") is None:
        sys.exit("the compose tasks need Docker with the compose plugin (docker compose)")
    with c.cd(str(ROOT)):
        c.run(f"docker compose {args}", pty=pty, env=env or {})


#: compose.yaml's `observability` profile, and the services' traces sent to its collector.
OBSERVABILITY = {
    "COMPOSE_PROFILES": "observability",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
}


@task(
    help={
        "build": "rebuild the image first (default; --no-build starts what was built)",
        "observability": "also an OpenTelemetry collector, Jaeger and Prometheus (traces on)",
    }
)
def up(c: Context, build: bool = True, observability: bool = False) -> None:
    """Start PostgreSQL, migrations, REST, gRPC and the worker; return once all are healthy."""
    env = OBSERVABILITY if observability else {}
    _compose(c, "up --detach --wait" + (" --build" if build else ""), env=env)
    published = [
        ("REST", "http://", "web", 8000),
        ("gRPC", "", "grpc", 50051),
    ]
    if observability:
        published += [
            ("Jaeger", "http://", "jaeger", 16686),
            ("Prometheus", "http://", "prometheus", 9090),
        ]
    with c.cd(str(ROOT)):
        for label, scheme, service, port in published:
            found = c.run(f"docker compose port {service} {port}", hide=True, warn=True, env=env)
            if found is not None and found.ok:
                print(f"{label:<10} {scheme}{found.stdout.strip()}")


@task(help={"volumes": "also delete the database volume"})
def down(c: Context, volumes: bool = False) -> None:
    """Stop and remove the compose stack's containers (the data stays unless --volumes)."""
    # With the observability profile, so that its services go too when they run.
    _compose(c, "down" + (" --volumes" if volumes else ""), env=OBSERVABILITY)


@task(
    help={
        "service": "one service (postgres, migrate, web, grpc, worker)",
        "follow": "keep following",
    }
)
def logs(c: Context, service: str = "", follow: bool = True) -> None:
    """Show the compose stack's logs, following them by default."""
    args = "logs" + (" --follow" if follow else "") + (f" {quote(service)}" if service else "")
    _compose(c, args, pty=sys.stdout.isatty())


# -- the container ways in, run for real (tools/containers.py) -----------------------------------
def _containers(c: Context, what: str, project: str) -> None:
    run(
        c,
        f"python -m tools.containers {what}" + (f" --project {quote(project)}" if project else ""),
    )


_PROJECT_HELP = {"project": "the compose project / image tag to use (default: backend-check-*)"}


@task(name="image", help=_PROJECT_HELP)
def containers_image(c: Context, project: str = "") -> None:
    """Build the image's targets and check them: non-root, settings, migrations, /readyz."""
    _containers(c, "image", project)


@task(name="compose", help=_PROJECT_HELP)
def containers_compose(c: Context, project: str = "") -> None:
    """docker compose up --wait from nothing, a user's story through it, then down --volumes."""
    _containers(c, "compose", project)


@task(name="devcontainer", help=_PROJECT_HELP)
def containers_devcontainer(c: Context, project: str = "") -> None:
    """devcontainer up on a fresh clone, invoke test and invoke lint inside, then remove it."""
    _containers(c, "devcontainer", project)


containers = Collection("containers", containers_image, containers_compose, containers_devcontainer)


# -- benchmarks --------------------------------------------------------------------------------------
@task(
    name="tests",
    help={
        "count": "tests of each kind to generate (default 500)",
        "rounds": "alternating serial runs of the floor and the harness; medians (default 3)",
        "record": "also write the report into docs/benchmarks.md",
    },
)
def bench_tests(c: Context, count: int = 500, rounds: int = 3, record: bool = False) -> None:
    """Time the test harness, plain and pipelined, against a no-database floor and TRUNCATE."""
    args = f"--count {int(count)} --rounds {int(rounds)}" + (" --record" if record else "")
    run(c, f"python -m bench.harness {args}")


@task(
    name="serve",
    help={
        "duration": "seconds measured per scenario and round (default 6)",
        "rounds": "rounds; medians are printed (default 3)",
        "connections": "concurrent connections or calls (default 32)",
        "versus": "NAME=VALUE: also run servers with this setting and compare side by side",
        "record": "also write the report into docs/benchmarks.md",
        "extra": "more options of python -m bench.serve, quoted (see --help)",
    },
)
def bench_serve(
    c: Context,
    duration: float = 6,
    rounds: int = 3,
    connections: int = 32,
    versus: str = "",
    record: bool = False,
    extra: str = "",
) -> None:
    """Load the real REST and gRPC servers; req/s and p50/p99 against a psycopg floor."""
    args = f"--duration {float(duration):g} --rounds {int(rounds)} --connections {int(connections)}"
    if versus:
        args += f" --versus {quote(versus)}"
    if record:
        args += " --record"
    run(c, f"python -m bench.serve {args} {extra}".rstrip())


bench = Collection("bench", bench_tests, bench_serve)

ns = Collection(
    setup,
    lock,
    lint,
    format_,
    run_tests,
    proto,
    split,
    shell,
    serve,
    worker,
    create_user,
    seed,
    db,
    bench,
    containers,
    deploy,
    scale_out,
    up,
    down,
    logs,
)
