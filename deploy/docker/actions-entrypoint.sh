#!/bin/sh
# Action server container: seed the content volume, bring the knowledge index up to date
# (only changed documents are embedded; a lock keeps replicas sharing the volume from
# building at once), then serve on ACTIONS_PORT with --strict (an unusable index or contacts
# file stops the start with STARTUP PROBLEM lines, and the restart policy retries).
#   docker run ... ocop-actions              # prepare, then serve
#   docker run ... ocop-actions prepare      # only seed and build the index (Kubernetes init container)
#   docker run ... ocop-actions index stats  # any other arguments: python -m <args>
set -eu
prepare() {
  /app/deploy/docker/seed-content.sh
  index_root=$(dirname "$OCOP_INDEX_DIR")
  mkdir -p "$index_root"
  flock "$index_root/.build.lock" python -m index build --quiet
}
if [ "${1:-}" = prepare ]; then
  prepare
  exit 0
fi
if [ "$#" -gt 0 ]; then
  exec python -m "$@"
fi
if [ "${OCOP_INDEX_BUILD:-1}" = 1 ]; then
  prepare
fi
exec python -m bot.logmask actions.server --host "${ACTIONS_LISTEN:-0.0.0.0}" \
  --port "${ACTIONS_PORT:-5055}" --strict
