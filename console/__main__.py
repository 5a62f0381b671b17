"""Command line: serve the console, create users, migrate its database.

python -m console migrate
python -m console create-user NAME --role viewer|editor|admin   # password from stdin
python -m console serve [--host 127.0.0.1 --port 5088]
"""

from __future__ import annotations

import argparse
import getpass
import sys

from console.config import PREFIX, ConsoleConfig


def _password() -> str:
    """The password: prompted twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first, second = getpass.getpass("Mật khẩu: "), getpass.getpass("Nhập lại: ")
        if first != second:
            raise SystemExit("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    """Run one command."""
    ap = argparse.ArgumentParser(prog="python -m console", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the console database (Alembic)")
    user = sub.add_parser("create-user", help="add a user, or reset a user's password and role")
    user.add_argument("name")
    user.add_argument("--role", choices=("viewer", "editor", "admin"), required=True)
    serve = sub.add_parser("serve", help=f"serve the console under {PREFIX}")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5088)
    args = ap.parse_args(argv)
    cfg = ConsoleConfig.from_env()

    from console.db import make_engine, migrate

    migrate(cfg.db_url)  # every command works on an up-to-date schema
    if args.command == "migrate":
        print(f"console database at the latest revision: {cfg.db_url.split('@')[-1]}")
        return 0
    if args.command == "create-user":
        from console.auth import create_user

        try:
            create_user(make_engine(cfg.db_url), args.name, _password(), args.role)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"user {args.name} ({args.role}) saved")
        return 0
    from console.app import create_app

    app = create_app(cfg, "ocop_console")
    print(f"staff console: http://{args.host}:{args.port}{PREFIX}/", flush=True)
    app.run(host=args.host, port=args.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
