"""Content files staff edit (cards, statistics rows): read a folder, re-read it when it changes.

files = folder_files(Path("data/stats"), "*.csv")
stamp = stamp_of(files)                      # compare with the last one to reload
rows, errors = read_files(files, parse)      # parse(text, file name) -> (items, problems)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def folder_files(folder: Path | None, pattern: str) -> list[Path]:
    """The folder's files matching a pattern, sorted (none when the folder is missing)."""
    return sorted(folder.glob(pattern)) if folder is not None and folder.is_dir() else []


def stamp_of(files: list[Path]) -> tuple:
    """What changes when a file is edited, added or removed."""
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


def read_files(
    files: list[Path], parse: Callable[[str, str], tuple[list[T], list[str]]]
) -> tuple[list[T], list[str]]:
    """Every file parsed: the valid items, and the problems (each naming its file and line)."""
    items: list[T] = []
    errors: list[str] = []
    for path in files:
        found, problems = parse(path.read_text(encoding="utf-8"), path.name)
        items.extend(found)
        errors.extend(problems)
    return items, errors
