"""Backups of the production tracker database (pg_dump) and of the content files; restore; list.

    python -m ops.backup backup  [--dir var/backups] [--db ocop] [--no-db] [--no-content]
    python -m ops.backup restore FOLDER|latest [--dir ...] [--db NAME] [--replace] [--no-db] [--no-content]
    python -m ops.backup list    [--dir ...]

A backup is one folder `<dir>/<UTC time>` (e.g. var/backups/20261206T201500Z) holding
  tracker.dump     pg_dump custom format of POSTGRES_DB (the Rasa tracker store of `make prod`);
  content.tar.gz   data/cards, data/stats, data/contacts.csv, data/docs (OCOP_CARDS_DIR,
                   OCOP_STATS_DIR, OCOP_CONTACTS_FILE, OCOP_DOCS_DIR when set);
  manifest.json    creation time, database, tool versions, SHA-256 of both files and of every
                   content file.
It is written as `.<time>.partial` and renamed at the end: a folder without the dot is complete.

restore checks everything before it changes anything: both checksums, the dump's table of
contents (`pg_restore --list`), and every file of the archive (names, types, checksums) after
extracting it to a staging folder. Then it restores the database (created when missing; an
existing database with tables is only replaced with --replace; one transaction, so a failed
restore leaves it as it was) and swaps the content folders into place (the old ones are kept
until every swap succeeded, and put back otherwise).

PostgreSQL is reached with the variables of the production profile: POSTGRES_HOST [127.0.0.1],
POSTGRES_PORT [5432], POSTGRES_USER [postgres], POSTGRES_PASSWORD [], POSTGRES_DB [ocop],
POSTGRES_LOGIN_DB [postgres]. OCOP_BACKUP_DIR [var/backups] is the default folder.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.postgres import Postgres, ServiceError, env

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 1
DUMP, ARCHIVE, MANIFEST = "tracker.dump", "content.tar.gz", "manifest.json"
_STAMP = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


# one error type for every user-facing failure of ops/ (PostgreSQL unreachable, damaged backup, ...)
BackupError = ServiceError


@dataclass
class Content:
    """The content files: name in the archive -> path on this machine."""

    cards: Path = field(default_factory=lambda: Path(env("OCOP_CARDS_DIR", str(ROOT / "data" / "cards"))))
    stats: Path = field(default_factory=lambda: Path(env("OCOP_STATS_DIR", str(ROOT / "data" / "stats"))))
    contacts: Path = field(
        default_factory=lambda: Path(env("OCOP_CONTACTS_FILE", str(ROOT / "data" / "contacts.csv")))
    )
    docs: Path = field(default_factory=lambda: Path(env("OCOP_DOCS_DIR", str(ROOT / "data" / "docs"))))

    def items(self) -> dict[str, Path]:
        """Archive name -> path (folders: cards, stats, docs; file: contacts.csv)."""
        return {"cards": self.cards, "stats": self.stats, "contacts.csv": self.contacts, "docs": self.docs}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(base: Path, name: str) -> dict[str, Path]:
    """Archive member name -> file, for one content item (a file or every file under a folder)."""
    if base.is_file():
        return {name: base}
    if not base.is_dir():
        raise BackupError(f"content {name} not found at {base}")
    found = {}
    for path in sorted(base.rglob("*")):
        if path.is_symlink():
            raise BackupError(f"{path} is a symbolic link: content files must be plain files")
        if path.is_file():
            found[f"{name}/{path.relative_to(base).as_posix()}"] = path
    return found


def _tool(name: str) -> str:
    """Path of a PostgreSQL client program, or BackupError."""
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed: apt-get install -y postgresql-client")
    return found


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    """Run a PostgreSQL program; its stdout, or BackupError with its stderr."""
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit code {result.returncode}"
        raise BackupError(f"{what} failed: {detail}")
    return result.stdout


def _version(program: str) -> str:
    """`program --version`, one line."""
    return subprocess.run([_tool(program), "--version"], capture_output=True, text=True).stdout.strip()


def default_dir() -> Path:
    """OCOP_BACKUP_DIR or var/backups."""
    return Path(env("OCOP_BACKUP_DIR", str(ROOT / "var" / "backups")))


# ---- backup ---------------------------------------------------------------------------------
def backup(
    root: Path,
    pg: Postgres | None = None,
    content: Content | None = None,
    db: bool = True,
    files: bool = True,
    now: dt.datetime | None = None,
) -> Path:
    """Write a new backup folder under root; return it."""
    if not db and not files:
        raise BackupError("nothing to back up (--no-db and --no-content)")
    pg, content = pg or Postgres(), content or Content()
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    root.mkdir(parents=True, exist_ok=True)
    name, n = stamp, 1
    while (root / name).exists() or (root / f".{name}.partial").exists():
        n += 1
        name = f"{stamp}-{n}"
    partial = root / f".{name}.partial"
    partial.mkdir()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "files": {},
    }
    try:
        if db:
            if not pg.exists(pg.db):
                raise BackupError(f"database {pg.db!r} does not exist on {pg.host}:{pg.port}")
            cmd = [_tool("pg_dump"), "--format=custom", "--file", str(partial / DUMP), *pg.tool_args(pg.db)]
            _run(cmd, pg.tool_env(), f"pg_dump of {pg.db!r}")
            manifest["database"] = {"name": pg.db, "pg_dump": _version("pg_dump")}
            manifest["files"][DUMP] = sha256(partial / DUMP)
        if files:
            members: dict[str, Path] = {}
            for item, path in content.items().items():
                members.update(_files(path, item))
            with tarfile.open(partial / ARCHIVE, "w:gz") as tar:
                for item, path in content.items().items():
                    if path.is_dir():  # the folder itself: restored even when empty
                        tar.add(path, arcname=item, recursive=False)
                for member, path in members.items():
                    tar.add(path, arcname=member, recursive=False)
            manifest["content"] = {
                "paths": {item: str(path) for item, path in content.items().items()},
                "files": {member: sha256(path) for member, path in members.items()},
            }
            manifest["files"][ARCHIVE] = sha256(partial / ARCHIVE)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        final = root / name
        partial.rename(final)
        return final
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


# ---- checks -----------------------------------------------------------------------------------
def resolve(root: Path, which: str) -> Path:
    """A backup folder from a path, a folder name under root, or `latest`."""
    if which == "latest":
        found = complete_backups(root)
        if not found:
            raise BackupError(f"no backup in {root}")
        return found[-1]
    path = Path(which)
    if not path.is_dir() and (root / which).is_dir():
        path = root / which
    if not path.is_dir():
        raise BackupError(f"backup {which} not found (neither a folder nor a backup in {root})")
    return path


def complete_backups(root: Path) -> list[Path]:
    """Complete backup folders under root, oldest first."""
    if not root.is_dir():
        return []
    return sorted(
        p for p in root.iterdir() if p.is_dir() and _STAMP.match(p.name) and (p / MANIFEST).is_file()
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, or BackupError."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"backup {folder} is damaged: {MANIFEST} unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"backup {folder} is damaged: {MANIFEST} is not a format {FORMAT} manifest")
    return manifest


def verify(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems with the backup's files (empty list: both checksums match)."""
    problems = []
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256(path) != expected:
            problems.append(f"{name} does not match its checksum in {MANIFEST} (corrupt or changed)")
    return problems


