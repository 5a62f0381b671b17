"""`make run`'s servers (same command line as before): see ops/serve.py.

python scripts/serve.py [--port 5005 ...]           # foreground
python scripts/serve.py -- CMD ARGS...              # start, run CMD against them, stop
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops.serve import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
