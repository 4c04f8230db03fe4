# makechat: `make run` runs it locally, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
CACHE ?= $(HOME)/.cache/makechat
export MAKECHAT_CACHE := $(CACHE)

.PHONY: install install-run run lint test ferretdb browser nginx docs clean

# Serving needs the package alone; the tests and the docs add the test extra
# (pytest, selenium, sphinx, schemathesis, ...). One stamp file for each, so
# `make run` on a fresh clone installs no test tool.
$(BIN)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed-run
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install-run: $(BIN)/.installed-run

install: $(BIN)/.installed-test

# The embedded database: mongod if it is on PATH, else FerretDB built once
# into $(CACHE) (needs Go).
ferretdb:
	@if command -v mongod >/dev/null || [ -n "$$MAKECHAT_TEST_MONGO_URI" ]; then :; \
	else bash scripts/build-ferretdb.sh >/dev/null; fi

# The web client's tests drive Debian's Chromium headless (never a browser
# download): install the apt packages when either binary is missing.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  sudo=""; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo apt-get install -y chromium chromium-driver; fi

# tests/test_docker.py serves makechat-web's nginx configuration with Debian's
# nginx (skipped without it): install it when missing.
nginx:
	@if [ ! -x /usr/sbin/nginx ]; then \
	  sudo=""; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo apt-get install -y nginx-light; fi

# `make run PORT=8181` serves on another port (so does MAKECHAT_PORT=8181 in
# the environment; a PORT variable of the environment is not taken).
run: install-run ferretdb
	@$(BIN)/python -m devdb --var var $(if $(filter command line,$(origin PORT)),--port $(PORT))

# The linters, configured in pyproject.toml. `make test` (and so CI) runs them
# first: a finding fails the build before the suite's five minutes.
lint: install
	$(BIN)/ruff check makechat tests devdb
	$(BIN)/mypy makechat

test: lint ferretdb browser nginx
	$(BIN)/python -m pytest

# The documentation, into docs/_build/html; a warning fails the build, as in
# the tests.
docs: install
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) var build dist *.egg-info docs/_build .mypy_cache .ruff_cache
