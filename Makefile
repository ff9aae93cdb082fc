# Two set-up commands, for a fresh Debian machine (as root):  make run  |  make test
# Both create .venv from requirements.txt and install the system packages they need when missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-requirements

SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help run test venv system-run system-test clean bench

help:
	@echo "make run    start redis-server, a Celery worker and Daphne; print the URL and the instructor login"
	@echo "make test   install what the tests need (incl. Debian's chromium) and run the whole suite"

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
