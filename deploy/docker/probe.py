"""Container health check: exit 0 when URL answers 2xx within 4 s, else 1 (stdlib only)."""

import sys
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=4) as response:
        sys.exit(0 if 200 <= response.status < 300 else 1)
except Exception as exc:  # noqa: BLE001 - any failure is unhealthy
    print(f"{sys.argv[1]}: {exc}", file=sys.stderr)
    sys.exit(1)
