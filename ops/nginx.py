"""nginx of the production profile: the configuration from deploy/nginx.conf.template, and `nginx -t`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ops.prod_config import ROOT, Settings, StartupError

NGINX_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the widget injects <style> elements
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",  # socket.io goes through this nginx (same origin)
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def nginx_binary() -> str | None:
    """Path of nginx, or None."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


# ---- nginx configuration -------------------------------------------------------------------
def nginx_user_directive() -> str:
    """As root, nginx workers run as an unprivileged user (and own nginx's temp dirs)."""
    if os.geteuid() != 0:
        return "# not root: workers run as the current user"
    import pwd

    for user in ("www-data", "nginx", "nobody"):
        try:
            entry = pwd.getpwnam(user)
        except KeyError:
            continue
        import grp

        group = grp.getgrgid(entry.pw_gid).gr_name
        return f"user {user} {group};"
    return "# no unprivileged user found"


def console_location(s: Settings) -> str:
    """The /staff/ location proxying to the staff console, or a comment when it is not exposed."""
    if not s.console_upstream:
        return '        # staff console not exposed: set NGINX_CONSOLE_UPSTREAM (README, "Staff console")'
    return "\n".join(
        [
            "        location ^~ /staff/ {",
            f"            limit_req zone=ocop_clients burst={s.rate_burst} nodelay;",
            "            client_max_body_size 11m;  # content files edited as text, documents uploaded (10 MB)",
            f"            proxy_pass http://{s.console_upstream};",
            "        }",
        ]
    )


def tls_directives(s: Settings) -> str:
    """The TLS listener and certificate lines of the server block (a comment when TLS is off)."""
    if not s.tls:
        return '        # TLS off: set NGINX_TLS_CERT and NGINX_TLS_KEY (README, "TLS and rate limits")'
    cert, key = Path(s.tls_cert).resolve(), Path(s.tls_key).resolve()
    return "\n".join(
        f"        {line}"
        for line in (
            f"listen {s.tls_address}:{s.tls_port} ssl;",
            f'ssl_certificate "{cert}";',
            f'ssl_certificate_key "{key}";',
            "ssl_protocols TLSv1.2 TLSv1.3;",
            "ssl_prefer_server_ciphers off;",
            "ssl_session_cache shared:ocop_tls:1m;",
            "ssl_session_timeout 1h;",
            "ssl_session_tickets off;",
        )
    )


def render_nginx(s: Settings, template: Path = NGINX_TEMPLATE) -> Path:
    """Write run/nginx.conf, run/config.js and run/security_headers.conf; return nginx.conf."""
    for d in (s.run_dir, s.log_dir, s.run_dir / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    user = nginx_user_directive()
    tmp = s.run_dir / "tmp"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir(exist_ok=True)
        if user.startswith("user "):
            import pwd

            entry = pwd.getpwnam(user.split()[1].rstrip(";"))
            os.chown(tmp / sub, entry.pw_uid, entry.pw_gid)
    servers = "\n".join(f"        server {a} max_fails=1 fail_timeout=5s;" for a in s.rasa_servers())
    actions = "\n".join(f"        server {a} max_fails=1 fail_timeout=5s;" for a in s.actions_servers())
    s.validate()
    exempt = "\n".join(f"        {address} 1;" for address in s.rate_exempt)
    values = {
        "USER_DIRECTIVE": user,
        "WORKER_PROCESSES": "1",
        "RUN_DIR": str(s.run_dir.resolve()),
        "ERROR_LOG": "stderr",  # supervisord keeps and rotates both (logs/nginx-error.log, nginx-access.log)
        "ACCESS_LOG": "/dev/stdout",
        "TMP_DIR": str(tmp.resolve()),
        "WEB_DIR": str((ROOT / "web").resolve()),
        "RASA_SERVERS": servers,
        "ACTIONS_SERVERS": actions,
        "ACTIONS_LISTEN": f"{s.actions_host}:{s.actions_port}",
        "ACTIONS_READ_TIMEOUT": str(int(s.actions_timeout) + 5),
        "LISTEN": f"{s.nginx_listen}:{s.nginx_port}",
        "TLS": tls_directives(s),
        "CONSOLE": console_location(s),
        "RATE_LIMIT": s.rate_limit,
        "RATE_BURST": str(s.rate_burst),
        "ZALO_RATE_LIMIT": s.zalo_rate_limit,
        "ZALO_RATE_BURST": str(s.zalo_rate_burst),
        "RATE_EXEMPT": exempt or "        # NGINX_RATE_EXEMPT is empty: every client is limited",
        # the action timeout + PostgreSQL/Redis connect timeouts (5 s each) + margin
        "PROXY_READ_TIMEOUT": str(int(s.actions_timeout) + 30),
    }
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    left = re.findall(r"\{\{[A-Z_]+\}\}", code)
    if left:
        raise StartupError(f"unknown placeholders in {template}: {sorted(set(left))}")
    conf = s.run_dir / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    (s.run_dir / "config.js").write_text(
        "// generated by ops/prod.py: the web chat talks to the server that served the page\n"
        "window.OCOP_SOCKET_URL = window.location.protocol + '//' + window.location.host;\n",
        encoding="utf-8",
    )
    from ops.web import page_html  # web/index.html, hotline numbers filled from the contact table

    (s.run_dir / "index.html").write_text(page_html(), encoding="utf-8")
    (s.run_dir / "security_headers.conf").write_text(
        f'add_header Content-Security-Policy "{CSP}" always;\n'
        "add_header X-Content-Type-Options nosniff always;\n"
        "add_header X-Frame-Options DENY always;\n"
        "add_header Referrer-Policy no-referrer always;\n",
        encoding="utf-8",
    )
    for path in (
        conf,
        s.run_dir / "config.js",
        s.run_dir / "security_headers.conf",
        s.run_dir / "index.html",
    ):
        path.chmod(0o644)
    return conf


def nginx_test(s: Settings, conf: Path) -> None:
    """`nginx -t` on the generated configuration; raise with its output on failure."""
    binary = nginx_binary()
    if not binary:
        raise StartupError("nginx is not installed")
    result = subprocess.run(
        [binary, "-t", "-q", "-p", str(s.run_dir), "-e", "stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StartupError(f"nginx rejected {conf}:\n{result.stderr.strip()}")
