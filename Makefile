# The quick-start commands (README): `make serve`, `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve demo test test-fast test-killbill bench postgres-start postgres-stop clean

$(VENV)/.runtime: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(BIN)/pip install -q -e '.[test]'
	touch $@

## Start the bridge on its embedded default: SQLite in ./bridge.db, a development master key.
serve: $(VENV)/.runtime
	$(BIN)/bridge serve

## See it work: `bridge demo`, the whole product on simulators (DEMO_ARGS=--non-interactive to pay by itself).
demo: $(VENV)/.runtime
	$(BIN)/bridge demo $(DEMO_ARGS)

## The whole test suite, on SQLite and on PostgreSQL; installs what it needs first.
test: $(VENV)/.test
	scripts/install-system-deps
	scripts/run-tests

## The fast suite on SQLite only, for use while working.
test-fast: $(VENV)/.test
	$(BIN)/pytest -q -n 2 -m "not slow and not killbill_server"

## End to end against a real Kill Bill with the Java plugin (scripts/killbill-server starts it, then stops it).
test-killbill: $(VENV)/.test
	scripts/install-system-deps
	$(BIN)/pytest -q -m killbill_server tests/killbill_server

## The benchmarks (benchmarks/): figures printed and written to benchmarks/results/ (BENCH_ARGS=--quick to try).
bench: $(VENV)/.test
	scripts/install-system-deps
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

postgres-start:
	@scripts/test-postgres start

postgres-stop:
	@scripts/test-postgres stop

clean:
	rm -rf $(VENV) .pytest_cache bridge.db bridge.db-shm bridge.db-wal
