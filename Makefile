# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 7071
HOST ?= 127.0.0.1

.PHONY: run test install bench clean sandbox-isolation browser key keys revoke-key fuzz chaos

# Installs only what is missing: the venv is updated when a requirements file changes,
# node_modules when package.json changes.
install: $(VENV)/.installed node_modules/.installed sandbox-isolation browser

$(VENV)/.installed: requirements.txt requirements-sandbox.txt requirements-dev.txt migrate/requirements.txt samples/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

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
# without them those tests skip and say why.
browser:
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || { command -v apt-get >/dev/null && SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo) && \
	  { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }; }; } \
	  || echo "note: chromium not installed; the playground's browser tests will skip"

# On loopback (the default) no key is needed; HOST=0.0.0.0 (any other address) requires keys.
run: install
	$(PY) -m devhost.launcher --host $(HOST) --port $(PORT)

# API keys (core/api_keys.py), in the storage of local.settings.json / the environment:
#   make key PRINCIPAL=alice NAME="alice's laptop"   make keys   make revoke-key ID=<id from make keys>
key: install
	$(PY) -m core.api_keys create --principal "$(PRINCIPAL)" --name "$(NAME)"

keys: install
	$(PY) -m core.api_keys list

revoke-key: install
	$(PY) -m core.api_keys revoke "$(ID)"

# node's test runner first (the playground's pure JS modules), then pytest, whose summary ends the output.
test: install
	node --test tests/playground/
	$(PY) -m pytest

# Hostile input: schemathesis, all phases incl. stateful, >= 2,000 requests, fails on any 5xx (~2 min).
fuzz: install
	$(PY) -m tests.fuzz.hostile --max-examples 10 --min-requests 2000

# A soak under a misbehaving storage account (tests/support/storage_faults.py), model faults and SIGKILLs
# of the service: 300 mixed runs, none stuck or duplicated (minutes).
chaos: install
	$(PY) -m tests.chaos.soak --runs $(or $(RUNS),300) --workers 8

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules .azurite .pytest_cache
