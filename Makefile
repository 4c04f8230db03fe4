# makechat: `make run` runs it locally, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
CACHE ?= $(HOME)/.cache/makechat
export MAKECHAT_CACHE := $(CACHE)

.PHONY: install install-run install-bench run lint test ferretdb browser nginx wrk postgresql bench docs clean

# Serving needs the package alone; the tests and the docs add the test extra
# (pytest, selenium, sphinx, schemathesis, ...). One stamp file for each, so
# `make run` on a fresh clone installs no test tool.
$(BIN)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

# The tests install the bench extra too: tests/test_bench.py runs `make
# bench` in its smoke mode, plot (matplotlib) and profile (py-spy) included.
$(BIN)/.installed-bench: $(BIN)/.installed-run
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed-bench
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

# The benchmark's load generator for the routes (Debian's wrk): install it
# when missing. tests/test_bench.py runs the benchmark's smoke mode with it.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  sudo=""; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo apt-get install -y wrk; fi

# FerretDB's PostgreSQL handler, which `make bench` compares with SQLite, runs
# on Debian's PostgreSQL. Only its programs are used: bench/run.py makes a
# throwaway cluster of its own (as the postgres user when run as root, since
# initdb refuses root) on a loopback port, and removes it afterwards.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  sudo=""; if [ "$$(id -u)" != 0 ]; then sudo=sudo; fi; \
	  $$sudo apt-get update && $$sudo apt-get install -y postgresql; fi

# makechat beside a minimal baseline app, on a stack of its own (about 35
# minutes; bench/README.rst). `make bench BENCH_ARGS=--smoke` is the
# tests' tiny run, `BENCH_ARGS="--skip postgresql"` leaves a part out.
bench: install-bench ferretdb wrk postgresql
	$(BIN)/python bench/run.py $(BENCH_ARGS)

install-bench: $(BIN)/.installed-bench

# `make run PORT=8181` serves on another port (so does MAKECHAT_PORT=8181 in
# the environment; a PORT variable of the environment is not taken).
run: install-run ferretdb
	@$(BIN)/python -m devdb --var var $(if $(filter command line,$(origin PORT)),--port $(PORT))

# The linters, configured in pyproject.toml. `make test` (and so CI) runs them
# first: a finding fails the build before the suite's five minutes.
lint: install
	$(BIN)/ruff check makechat tests devdb
	$(BIN)/mypy makechat

test: lint ferretdb browser nginx wrk
	$(BIN)/python -m pytest

# The documentation, into docs/_build/html; a warning fails the build, as in
# the tests.
docs: install
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) var build dist *.egg-info docs/_build .mypy_cache .ruff_cache
