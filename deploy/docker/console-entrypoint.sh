#!/bin/sh
# Staff console container: seed the content volume, upgrade the console database
# (OCOP_CONSOLE_DB) and serve /staff/ on CONSOLE_PORT.
#   docker run ... ocop-console                                 # serve
#   docker run -i ... ocop-console create-user lan --role editor  # password on stdin
set -eu
if [ "$#" -gt 0 ]; then
  exec python -m console "$@"
fi
/app/deploy/docker/seed-content.sh
exec python -m console serve --host "${CONSOLE_LISTEN:-0.0.0.0}" --port "${CONSOLE_PORT:-5088}"
