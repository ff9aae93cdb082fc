# Two set-up commands, for a fresh Debian machine (as root):  make run  |  make test
# Both create .venv from requirements.txt and install the system packages they need when missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-requirements

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help run test venv system-run system-test clean bench kind-up kind-down

help:
	@echo "make run    start redis-server, a Celery worker and Daphne; print the URL and the instructor login"
	@echo "make test   install what the tests need (incl. Debian's chromium) and run the whole suite"
	@echo "make kind-up / kind-down   create / delete the lessons' kind cluster (challenge-cluster) for the real cluster backend"

# --- system packages ---------------------------------------------------------------------------------
# apt-get is used only for what is missing; anything else gets a clear message instead of a guess.
define apt_install
	missing=""; for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "Missing system packages:$$missing. This is not a Debian system: install them with your package manager." >&2; exit 1; fi; \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Missing system packages:$$missing. Run as root, or: sudo apt-get install$$missing" >&2; exit 1; fi; \
	  echo "Installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "apt-get could not install:$$missing" >&2; exit 1; }; \
	fi
endef

system-run:
	@$(call apt_install,redis-server python3-venv)

system-test: system-run
	@$(call apt_install,chromium fonts-nanum)

# --- Python ------------------------------------------------------------------------------------------
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

run: system-run venv
	@$(PY) -m dashboard.launcher

# pytest exits 5 when it collected no test: that is a failure here, never a green run.
test: system-test venv
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing." >&2; exit 1; fi; exit $$rc

# Benchmarks (bench/README.md): the simulator at scale (bench/scale.json), the page's rendering budget in
# Chromium (bench/frames.json), live delivery to viewers (bench/live.json), a class at the live cluster
# (bench/kubeapi.json); each prints a table, then
# bench/report.py prints them together with their targets and writes bench/results.json. Quick run:
#   make bench BENCH_ARGS="--sizes 100,1000 --skip-cluster" FRAMES_ARGS="--nodes 1000 --events 100000" LIVE_ARGS="--quick" KUBEAPI_ARGS="--students 1,10"
bench: system-test
	@$(MAKE) --no-print-directory venv
	@$(PY) bench/scale.py $(BENCH_ARGS)
	@$(PY) bench/frames.py $(FRAMES_ARGS)
	@$(PY) bench/live.py $(LIVE_ARGS)
	@$(PY) bench/kubeapi.py $(KUBEAPI_ARGS)
	@$(PY) bench/report.py

clean:
	rm -rf var .pytest_cache

# --- a real cluster for the `api` backend ---------------------------------------------------------------
# The lessons' kind cluster: 1 control plane + 2 workers, the API server's audit log on. Needs Docker (a
# running daemon) and kind on PATH; the kubeconfig goes where kind puts it (~/.kube/config, context
# kind-challenge-cluster, the backend's default). Nothing here is installed for you: Docker and kind are
# the operator's choice (https://kind.sigs.k8s.io/docs/user/quick-start/#installation).
KIND_CLUSTER ?= challenge-cluster
KIND_DIR     := dashboard/realcluster/kind

kind-up:
	@command -v docker >/dev/null 2>&1 || { echo "make kind-up needs Docker: install it (https://docs.docker.com/engine/install/), then run this again." >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "Docker is installed but its daemon does not answer (is it running? may this user use it?)." >&2; exit 1; }
	@command -v kind >/dev/null 2>&1 || { echo "make kind-up needs kind on PATH: https://kind.sigs.k8s.io/docs/user/quick-start/#installation" >&2; exit 1; }
	@if kind get clusters 2>/dev/null | grep -qx "$(KIND_CLUSTER)"; then echo "kind cluster $(KIND_CLUSTER) exists already (make kind-down deletes it)."; exit 0; fi; \
	mkdir -p var && sed "s#@AUDIT_POLICY@#$(CURDIR)/$(KIND_DIR)/audit-policy.yaml#" $(KIND_DIR)/cluster.yaml > var/kind-cluster.yaml && \
	kind create cluster --name "$(KIND_CLUSTER)" --config var/kind-cluster.yaml --wait 180s && \
	echo "Ready: context kind-$(KIND_CLUSTER). Start a scenario with Cluster = Real cluster on the dashboard."

kind-down:
	@command -v kind >/dev/null 2>&1 || { echo "make kind-down needs kind on PATH." >&2; exit 1; }
	kind delete cluster --name "$(KIND_CLUSTER)"
