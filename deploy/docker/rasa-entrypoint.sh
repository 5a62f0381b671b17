#!/bin/sh
# Rasa server container: `rasa run` (through bot/rasa_run.py, which applies the action
# timeout and adds /health, /ready, /metrics) with endpoints.prod.yml and credentials.prod.yml.
# Every address comes from the environment; the three without a sensible default must be set:
#   ACTIONS_HOST (action server), POSTGRES_HOST (tracker store), REDIS_HOST (lock store).
# Rasa refuses a ${VAR} of those files that is unset, so the optional ones default here as in
# ops/prod_config.py (README "Production"). PUBLIC_URL (https://chat.example.gov.vn) and
# OCOP_WEB_ORIGINS (more, comma separated): origins of the web chat page, for socket.io and CORS.
set -eu
: "${ACTIONS_HOST:?set ACTIONS_HOST to the action server host name}"
: "${POSTGRES_HOST:?set POSTGRES_HOST to the PostgreSQL host name}"
: "${REDIS_HOST:?set REDIS_HOST to the Redis host name}"
export ACTIONS_PORT="${ACTIONS_PORT:-5055}" ACTIONS_TIMEOUT="${ACTIONS_TIMEOUT:-15}"
export POSTGRES_PORT="${POSTGRES_PORT:-5432}" POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}" POSTGRES_DB="${POSTGRES_DB:-ocop}"
export REDIS_PORT="${REDIS_PORT:-6379}" REDIS_PASSWORD="${REDIS_PASSWORD:-}"
export REDIS_DB="${REDIS_DB:-1}" REDIS_KEY_PREFIX="${REDIS_KEY_PREFIX:-ocop}"
export OCOP_WEB_ORIGINS="${OCOP_WEB_ORIGINS:-}" LOG_LEVEL="${LOG_LEVEL:-INFO}"
if [ -n "${PUBLIC_URL:-}" ]; then  # the public origin of the page, as in `make prod`
  OCOP_WEB_ORIGINS="${OCOP_WEB_ORIGINS:+$OCOP_WEB_ORIGINS,}${PUBLIC_URL%/}"
fi
for name in ZALO_APP_ID ZALO_OA_SECRET_KEY ZALO_APP_SECRET ZALO_ACCESS_TOKEN \
            ZALO_REFRESH_TOKEN ZALO_TOKEN_STORE ZALO_DEDUP_REDIS_URL; do
  eval "export $name=\"\${$name:-}\""
done
if [ -z "$ZALO_DEDUP_REDIS_URL" ] && [ -z "$ZALO_TOKEN_STORE" ]; then
  # several Rasa replicas: the Zalo token pair, seen events and free-reply counts live in Redis
  ZALO_DEDUP_REDIS_URL=$(python3 -c 'import os, urllib.parse as u
p = os.environ["REDIS_PASSWORD"]
auth = ":" + u.quote(p, safe="") + "@" if p else ""
print("redis://%s%s:%s/%s" % (auth, os.environ["REDIS_HOST"], os.environ["REDIS_PORT"], os.environ["REDIS_DB"]))')
  export ZALO_DEDUP_REDIS_URL
fi
set -- --model "$RASA_MODEL" --port "${RASA_PORT:-5005}" --interface "${RASA_LISTEN:-0.0.0.0}" \
  --endpoints endpoints.prod.yml --credentials credentials.prod.yml \
  --logging-config-file deploy/logging.yml "$@"
if [ "$LOG_LEVEL" = DEBUG ]; then
  set -- "$@" --debug
fi
if [ -n "${RASA_TOKEN:-}" ]; then  # Rasa's HTTP API (never routed by nginx or the Ingress)
  set -- "$@" --enable-api --auth-token "$RASA_TOKEN"
fi
if [ -n "$OCOP_WEB_ORIGINS" ]; then  # comma separated -> one argument each
  # shellcheck disable=SC2046
  set -- "$@" --cors $(echo "$OCOP_WEB_ORIGINS" | tr ',' ' ')
fi
exec python -m bot.rasa_run run "$@"
