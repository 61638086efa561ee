# Banking back office — every developer and CI command lives here.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUF_VERSION := 1.75.0
BUF := $(VENV)/node/node_modules/.bin/buf
GOOGLE_PROTOS := $(VENV)/protos
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PROTOS := $(sort $(wildcard protos/backoffice/v1/*.proto))
PROTOC := $(PY) -m grpc_tools.protoc -Iprotos -I$(GOOGLE_PROTOS)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@echo "Installing into $(VENV) (pinned versions)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@npm install --silent --prefix $(VENV)/node --no-audit --no-fund --no-save @bufbuild/buf@$(BUF_VERSION) >/dev/null
	@site=$$($(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent)'); \
	  mkdir -p $(GOOGLE_PROTOS)/google/api $(GOOGLE_PROTOS)/google/rpc; \
	  cp $$site/api/{annotations,http,httpbody,field_behavior}.proto $(GOOGLE_PROTOS)/google/api/; \
	  cp $$site/rpc/{status,error_details,code}.proto $(GOOGLE_PROTOS)/google/rpc/
	@rm -f $(VENV)/.installed-*; touch $@

.PHONY: install
install: $(STAMP) ## Create .venv and install pinned dependencies (Python, buf)

# Generation writes into a directory given as OUT, so `gen-check` can
# regenerate elsewhere and compare.
OUT ?= gen
.PHONY: gen
gen: $(STAMP) ## Regenerate gen/ (Python stubs + Envoy descriptor set) from protos/
	@rm -rf $(OUT)/backoffice $(OUT)/backoffice.binpb; mkdir -p $(OUT)
	@$(PROTOC) --python_out=$(OUT) --pyi_out=$(OUT) --grpc_python_out=$(OUT) $(PROTOS)
	@$(PROTOC) --include_imports --include_source_info --descriptor_set_out=$(OUT)/backoffice.binpb $(PROTOS)
	@touch $(OUT)/backoffice/__init__.py $(OUT)/backoffice/v1/__init__.py
	@echo "generated $(OUT)/ from $(words $(PROTOS)) proto files"

.PHONY: gen-check
gen-check: $(STAMP) ## Fail if gen/ is not what protos/ generate
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(MAKE) --no-print-directory gen OUT=$$tmp >/dev/null; \
	  if ! diff -r -q -x __pycache__ gen $$tmp; then echo "gen/ is stale: run make gen and commit"; exit 1; fi; \
	  echo "gen/ is up to date"

.PHONY: setup
setup: $(STAMP) ## Migrate the database and load sandbox data
	@$(PY) -m server setup

.PHONY: run
run: $(STAMP) ## Start the gRPC server and Envoy on SQLite with sandbox data (Ctrl-C stops)
	@test -f gen/backoffice.binpb || $(MAKE) --no-print-directory gen
	@$(PY) -m server run

.PHONY: test
test: $(STAMP) gen-check lint ## Check gen/ and lint, then run the test suite (SQLite and PostgreSQL)
	@$(PY) -m pytest $(PYTEST_ARGS)
PYTEST_ARGS ?=

.PHONY: lint
lint: $(STAMP) ## ruff, mypy on server/, buf lint and buf format check
	@$(PY) -m ruff check server tests
	@$(PY) -m ruff format --check server tests
	@$(PY) -m mypy
	@$(BUF) lint
	@$(BUF) format -d --exit-code

.PHONY: fmt
fmt: $(STAMP) ## Format Python and protos in place
	@$(PY) -m ruff check --fix server tests
	@$(PY) -m ruff format server tests
	@$(BUF) format -w

.PHONY: bench
bench: $(STAMP) ## Benchmarks on PostgreSQL vs pgbench, ~10 min (BENCH_SECONDS=20 per scenario; see README)
	@test -f gen/backoffice.binpb || $(MAKE) --no-print-directory gen
	@$(PY) -m tests.bench

.PHONY: chaos
chaos: $(STAMP) ## Fault test: transfers while servers and PostgreSQL crash, ~4 min (CHAOS_SEED=, CHAOS_SECONDS=180, CHAOS_BREAK=; see README)
	@mkdir -p var
	@$(PY) -m tests.chaos.harness --duration $(CHAOS_SECONDS) --json var/chaos.json \
	  $(if $(CHAOS_SEED),--seed $(CHAOS_SEED)) $(if $(CHAOS_BREAK),--break $(CHAOS_BREAK))
CHAOS_SEED ?=
CHAOS_SECONDS ?= 180
CHAOS_BREAK ?=

.PHONY: clean
clean: ## Remove the venv, runtime data and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
