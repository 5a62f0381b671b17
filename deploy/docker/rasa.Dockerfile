# syntax=docker/dockerfile:1
# Rasa server: requirements/rasa.lock installed as the Makefile builds .venv-rasa, the model
# trained at build time (`make train`), the production endpoints and channels
# (endpoints.prod.yml, credentials.prod.yml) filled from the environment by
# deploy/docker/rasa-entrypoint.sh. Build from the repository root:
#
#   docker build -f deploy/docker/rasa.Dockerfile -t ocop-rasa .
#
# BASE_IMAGE: any Debian bookworm image with Python 3.11 and its venv module (default: the
# official one; without a registry make one with deploy/docker/make-base.sh).
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- build: the environment and the trained model (compilers stay in this stage) ---------
FROM ${BASE_IMAGE} AS build
ARG PIP_EXTRA_INDEX_URL=
ARG PIP_FIND_LINKS=
# a build machine behind a TLS-intercepting proxy: PIP_CERT=<its CA bundle mounted into the build>
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/app RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1
COPY deploy/docker/build-tools.sh /tmp/build-tools.sh
RUN sh /tmp/build-tools.sh
# the environment, from the pinned lock (same flags as the Makefile's .venv-rasa; the
# project's own packages are found through PYTHONPATH=/app instead of `pip install -e .`)
COPY requirements/rasa.lock /tmp/rasa.lock
RUN python3 -m venv /opt/venv \
 && pip install -q --upgrade "pip<25" \
 && pip install -q --no-deps --ignore-requires-python -r /tmp/rasa.lock
# the model, from the Makefile's TRAIN_INPUTS only (other changes keep the cached model)
WORKDIR /app
COPY config.yml /app/
COPY domain /app/domain
COPY data/nlu /app/data/nlu
COPY data/rules /app/data/rules
COPY data/stories /app/data/stories
COPY data/language /app/data/language
COPY bot /app/bot
RUN rasa train --fixed-model-name ocop --out models --domain domain --quiet \
 && test -s models/ocop.tar.gz

# ---- the served image (no compilers) ------------------------------------------------------
FROM ${BASE_IMAGE} AS rasa
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/home/ocop \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MALLOC_ARENA_MAX=2 \
    SQL_POOL_SIZE=5 \
    SQL_MAX_OVERFLOW=10 \
    RASA_PORT=5005 \
    RASA_MODEL=/app/models/ocop.tar.gz
RUN groupadd --gid 10001 ocop \
 && useradd --uid 10001 --gid ocop --create-home --home-dir /home/ocop --shell /usr/sbin/nologin ocop
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/models /app/models
COPY . /app
RUN python -m compileall -q bot ops index
USER ocop
EXPOSE 5005
# the model takes about a minute to load on a shared CPU: start-period covers it
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD python3 /app/deploy/docker/probe.py "http://127.0.0.1:${RASA_PORT}/health"
ENTRYPOINT ["/app/deploy/docker/rasa-entrypoint.sh"]
