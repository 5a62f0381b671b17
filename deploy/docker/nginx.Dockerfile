# syntax=docker/dockerfile:1
# nginx in front of the Rasa servers: the same configuration as `make prod`
# (deploy/nginx.conf.template, rendered at start by ops/nginx.py, see
# deploy/docker/nginx_entry.py), the web chat page with its hotline numbers filled from the
# contact table, the staff console at /staff/ when NGINX_CONSOLE_UPSTREAM is set. Build from
# the repository root after `make web`:
#
#   docker build -f deploy/docker/nginx.Dockerfile -t ocop-nginx .
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# Debian's nginx and PyYAML (the contact table's readers need it); Debian's python3 runs the entry
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx-light python3-yaml \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 ocop \
 && useradd --uid 10001 --gid ocop --no-create-home --home-dir /app --shell /usr/sbin/nologin ocop
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OCOP_PROD_DIR=/tmp/ocop-nginx \
    NGINX_LISTEN=0.0.0.0 \
    NGINX_PORT=8080
WORKDIR /app
COPY web/index.html web/
COPY web/static web/static
COPY deploy/nginx.conf.template deploy/
COPY deploy/docker/nginx_entry.py deploy/docker/probe.py deploy/docker/
COPY ops ops
COPY bot bot
COPY actions/__init__.py actions/contact_table.py actions/
COPY data/language data/language
COPY data/contacts.csv data/
RUN test -s web/static/vendor/rasa-webchat.js \
 || (echo "web/static/vendor/rasa-webchat.js is missing: run 'make web' before building" >&2; exit 1)
USER ocop
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD /usr/bin/python3 /app/deploy/docker/probe.py "http://127.0.0.1:${NGINX_PORT}/"
ENTRYPOINT ["/usr/bin/python3", "/app/deploy/docker/nginx_entry.py"]
