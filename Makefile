# makechat: `make run` runs it locally, `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
CACHE ?= $(HOME)/.cache/makechat
export MAKECHAT_CACHE := $(CACHE)

.PHONY: install run test ferretdb docs clean

$(BIN)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

# The embedded database: mongod if it is on PATH, else FerretDB built once
# into $(CACHE) (needs Go).
ferretdb:
	@if command -v mongod >/dev/null || [ -n "$$MAKECHAT_TEST_MONGO_URI" ]; then :; \
	else bash scripts/build-ferretdb.sh >/dev/null; fi

run: install ferretdb
	$(BIN)/python -m makechat.devdb --var var

test: install ferretdb
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var build dist *.egg-info
