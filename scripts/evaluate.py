"""The scorer moved next to the question sets: tests/eval/evaluate.py (same command line)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv[0] = str(Path(__file__).resolve().parents[1] / "tests" / "eval" / "evaluate.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
