"""deploy/: the compose file, the Kubernetes manifests and the Dockerfiles agree with each other
and with what the servers read (endpoints.prod.yml, credentials.prod.yml, the nginx template).

Runs in .venv-deploy (`make deploy-check`), which also validates the files against their schemas.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
# (compose service, k8s Deployment, Dockerfile, its target, container port variable)
SERVICES = [
    ("rasa", "ocop-rasa", "rasa.Dockerfile", "rasa", "RASA_PORT"),
    ("actions", "ocop-actions", "actions.Dockerfile", "actions", "ACTIONS_PORT"),
    ("console", "ocop-console", "actions.Dockerfile", "console", "CONSOLE_PORT"),
]
# addresses the Rasa entrypoint requires (no default): they must be given explicitly
ADDRESSES = {"ACTIONS_HOST": "ACTIONS_PORT", "POSTGRES_HOST": "POSTGRES_PORT", "REDIS_HOST": "REDIS_PORT"}


def compose() -> dict[str, Any]:
    """deploy/compose.yaml."""
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def manifests() -> list[dict[str, Any]]:
    """Every resource of deploy/k8s/*.yaml (the example Secret included)."""
    docs = []
    for path in sorted([*DEPLOY.glob("k8s/*.yaml"), *DEPLOY.glob("k8s/examples/*.yaml")]):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def resource(kind: str, name: str) -> dict[str, Any]:
    """One k8s resource by kind and name."""
    found = [d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def config_map() -> dict[str, str]:
    """The data of the ConfigMap ocop-config."""
    return resource("ConfigMap", "ocop-config")["data"]


def k8s_env(deployment: str, container: str | None = None) -> dict[str, str]:
    """A container's environment: envFrom ConfigMaps, then env (secret values as 'secret:KEY')."""
    spec = resource("Deployment", deployment)["spec"]["template"]["spec"]
    c = next(c for c in spec["containers"] if container in (None, c["name"]))
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        env.update(resource("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in c.get("env", []):
        ref = item.get("valueFrom", {})
        if "configMapKeyRef" in ref:
            env[item["name"]] = resource("ConfigMap", ref["configMapKeyRef"]["name"])["data"][
                ref["configMapKeyRef"]["key"]
            ]
        elif "secretKeyRef" in ref:
            env[item["name"]] = f"secret:{ref['secretKeyRef']['key']}"
        else:
            env[item["name"]] = item["value"]
    return env


def prod_yaml_vars() -> set[str]:
    """Every ${VAR} that endpoints.prod.yml and credentials.prod.yml make Rasa read."""
    names = set()
    for name in ("endpoints.prod.yml", "credentials.prod.yml"):
        code = "\n".join(
            line.split("#")[0] for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
        )
        names |= set(re.findall(r"\$\{([A-Z0-9_]+)\}", code))
    return names


def entrypoint_defaults() -> set[str]:
    """Variables deploy/docker/rasa-entrypoint.sh exports with a default when they are unset."""
    text = (DEPLOY / "docker" / "rasa-entrypoint.sh").read_text(encoding="utf-8")
    names = set(re.findall(r'([A-Z0-9_]+)="\$\{\1:-[^}]*\}"', text))
    loop = re.search(r"for name in ([A-Z0-9_ \\\n]+); do", text)
    return names | set(loop.group(1).replace("\\", " ").split())


def dockerfile(name: str, target: str) -> str:
    """The lines of one stage of a Dockerfile (the whole file when it has one served stage)."""
    text = (DEPLOY / "docker" / name).read_text(encoding="utf-8")
    stages = re.split(r"(?m)^FROM ", text)
    return next(s for s in stages if re.match(rf"\S+ AS {target}\b", s))


# ---- what Rasa reads ---------------------------------------------------------------------
def test_prod_files_read_variables_that_the_containers_set() -> None:
    wanted = prod_yaml_vars()
    assert {"ACTIONS_HOST", "POSTGRES_HOST", "REDIS_HOST", "ZALO_APP_ID"} <= wanted
    defaulted = entrypoint_defaults()
    assert not set(ADDRESSES) & defaulted, "addresses must never default to a local host"
    compose_env = compose()["services"]["rasa"]["environment"]
    k8s = k8s_env("ocop-rasa")
    for var in sorted(wanted):
        assert var in compose_env or var in defaulted, f"{var}: not set for Rasa in compose.yaml"
        assert var in k8s or var in defaulted, f"{var}: not set for Rasa in k8s/rasa.yaml"
    for var in ADDRESSES:
        assert var in compose_env and var in k8s, var


def test_addresses_name_services_that_exist_on_their_ports() -> None:
    services = compose()["services"]
    env = services["rasa"]["environment"]
    for host, port in ADDRESSES.items():
        service = services[env[host]]
        assert env[port] in {p.split(":")[-1] for p in service.get("expose", [])} or service[
            "image"
        ].startswith(("postgres:", "redis:")), host
    cm = config_map()
    for host, port in ADDRESSES.items():
        ports = [p["port"] for p in resource("Service", cm[host])["spec"]["ports"]]
        assert int(cm[port]) in ports, f"{host}={cm[host]} does not serve port {cm[port]}"
    rasa_service, rasa_port = k8s_env("ocop-web")["RASA_UPSTREAMS"].split(":")
    assert int(rasa_port) in [p["port"] for p in resource("Service", rasa_service)["spec"]["ports"]]
    assert rasa_port == cm["RASA_PORT"]
    nginx = services["nginx"]["environment"]
    rasa_host, rasa_port = nginx["RASA_UPSTREAMS"].split(":")
    assert rasa_host in services and rasa_port == env["RASA_PORT"]
    console_host, console_port = nginx["NGINX_CONSOLE_UPSTREAM"].split(":")
    assert services[console_host]["environment"]["CONSOLE_PORT"] == console_port


# ---- ports and probes -------------------------------------------------------------------
@pytest.mark.parametrize(("service", "deployment", "dockerfile_name", "target", "port_var"), SERVICES)
def test_ports_and_probes_agree(
    service: str, deployment: str, dockerfile_name: str, target: str, port_var: str
) -> None:
    stage = dockerfile(dockerfile_name, target)
    port = re.search(rf"{port_var}=(\d+)", stage).group(1)
    assert re.search(rf"(?m)^EXPOSE {port}$", stage)
    assert f'"http://127.0.0.1:${{{port_var}}}/health"' in stage, "image HEALTHCHECK on /health"
    assert re.search(r"(?m)^USER ocop$", stage), "runs as the unprivileged user"

    svc = compose()["services"][service]
    assert svc["environment"][port_var] == port and svc["expose"] == [port]
    test = svc["healthcheck"]["test"]
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/(ready|health)", test[-1]), test
    assert svc["restart"] == "unless-stopped"

    spec = resource("Deployment", deployment)["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": int(port)}]
    assert int(k8s_env(deployment)[port_var]) == int(port)
    for probe, path in (
        ("startupProbe", "/health"),
        ("livenessProbe", "/health"),
        ("readinessProbe", "/ready"),
    ):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, (deployment, probe)
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    service_ports = resource("Service", deployment)["spec"]["ports"]
    assert service_ports == [{"name": "http", "port": int(port), "targetPort": "http"}]


def test_servers_serve_the_probed_routes() -> None:
    health = (ROOT / "ops" / "health.py").read_text(encoding="utf-8")
    assert '"/health"' in health and '"/ready"' in health
    console = (ROOT / "console" / "app.py").read_text(encoding="utf-8")
    assert 'PROBES = ("/health", "/ready")' in console


def test_action_server_is_autoscaled() -> None:
    hpa = resource("HorizontalPodAutoscaler", "ocop-actions")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ocop-actions"}
    assert 2 <= hpa["minReplicas"] < hpa["maxReplicas"]
    actions = resource("Deployment", "ocop-actions")["spec"]["template"]["spec"]["containers"][0]
    assert actions["resources"]["requests"]["cpu"], "CPU utilisation needs a CPU request"


# ---- secrets, config, volumes ---------------------------------------------------------------
def test_referenced_keys_exist() -> None:
    secret = set(resource("Secret", "ocop-secrets")["stringData"])
    cm = set(config_map())
    for doc in manifests():
        text = yaml.safe_dump(doc)
        for ref in re.findall(
            r"secretKeyRef:\n\s+key: (\w+)\n\s+name: ocop-secrets\n(\s+optional: true)?", text
        ):
            assert ref[0] in secret or ref[1], f"{doc['metadata']['name']}: secret key {ref[0]}"
        for key in re.findall(r"configMapKeyRef:\n\s+key: (\w+)\n\s+name: ocop-config", text):
            assert key in cm, f"{doc['metadata']['name']}: config key {key}"


def test_content_and_index_volumes() -> None:
    services = compose()["services"]
    assert "content:/var/lib/ocop/content" in services["actions"]["volumes"]
    assert "content:/var/lib/ocop/content" in services["console"]["volumes"]
    assert "index:/var/lib/ocop/index" in services["actions"]["volumes"]
    # the console rebuilds the assistant's index after a document upload (console/rebuild.py)
    assert "index:/var/lib/ocop/index" in services["console"]["volumes"]
    # Rasa fills the hotline numbers of its responses from the same contact table (bot/nlg.py)
    assert "content:/var/lib/ocop/content:ro" in services["rasa"]["volumes"]
    assert services["rasa"]["environment"]["OCOP_CONTACTS_FILE"] == "/var/lib/ocop/content/contacts.csv"
    assert k8s_env("ocop-rasa")["OCOP_CONTACTS_FILE"] == "/var/lib/ocop/content/contacts.csv"
    mount_paths = {"ocop-content": "/var/lib/ocop/content", "ocop-index": "/var/lib/ocop/index"}
    for deployment, want in (
        ("ocop-rasa", ["ocop-content"]),
        ("ocop-actions", ["ocop-content", "ocop-index"]),
        ("ocop-console", ["ocop-content", "ocop-index"]),
    ):
        spec = resource("Deployment", deployment)["spec"]["template"]["spec"]
        claims = [
            v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"] if "persistentVolumeClaim" in v
        ]
        assert claims == want, deployment
        mounts = {m["mountPath"] for c in spec["containers"] for m in c["volumeMounts"]}
        assert mounts == {mount_paths[c] for c in want}, deployment
    assert set(compose()["volumes"]) == {"content", "index", "pgdata", "redisdata"}
    stage = dockerfile("actions.Dockerfile", "app")
    # the index lives one level below its volume: `index build` swaps the folder by renaming it
    assert "OCOP_INDEX_DIR=/var/lib/ocop/index/current" in stage
    for var, item in (("CARDS_DIR", "cards"), ("STATS_DIR", "stats"), ("CONTACTS_FILE", "contacts.csv")):
        assert f"OCOP_{var}=/var/lib/ocop/content/{item}" in stage
        assert item in (DEPLOY / "docker" / "seed-content.sh").read_text(encoding="utf-8")
    for claim in ("ocop-content", "ocop-index"):
        assert resource("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteMany"], claim


def test_postgres_init_is_the_same_in_compose_and_k8s() -> None:
    sql = (DEPLOY / "compose" / "postgres-init.sql").read_text(encoding="utf-8")
    assert resource("ConfigMap", "ocop-postgres-init")["data"]["10-ocop-console.sql"] == sql
    assert "/ocop_console" in compose()["services"]["console"]["environment"]["OCOP_CONSOLE_DB"]


# ---- images install what the Makefile installs ------------------------------------------------
@pytest.mark.parametrize(("name", "lock"), [("actions.Dockerfile", "actions"), ("rasa.Dockerfile", "rasa")])
def test_images_install_the_pinned_lock_like_the_makefile(name: str, lock: str) -> None:
    text = (DEPLOY / "docker" / name).read_text(encoding="utf-8")
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    flags = "--no-deps --ignore-requires-python -r"
    assert f"install -q {flags} requirements/{lock}.lock" in make
    assert f"COPY requirements/{lock}.lock /tmp/{lock}.lock" in text
    assert f"pip install -q {flags} /tmp/{lock}.lock" in text
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in text
    for script in re.findall(r"/app/(deploy/docker/[\w.-]+)", text):
        assert (ROOT / script).is_file() and os.access(ROOT / script, os.X_OK) or script.endswith(".py"), (
            script
        )


# ---- nginx and the Ingress expose the same routes -------------------------------------------
def test_nginx_container_renders_the_profile_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(DEPLOY / "docker"))
    import nginx_entry

    for name in [n for n in os.environ if n.startswith(("RASA_", "ACTIONS_", "NGINX_", "OCOP_", "PUBLIC_"))]:
        monkeypatch.delenv(name)
    for name, value in compose()["services"]["nginx"]["environment"].items():
        monkeypatch.setenv(name, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)))
    monkeypatch.setenv("OCOP_PROD_DIR", str(tmp_path))
    monkeypatch.setenv("OCOP_CONTACTS_FILE", str(ROOT / "data" / "contacts.csv"))
    conf = nginx_entry.render_nginx(nginx_entry.settings()).read_text(encoding="utf-8")
    assert "server rasa:5005 max_fails=1" in conf
    assert "proxy_pass http://console:5088;" in conf
    assert "listen 0.0.0.0:8080;" in conf
    page = (tmp_path / "run" / "index.html").read_text(encoding="utf-8")
    assert "{ag-" not in page and re.search(r"\d{4} \d{3} \d{3}", page), "hotline numbers filled"
    monkeypatch.setenv("ACTIONS_HOST", "actions")
    with pytest.raises(nginx_entry.StartupError, match="ACTIONS_HOST"):
        nginx_entry.settings()
    monkeypatch.delenv("ACTIONS_HOST")
    monkeypatch.delenv("RASA_UPSTREAMS")
    with pytest.raises(nginx_entry.StartupError, match="RASA_UPSTREAMS"):
        nginx_entry.settings()


def test_ingress_routes_only_what_nginx_exposes() -> None:
    template = (DEPLOY / "nginx.conf.template").read_text(encoding="utf-8")
    public = {p.rstrip("/") or "/" for p in re.findall(r"location (?:= |\^~ )?(/[\w./-]*) \{", template)}
    public.discard("/index.html")  # a redirect to /
    routed = {}
    for doc in manifests():
        if doc["kind"] == "Ingress":
            for rule in doc["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    routed[path["path"]] = path["backend"]["service"]["name"]
    assert set(routed) - {"/staff"} <= public, set(routed) - public
    assert {
        "/webhooks/rest/webhook",
        "/webhooks/zalo/webhook",
        "/socket.io",
        "/",
        "/config.js",
        "/static",
    } <= set(routed)
    assert routed["/webhooks/rest/webhook"] == routed["/socket.io"] == "ocop-rasa"
    assert routed["/staff"] == "ocop-console" and routed["/"] == "ocop-web"


# ---- the validators of `make deploy-check` reject broken files ---------------------------------
def test_kubernetes_validate_rejects_a_misspelt_probe(tmp_path: Path) -> None:
    bad = tmp_path / "rasa.yaml"
    bad.write_text(
        (DEPLOY / "k8s" / "rasa.yaml").read_text(encoding="utf-8").replace("livenessProbe", "livenesProbe")
    )
    result = subprocess.run(
        [BIN / "kubernetes-validate", "--strict", "--quiet", str(bad)], capture_output=True, text=True
    )
    assert result.returncode != 0 and "livenesProbe" in result.stdout + result.stderr


def test_compose_schema_rejects_an_unknown_healthcheck_key(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    bad.write_text(
        (DEPLOY / "compose.yaml").read_text(encoding="utf-8").replace("start_period:", "start_periode:", 1)
    )
    schema = DEPLOY / "schemas" / "compose-spec.json"
    result = subprocess.run(
        [BIN / "check-jsonschema", "--schemafile", str(schema), str(bad)], capture_output=True, text=True
    )
    assert result.returncode != 0 and "start_periode" in result.stdout + result.stderr


def test_rasa_image_trains_from_the_makefiles_inputs() -> None:
    line = re.search(r"(?m)^TRAIN_INPUTS := (.*)$", (ROOT / "Makefile").read_text(encoding="utf-8")).group(1)
    inputs = {
        item.removesuffix("/*.yml") for item in re.findall(r"[\w./-]+/\*\.yml|[\w./-]+\.(?:yml|py)", line)
    }
    assert {"config.yml", "domain", "data/nlu", "bot/tokenizer.py"} <= inputs
    before_training = dockerfile("rasa.Dockerfile", "build").split("rasa train")[0]
    copied = re.findall(r"(?m)^COPY (\S+) /app/", before_training)
    for item in inputs:
        assert any(item == c or item.startswith(c + "/") for c in copied), (
            f"{item} is not in the image's training"
        )


def test_console_body_limit_is_the_same_behind_nginx_and_the_ingress() -> None:
    sys.path.insert(0, str(ROOT))
    from ops.nginx import console_location
    from ops.prod_config import Settings

    nginx = re.search(
        r"client_max_body_size (\w+);", console_location(Settings(console_upstream="console:5088"))
    )
    annotations = resource("Ingress", "ocop-console")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == nginx.group(1)
    chat = resource("Ingress", "ocop-chat")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/proxy-body-size"
    ]
    template = (DEPLOY / "nginx.conf.template").read_text(encoding="utf-8")
    assert f"client_max_body_size {chat};" in template
