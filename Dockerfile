# The service's image: `docker build .` gives the production image (the last stage).
#
#   builder     a venv at /opt/venv with the runtime dependencies exactly as locked in
#               requirements/main.txt (hash-checked, wheels only), plus the two local
#               packages (common, app) built as wheels with hatchling pinned from the dev lock
#   runtime     the same slim Python, the venv (without pip) and the migrations; no
#               compilers, no build tools, a system user (uid 10001) without a shell
#   dev         the runtime with the project's own code owned by that user, so that
#               `docker compose watch` can sync edits into it (compose.yaml builds this)
#   production  the runtime, unchanged: the default target
#
# Run:  docker run -e DATABASE_URL=... -e APP_ENV=production -e SECRET_KEY=... IMAGE
#       (python -m app.api.rest by default; python -m app.api.grpc, python -m app.worker,
#       alembic upgrade head are the other commands)

ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src

# pip itself from the lock first: the one a base image bundles may be too old for the locks.
# Then the runtime dependencies, every one pinned with its hashes (pip refuses anything else).
COPY requirements/pip.txt requirements/main.txt requirements/
RUN python -m pip install --require-hashes --only-binary=:all: --requirement requirements/pip.txt \
 && python -m venv --without-pip /opt/venv \
 && python -m pip --python /opt/venv/bin/python install --require-hashes --only-binary=:all: \
        --requirement requirements/main.txt

# hatchling and its dependencies, pinned with their hashes in the development lock, build the
# local packages; they stay in this stage. tests/env checks that this list is complete.
COPY requirements/dev.txt requirements/dev.txt
RUN awk -v want=" hatchling packaging pathspec pluggy tomlkit trove-classifiers " \
        '/^[^ #]/ { split($1, name, "=="); keep = index(want, " " name[1] " ") > 0 } keep && !/^ *#/' \
        requirements/dev.txt > /tmp/build-requirements.txt \
 && python -m pip install --require-hashes --only-binary=:all: \
        --requirement /tmp/build-requirements.txt

COPY common/ common/
COPY pyproject.toml README.md ./
COPY app/ app/
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels ./common . \
 && python -m pip --python /opt/venv/bin/python install --no-deps /tmp/wheels/*.whl


FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# A numeric user, so that an orchestrator can tell it is not root without looking inside the
# image (Kubernetes' runAsNonRoot).
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini ./
COPY migrations/ migrations/
USER 10001:10001
EXPOSE 8000 50051
CMD ["python", "-m", "app.api.rest"]


FROM runtime AS dev
USER root
RUN chown -R 10001:10001 /opt/venv/lib/python3.11/site-packages/app \
        /opt/venv/lib/python3.11/site-packages/common
USER 10001:10001


FROM runtime AS production
