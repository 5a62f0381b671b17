"""Shared helpers of the production-profile tests (fixtures are in conftest.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path

from ops import rest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _ports(name: str, default: str) -> list[int]:
    return [int(p) for p in os.environ.get(name, default).replace(",", " ").split()]


RASA_PORTS = _ports("PROD_TEST_RASA_PORTS", "5305,5306")
ACTIONS_PORT = _ports("PROD_TEST_ACTIONS_PORT", "5355")[0]
ACTIONS_PORTS = _ports("PROD_TEST_ACTIONS_PORTS", "5356,5357")
NGINX_PORT = _ports("PROD_TEST_NGINX_PORT", "8380")[0]
RUN_ID = uuid.uuid4().hex[:8]


def post(url: str, sender: str, text: str, timeout: float = 90) -> tuple[int, list[dict]]:
    """POST one REST message; (status, replies); status 0 when nothing answered."""
    reply = rest.send(url, sender, text, timeout)
    return reply.status or 0, reply.messages


def base_settings(prod, var_dir: Path):
    """Settings on the test ports (not started)."""
    s = prod.Settings()
    s.rasa_ports, s.actions_port, s.nginx_port = list(RASA_PORTS), ACTIONS_PORT, NGINX_PORT
    s.actions_ports, s.interface, s.actions_host = list(ACTIONS_PORTS), "127.0.0.1", "127.0.0.1"
    s.rasa_upstreams, s.actions_upstreams, s.roles, s.public_url = [], [], ["app", "front"], ""
    s.console_upstream = ""
    s.nginx_listen = "127.0.0.1"
    s.var_dir = var_dir
    return s
