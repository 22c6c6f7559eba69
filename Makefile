# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
# Azure runs the app on Python 3.11 (infra/app/function.bicep, .python-version): use it when present.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7071
HOST ?= 127.0.0.1

.PHONY: run test install bench clean sandbox-isolation browser key keys revoke-key fuzz lock chaos lint

# Installs only what is missing: the venv is updated when a requirements file changes,
# node_modules when package.json changes. What the service needs, no browser (`make test` adds it).
install: $(VENV)/.installed node_modules/.installed sandbox-isolation

# The lock (requirements.txt) first, hashes checked, as Azure installs it; then requirements-dev.txt
# with the lock's pins as constraints (hashes stripped: pip takes none in a constraints file), so
# tests run on exactly the versions Azure installs.
$(VENV)/.installed: requirements.in requirements.txt requirements-sandbox.txt requirements-dev.txt migrate/requirements.txt samples/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	sed -e 's/ *\\$$//' -e '/^ *--hash=/d' requirements.txt > $(VENV)/lock-constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c $(VENV)/lock-constraints.txt
	touch $@

# The deploy's lock: requirements.txt, every package pinned with its hashes, compiled by uv from
# requirements.in for Azure's Linux Python 3.11, under the sandbox's ranges (requirements-sandbox.txt:
# pandas arrives through yfinance too) so dev and deploy agree. Pins already in the lock are kept;
# `make lock UPGRADE=1` moves every package to the newest version the ranges admit.
UV_VERSION := $(shell sed -n 's/^uv==\([^ ]*\).*/\1/p' requirements-dev.txt)
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(PY) -m uv pip compile requirements.in --constraint requirements-sandbox.txt --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
	  $(if $(UPGRADE),--upgrade) --quiet --output-file requirements.txt

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# code_interpreter's local sandbox isolates with bubblewrap where it can be installed (Debian/Ubuntu);
# without it the sandbox still works, unisolated, and says so.
sandbox-isolation:
	@command -v bwrap >/dev/null || { command -v apt-get >/dev/null && SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo) && \
	  { $$SUDO apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq bubblewrap; }; }; } \
	  || echo "note: bubblewrap not installed; code_interpreter's local sandbox runs without isolation"

# The playground's browser tests drive Debian's headless Chromium through its chromedriver (selenium);
# without them those tests skip and say why. Only `make test` installs them: the service needs no browser.
browser:
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { command -v apt-get >/dev/null && SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo) && \
	  { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }; }; } \
	  || echo "note: chromium not installed; the playground's browser tests will skip"

# On loopback (the default) no key is needed; HOST=0.0.0.0 (any other address) requires keys.
# DEBUGPY=5678: devhost (and the processes it starts) listen for a debugger on that port
# (.vscode/launch.json, "Attach to make run").
run: install
	$(PY) $(if $(DEBUGPY),-Xfrozen_modules=off -m debugpy --listen 127.0.0.1:$(DEBUGPY)) -m devhost.launcher --host $(HOST) --port $(PORT)

# API keys (core/api_keys.py), in the storage of local.settings.json / the environment:
#   make key PRINCIPAL=alice NAME="alice's laptop"   make keys   make revoke-key ID=<id from make keys>
key: install
	$(PY) -m core.api_keys create --principal "$(PRINCIPAL)" --name "$(NAME)"

keys: install
	$(PY) -m core.api_keys list

revoke-key: install
	$(PY) -m core.api_keys revoke "$(ID)"

# node's test runner first (the playground's pure JS modules), then pytest, whose summary ends the output.
# pytest runs in TEST_WORKERS processes (pytest-xdist; default 2, the CI machine's cores), each test file
# whole in one of them (module-scoped devhosts start once), each process with its own Azurite, scripted
# model and devhost: the suite waits on I/O most of the time, so two halve it.
test: install browser
	node --test tests/playground/
	$(PY) -m pytest -n $(or $(TEST_WORKERS),2) --dist loadfile

# Hostile input: schemathesis, all phases incl. stateful, >= 2,000 requests, fails on any 5xx (~2 min).
# Lint and types (pyproject.toml): ruff (pyflakes, pycodestyle errors, bugbear, isort) on everything,
# mypy on the app's packages (every module clean, none exempt). Under a minute.
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

fuzz: install
	$(PY) -m tests.fuzz.hostile --max-examples 10 --min-requests 2000

# A soak under a misbehaving storage account (tests/support/storage_faults.py), model faults and SIGKILLs
# of the service: 300 mixed runs, none stuck or duplicated (minutes). BASELINE=1 first runs the same soak
# without faults and reports the slowdown (wall time of the runs under faults ÷ without).
chaos: install
	$(PY) -m tests.chaos.soak --runs $(or $(RUNS),300) --workers 8 $(if $(BASELINE),--baseline)

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache
