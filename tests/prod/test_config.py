"""The production profile's configuration and start-up checks (no profile running)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from prodtools import ROOT, RUN_ID, base_settings

from bot import rasa_run

PROD_FILES = [ROOT / "endpoints.prod.yml", ROOT / "credentials.prod.yml"]
_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("path", PROD_FILES, ids=lambda p: p.name)
def test_variables_are_unquoted_and_all_set_by_prod_py(path, prod):
    env = prod.Settings().child_env()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if "${" in code:
            value = code.split(":", 1)[1].strip()
            assert value[:1] not in "\"'", f"{path.name}:{number}: quoted ${{VAR}} is not expanded by Rasa"
            for name in _VAR.findall(code):
                assert name in env, f"{path.name}:{number}: {name} is not set by ops/prod_config.py"


def test_rasa_reads_the_prod_files_with_the_profile_environment(prod, monkeypatch):
    s = prod.Settings()
    for key, value in s.child_env().items():
        monkeypatch.setenv(key, value)
    from rasa.shared.utils.io import read_yaml_file

    endpoints = read_yaml_file(ROOT / "endpoints.prod.yml")
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["tracker_store"]["url"] == s.pg.host
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["lock_store"]["key_prefix"] == s.redis_key_prefix
    assert endpoints["action_endpoint"]["url"] == f"http://127.0.0.1:{s.actions_port}/webhook"
    assert rasa_run.action_timeout(endpoints) == s.actions_timeout
    credentials = read_yaml_file(ROOT / "credentials.prod.yml")
    assert set(credentials) == {
        "bot.channels.rest.RestInput",
        "bot.channels.socketio.SocketIOInput",
        "bot.channels.zalo.ZaloInput",
        "bot.channels.handoff.HandoffInput",  # staff replies from the console (token shared by file or env)
    }
    assert credentials["bot.channels.socketio.SocketIOInput"]["allowed_origins"] == ",".join(s.web_origins())


def test_rasa_run_wrapper_options():
    assert rasa_run.endpoints_path(["run", "--endpoints", "e.yml", "--port", "1"]) == "e.yml"
    assert rasa_run.endpoints_path(["run", "--endpoints=x.yml"]) == "x.yml"
    assert rasa_run.endpoints_path(["run"]) is None
    assert rasa_run.action_timeout({"action_endpoint": {"url": "u"}}) is None
    assert rasa_run.action_timeout({"action_endpoint": {"timeout": "8"}}) == 8.0
    with pytest.raises(SystemExit):
        rasa_run.action_timeout({"action_endpoint": {"timeout": 0}})


def test_nginx_config_is_valid_and_exposes_only_the_channels(prod, tmp_path):
    if not prod.nginx_binary():
        pytest.skip("nginx is not installed (make prod-test installs it)")
    s = base_settings(prod, tmp_path / "var")
    conf = prod.render_nginx(s)
    prod.nginx_test(s, conf)
    text = conf.read_text()
    locations = re.findall(r"^\s*location\s+(.+?)\s*\{", text, re.M)
    assert locations == [
        "= /webhook",  # the action servers' balancer (internal address)
        "= /health",
        "/",
        "= /webhooks/rest/webhook",
        "= /webhooks/zalo/webhook",
        "/socket.io/",
        "= /",
        "= /index.html",
        "= /config.js",
        "^~ /static/",
        "/",
        "@ocop_too_many",
    ]
    assert "client_max_body_size 64k;" in text
    assert "ip_hash;" in text and "hash $ocop_sender consistent;" in text
    for port in s.rasa_ports:
        assert text.count(f"server 127.0.0.1:{port} ") == 2
    for port in s.actions_ports:
        assert text.count(f"server 127.0.0.1:{port} ") == 1
    assert f"listen 127.0.0.1:{s.actions_port};" in text
    assert "{{" not in re.sub(r"#.*", "", text)


def test_clear_messages_when_postgres_or_redis_are_unreachable(prod):
    s = prod.Settings()
    s.pg.port, s.redis_port = _closed_port(), _closed_port()
    assert prod.check_postgres(s).startswith(f"PostgreSQL at 127.0.0.1:{s.pg.port} is not reachable: ")
    assert prod.check_redis(s).startswith(f"Redis at 127.0.0.1:{s.redis_port} is not reachable: ")
    env = dict(os.environ, POSTGRES_PORT=str(s.pg.port), REDIS_PORT=str(s.redis_port), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "ops.prod", "--check"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    assert f"PostgreSQL at 127.0.0.1:{s.pg.port} is not reachable" in result.stderr
    assert f"Redis at 127.0.0.1:{s.redis_port} is not reachable" in result.stderr


def test_the_real_services_are_reachable(prod):
    s = prod.Settings()
    assert prod.check_postgres(s) is None
    assert prod.check_redis(s) is None


def test_database_is_created_when_missing(prod):
    s = prod.Settings()
    s.pg.db = f"ocop_test_create_{RUN_ID}"
    try:
        assert s.pg.ensure() is True
        assert s.pg.ensure() is False
    finally:
        s.pg.drop()


def test_corrupt_index_or_missing_contacts_stop_the_start_with_a_clear_message(prod, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(ROOT / "index" / "build", index)
    (index / "faiss.index").write_bytes(b"not a faiss index")
    (index / "vectors.npy").write_bytes(b"\x93NUMPY garbage")
    s = base_settings(prod, tmp_path / "var")
    s.extra_env = {"OCOP_INDEX_DIR": str(index), "OCOP_CONTACTS_FILE": str(tmp_path / "missing.csv")}
    s.actions_ports = s.actions_ports[:1]
    p = prod.Profile(s, only=("actions",))
    try:
        with pytest.raises(prod.StartupError) as info:
            p.start(check=False, progress=False)
    finally:
        p.stop()
    message = str(info.value)
    assert f"actions-{s.actions_ports[0]} exited with code 3" in message
    assert "STARTUP PROBLEM: knowledge index" in message
    assert "STARTUP PROBLEM: contacts" in message


def test_zalo_state_is_shared_through_the_profiles_redis_unless_configured(prod, monkeypatch):
    monkeypatch.delenv("ZALO_DEDUP_REDIS_URL", raising=False)
    monkeypatch.delenv("ZALO_TOKEN_STORE", raising=False)
    s = prod.Settings()
    assert s.child_env()["ZALO_DEDUP_REDIS_URL"] == f"redis://{s.redis_host}:{s.redis_port}/{s.redis_db}"
    monkeypatch.setenv("ZALO_TOKEN_STORE", "/srv/zalo-tokens.json")  # an operator's own choice stays
    assert prod.Settings().child_env()["ZALO_DEDUP_REDIS_URL"] == ""


def test_nginx_exposes_the_staff_console_only_when_enabled(prod, tmp_path):
    if not prod.nginx_binary():
        pytest.skip("nginx is not installed (make prod-test installs it)")
    s = base_settings(prod, tmp_path / "var")
    assert "location ^~ /staff/" not in prod.render_nginx(s).read_text()  # default: /staff is a 404
    s.console_upstream = "127.0.0.1:5088"
    conf = prod.render_nginx(s)
    prod.nginx_test(s, conf)
    text = conf.read_text()
    assert "location ^~ /staff/" in text and "proxy_pass http://127.0.0.1:5088;" in text
    s.console_upstream = "127.0.0.1:5088; evil"
    with pytest.raises(prod.StartupError):
        prod.render_nginx(s)