def _stage_content(folder: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Extract the archive to staging and check every file against the manifest."""
    expected: dict[str, str] = manifest["content"]["files"]
    allowed = set(Content().items())
    try:
        with tarfile.open(folder / ARCHIVE, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                top = member.name.split("/", 1)[0]
                if top not in allowed or not (member.isfile() or member.isdir()) or ".." in member.name:
                    raise BackupError(f"{ARCHIVE} holds an unexpected entry {member.name!r}")
            tar.extractall(staging, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(f"{ARCHIVE} cannot be read: {exc}") from exc
    found = {p.relative_to(staging).as_posix(): p for p in staging.rglob("*") if p.is_file()}
    if set(found) != set(expected):
        missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
        raise BackupError(
            f"{ARCHIVE} does not match {MANIFEST}: missing {missing[:5]}, unexpected {extra[:5]}"
        )
    for member, digest in expected.items():
        if sha256(found[member]) != digest:
            raise BackupError(f"{ARCHIVE}: {member} does not match its checksum")


# ---- restore --------------------------------------------------------------------------------
def restore(
    folder: Path,
    pg: Postgres | None = None,
    content: Content | None = None,
    target_db: str | None = None,
    replace: bool = False,
    db: bool = True,
    files: bool = True,
    say: Any = print,
) -> None:
    """Check the backup, then restore the database into target_db and the content files."""
    pg, content = pg or Postgres(), content or Content()
    manifest = read_manifest(folder)
    problems = verify(folder, manifest)
    if problems:
        raise BackupError(f"backup {folder} is damaged, nothing was restored: " + "; ".join(problems))
    db = db and DUMP in manifest["files"]
    files = files and ARCHIVE in manifest["files"]
    if not db and not files:
        raise BackupError(f"backup {folder} holds nothing to restore with these options")
    target = pg.check_name(target_db or pg.db)
    if db:
        _run([_tool("pg_restore"), "--list", str(folder / DUMP)], pg.tool_env(), f"reading {DUMP}")
    with contextlib.ExitStack() as stack:
        staging = None
        if files:
            parent = content.cards.resolve().parent
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".restore-", dir=parent)))
            try:
                _stage_content(folder, manifest, staging)
            except BackupError as exc:
                raise BackupError(f"backup {folder} is damaged, nothing was restored: {exc}") from exc
        if db:
            restore_database(folder / DUMP, pg, target, replace)
            say(f"database {target!r} restored from {folder / DUMP}")
        if staging is not None:
            swap_content(staging, content)
            say(f"content restored: {', '.join(str(p) for p in content.items().values())}")


def restore_database(dump: Path, pg: Postgres, target: str, replace: bool) -> None:
    """pg_restore into target (created when missing) in one transaction."""
    created = False
    if not pg.exists(target):
        pg.create(target)
        created = True
    elif pg.table_count(target) and not replace:
        raise BackupError(
            f"database {target!r} already holds tables: stop the profile and add --replace "
            "to overwrite it, or restore into another database (--db NAME)"
        )
    cmd = [_tool("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"]
    if not created:
        cmd += ["--clean", "--if-exists"]
    cmd += [*pg.tool_args(target), str(dump)]
    try:
        _run(cmd, pg.tool_env(), f"pg_restore into {target!r}")
    except BackupError:
        if created:
            pg.drop(target)
        raise


def swap_content(staging: Path, content: Content) -> None:
    """Move the staged items into place; on any failure put the old ones back."""
    moved: list[tuple[Path, Path | None]] = []  # (target, its old version moved aside)
    try:
        for item, target in content.items().items():
            source = staging / item
            if not source.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            aside = None
            if target.exists():
                aside = target.with_name(f".{target.name}.before-restore")
                if aside.exists():
                    shutil.rmtree(aside) if aside.is_dir() else aside.unlink()
                target.rename(aside)
            moved.append((target, aside))
            shutil.move(str(source), str(target))
    except BaseException:
        for target, aside in reversed(moved):
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            if aside is not None:
                aside.rename(target)
        raise
    for _target, aside in moved:
        if aside is not None:
            shutil.rmtree(aside) if aside.is_dir() else aside.unlink()


# ---- command line ---------------------------------------------------------------------------
def describe(folder: Path) -> str:
    """One line about a backup: time, database, content files, checksums."""
    try:
        manifest = read_manifest(folder)
    except BackupError as exc:
        return f"{folder.name}  DAMAGED: {exc}"
    parts = []
    if DUMP in manifest["files"]:
        size = (folder / DUMP).stat().st_size if (folder / DUMP).exists() else 0
        parts.append(f"database {manifest['database']['name']} ({size / 1024:.0f} KB)")
    if ARCHIVE in manifest["files"]:
        parts.append(f"{len(manifest['content']['files'])} content files")
    problems = verify(folder, manifest)
    state = "ok" if not problems else "DAMAGED: " + "; ".join(problems)
    return f"{folder.name}  {', '.join(parts)}  {state}"


def main(argv: list[str] | None = None) -> int:
    """backup | restore | list."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("backup", "restore", "list"):
        p = sub.add_parser(name)
        p.add_argument("--dir", type=Path, default=default_dir(), help="folder of the backups")
        if name == "list":
            continue
        p.add_argument("--db", default=None, help="database to back up / to restore into [POSTGRES_DB]")
        p.add_argument("--no-db", action="store_true", help="leave the database out")
        p.add_argument("--no-content", action="store_true", help="leave the content files out")
        if name == "restore":
            p.add_argument("backup", help="a backup folder, its name under --dir, or `latest`")
            p.add_argument("--replace", action="store_true", help="overwrite a database that holds tables")
    args = ap.parse_args(argv)
    try:
        if args.command == "list":
            found = complete_backups(args.dir)
            for folder in found:
                print(describe(folder))
            if not found:
                print(f"no backup in {args.dir}")
            return 0
        pg = Postgres()
        if args.db:
            pg.db = args.db
        if args.command == "backup":
            folder = backup(args.dir, pg, db=not args.no_db, files=not args.no_content)
            print(f"backup written: {folder}\n{describe(folder)}")
            return 0
        folder = resolve(args.dir, args.backup)
        restore(folder, pg, replace=args.replace, db=not args.no_db, files=not args.no_content)
        print(f"restored from {folder}")
        return 0
    except BackupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
