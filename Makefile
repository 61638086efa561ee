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
# buf (npm) is needed by lint and fmt only: `make run` works without npm.
BUF_STAMP := $(VENV)/node/.installed-buf-$(BUF_VERSION)
# Swagger UI (npm) for the /docs page; in a prefix of its own, so that npm
# installing one never prunes the other. Optional: without it /docs says so.
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_PREFIX := $(VENV)/node/swagger-ui
SWAGGER_UI_STAMP := $(SWAGGER_UI_PREFIX)/.installed-swagger-ui-$(SWAGGER_UI_VERSION)
PROTOS := $(sort $(wildcard protos/backoffice/v1/*.proto))
PROTOC := $(PY) -m grpc_tools.protoc -Iprotos -I$(GOOGLE_PROTOS)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Each step says what it does; pip's whole output goes to $(VENV)/install.log
# (kept), with a running count of the packages it has collected.
$(STAMP): pyproject.toml
	@echo "Installing into $(VENV) (pinned versions; about a minute the first time)"
	@echo "  creating the virtual environment"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "  installing Python packages (~1 min; log: $(VENV)/install.log)"
	@$(PY) -m pip install --disable-pip-version-check -e '.[dev]' 2>&1 | tee $(VENV)/install.log \
	  | awk '/^Collecting / {n++; printf "\r    %d packages collected", n; fflush()} \
	    /^Installing collected/ {printf ", installing them"; fflush()} END {if (n) print ""}' \
	  || { tail -n 30 $(VENV)/install.log; echo "pip failed: see $(VENV)/install.log"; exit 1; }
	@echo "  installing the Python SDK (sdk/python, editable)"
	@$(PY) -m pip install --disable-pip-version-check --no-deps -e sdk/python >> $(VENV)/install.log 2>&1 \
	  || { tail -n 30 $(VENV)/install.log; echo "pip failed: see $(VENV)/install.log"; exit 1; }
	@echo "  copying the Google API protos into $(GOOGLE_PROTOS)"
	@site=$$($(PY) -c 'import google.api, pathlib; print(pathlib.Path(google.api.__path__[0]).parent)'); \
	  mkdir -p $(GOOGLE_PROTOS)/google/api $(GOOGLE_PROTOS)/google/rpc; \
	  cp $$site/api/{annotations,http,httpbody,field_behavior}.proto $(GOOGLE_PROTOS)/google/api/; \
	  cp $$site/rpc/{status,error_details,code}.proto $(GOOGLE_PROTOS)/google/rpc/
	@rm -f $(VENV)/.installed-*; touch $@
	@echo "  done"

$(BUF_STAMP): | $(STAMP)
	@if ! { test -x $(BUF) && test "$$($(BUF) --version)" = $(BUF_VERSION); }; then \
	  command -v npm >/dev/null || { echo "npm is needed for buf (make lint, fmt, test): install Node.js"; exit 1; }; \
	  echo "Installing buf $(BUF_VERSION) with npm into $(VENV)/node (for lint and fmt)"; \
	  npm install --silent --prefix $(VENV)/node --no-audit --no-fund --no-save @bufbuild/buf@$(BUF_VERSION) >/dev/null; \
	fi
	@touch $@

.PHONY: install
install: $(STAMP) ## Create .venv and install pinned Python dependencies (buf comes with lint/fmt)

# Never fails: no npm, or no network, leaves /docs saying how to get it.
.PHONY: docs-ui
docs-ui: $(STAMP) ## Install Swagger UI (npm) for /docs; make run and make test try it
	@test -f $(SWAGGER_UI_STAMP) && exit 0; \
	  command -v npm >/dev/null || { echo "  no npm: /docs will say how to get Swagger UI (/openapi.json works)"; exit 0; }; \
	  echo "Installing Swagger UI $(SWAGGER_UI_VERSION) with npm into $(SWAGGER_UI_PREFIX) (for /docs)"; \
	  if npm install --silent --prefix $(SWAGGER_UI_PREFIX) --no-audit --no-fund --no-save \
	      swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null; then touch $(SWAGGER_UI_STAMP); \
	  else echo "  npm could not install Swagger UI: /docs will say so (/openapi.json works)"; fi

# newman (npm) runs the Postman collection in tests/api/test_postman.py, in a
# prefix of its own. Without npm the test skips (fails when CI=true).
NEWMAN_VERSION := 6.2.2
NEWMAN_PREFIX := $(VENV)/node-newman
NEWMAN_STAMP := $(NEWMAN_PREFIX)/.installed-newman-$(NEWMAN_VERSION)
.PHONY: newman
newman: $(STAMP) ## Install newman (npm) for the Postman collection test; make test runs it
	@test -f $(NEWMAN_STAMP) && exit 0; \
	  command -v npm >/dev/null || { echo "  no npm: the Postman collection test skips (fails when CI=true)"; exit 0; }; \
	  echo "Installing newman $(NEWMAN_VERSION) with npm into $(NEWMAN_PREFIX) (Postman collection test)"; \
	  npm install --silent --prefix $(NEWMAN_PREFIX) --no-audit --no-fund --no-save \
	    newman@$(NEWMAN_VERSION) >/dev/null && touch $(NEWMAN_STAMP)

# Generation writes into a directory given as OUT, so `gen-check` can
# regenerate elsewhere and compare.
OUT ?= gen
.PHONY: gen
gen: $(STAMP) ## Regenerate gen/ (Python stubs, Envoy descriptor set, openapi.json) from protos/
	@rm -rf $(OUT)/backoffice $(OUT)/backoffice.binpb $(OUT)/openapi.json $(OUT)/*.postman_*.json; mkdir -p $(OUT)
	@$(PROTOC) --python_out=$(OUT) --pyi_out=$(OUT) --grpc_python_out=$(OUT) $(PROTOS)
	@$(PROTOC) --include_imports --include_source_info --descriptor_set_out=$(OUT)/backoffice.binpb $(PROTOS)
	@touch $(OUT)/backoffice/__init__.py $(OUT)/backoffice/v1/__init__.py
	@# The OpenAPI document of the REST API (server/openapi/; statuses read from server/api/).
	@$(PY) -m server.openapi $(OUT)/backoffice.binpb $(OUT)/openapi.json
	@# The Postman collection and its sandbox environment, from that document.
	@$(PY) -m server.openapi.postman $(OUT)/openapi.json $(OUT)
	@echo "generated $(OUT)/ from $(words $(PROTOS)) proto files"
	@# The TypeScript SDK's src/gen too, once `make sdk-ts` installed its generator.
	@if [ "$(OUT)" = gen ] && [ -x $(SDK_TS)/node_modules/.bin/protoc-gen-es ] && [ -x $(BUF) ]; then \
	  cd $(SDK_TS) && $(abspath $(BUF)) generate $(CURDIR) --template buf.gen.yaml \
	  && echo "regenerated $(SDK_TS)/src/gen"; \
	elif [ "$(OUT)" = gen ]; then echo "  after proto edits, make sdk-ts regenerates $(SDK_TS)/src/gen"; fi

.PHONY: gen-check
gen-check: $(STAMP) ## Fail if gen/ is not what protos/ generate
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(MAKE) --no-print-directory gen OUT=$$tmp >/dev/null; \
	  if ! diff -r -q -x __pycache__ gen $$tmp; then echo "gen/ is stale: run make gen and commit"; exit 1; fi; \
	  echo "gen/ is up to date"

# The TypeScript SDK (sdk/typescript, README "TypeScript SDK"): its pinned npm
# packages, then src/gen/ regenerated from protos/ by protoc-gen-es (commit it
# with the protos; tests/sdk checks it is current), then compiled into dist/.
SDK_TS := sdk/typescript
.PHONY: sdk-ts
sdk-ts: $(STAMP) $(BUF_STAMP) ## Install the TypeScript SDK (npm ci) and regenerate its src/gen from protos/
	@cd $(SDK_TS) && npm ci --no-audit --no-fund --loglevel=error \
	  && touch node_modules/.installed-$$(sha256sum package-lock.json | cut -c1-16)
	@cd $(SDK_TS) && $(abspath $(BUF)) generate $(CURDIR) --template buf.gen.yaml
	@cd $(SDK_TS) && node_modules/.bin/tsc -p tsconfig.json
	@echo "regenerated $(SDK_TS)/src/gen and compiled the SDK into $(SDK_TS)/dist"

.PHONY: setup
setup: $(STAMP) ## Migrate the database and load sandbox data
	@$(PY) -m server setup

.PHONY: run
run: $(STAMP) ## Start the gRPC server and Envoy on SQLite with sandbox data (Ctrl-C stops)
	@test -f gen/backoffice.binpb || $(MAKE) --no-print-directory gen
	@$(MAKE) --no-print-directory docs-ui
	@$(PY) -m server run

.PHONY: test
test: $(STAMP) gen-check lint docs-ui newman ## Check gen/ and lint, then run the test suite (SQLite and PostgreSQL)
	@$(PY) -m pytest $(PYTEST_ARGS)
PYTEST_ARGS ?=

.PHONY: lint
lint: $(STAMP) $(BUF_STAMP) ## ruff, mypy on server/ and the Python SDK, buf lint and buf format check (buf needs npm)
	@$(PY) -m ruff check server tests sdk/python
	@$(PY) -m ruff format --check server tests sdk/python
	@$(PY) -m mypy
	@cd sdk/python && $(abspath $(PY)) -m mypy --strict src
	@$(BUF) lint
	@$(BUF) format -d --exit-code
	@$(MAKE) --no-print-directory breaking

# The published API: an image of protos/ as released. `buf breaking` (FILE
# rules, buf.yaml) fails `make lint` on any change that would break a client
# of it (a field renumbered, renamed or removed, a type changed, an RPC or
# file deleted); additions pass. `make publish-api` records protos/ as the new
# published API, deliberately, when a release ships.
PUBLISHED_API := protos/published.binpb
.PHONY: breaking
breaking: $(STAMP) $(BUF_STAMP) ## Fail if protos/ break the published API (protos/published.binpb)
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	  $(BUF) build --exclude-source-info -o $$tmp/now.binpb && \
	  $(BUF) breaking $$tmp/now.binpb --against $(PUBLISHED_API) && \
	  echo "protos/ keep the published API ($(PUBLISHED_API))"

.PHONY: publish-api
publish-api: $(STAMP) $(BUF_STAMP) ## Record protos/ as the published API (when a release ships)
	@$(BUF) build --exclude-source-info -o $(PUBLISHED_API)
	@echo "wrote $(PUBLISHED_API)"

.PHONY: fmt
fmt: $(STAMP) $(BUF_STAMP) ## Format Python and protos in place (buf needs npm)
	@$(PY) -m ruff check --fix server tests
	@$(PY) -m ruff format server tests
	@$(BUF) format -w

.PHONY: bench
bench: $(STAMP) ## Benchmarks on PostgreSQL vs pgbench, ~10 min (BENCH_SECONDS=20 per scenario; see README)
	@test -f gen/backoffice.binpb || $(MAKE) --no-print-directory gen
	@$(PY) -m tests.bench

.PHONY: chaos
chaos: $(STAMP) ## Fault test: transfers, external transfers, payments, recurring runs while servers and PostgreSQL crash, ~4 min (CHAOS_SEED=, CHAOS_SECONDS=180, CHAOS_BREAK=; see README)
	@mkdir -p var
	@$(PY) -m tests.chaos.harness --duration $(CHAOS_SECONDS) --json var/chaos.json \
	  $(if $(CHAOS_SEED),--seed $(CHAOS_SEED)) $(if $(CHAOS_BREAK),--break $(CHAOS_BREAK))
CHAOS_SEED ?=
CHAOS_SECONDS ?= 180
CHAOS_BREAK ?=

.PHONY: reset-sandbox
reset-sandbox: $(STAMP) ## Drop the sandbox database (SQLite) and load it again: clock back to now (stop make run first)
	@$(PY) -m server reset-sandbox

.PHONY: clean
clean: ## Remove the venv, runtime data and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
