# The two commands: `make run` and `make test`. Both create .venv and install first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUF := $(VENV)/bin/buf
INSTALLED := $(VENV)/.installed
GOOGLEAPIS := third_party/googleapis
# The contract as a descriptor set with source info: the gateway's OpenAPI descriptions.
DESCRIPTORS := gateway/stepline.binpb
BUILD_DESCRIPTORS = $(BUF) build --as-file-descriptor-set --exclude-imports --path api/stepline -o

.PHONY: install run test check lint typecheck proto-check breaking docs docs-check generate googleapis bench bench-rest bench-sdk bench-tracing bench-batches bench-waits bench-auth bench-peers chaos clean bench-waits-scale bench-retention

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# buf (installed just now) resolves google/api/annotations.proto from this copy, so
	# `.venv/bin/buf lint` works in any installed checkout, not only after make generate.
	$(PY) tools/googleapis_protos.py $(GOOGLEAPIS)
	touch $@

install: $(INSTALLED)

## Start the server on the embedded SQLite default (.stepline/stepline.db, 127.0.0.1:50051).
run: $(INSTALLED)
	$(VENV)/bin/stepline-server serve

## Every check and every test. PostgreSQL cases skip loudly when it is absent, unless CI=true.
test: check
	$(PY) -m pytest

check: proto-check breaking lint typecheck docs-check

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(INSTALLED)
	$(VENV)/bin/mypy

# Material for MkDocs prints an end-of-life notice (May 2027) at every build; it is no
# warning of ours, so it is silenced here (moving to its successor is future work).
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

## Serve the documentation site (docs/, mkdocs.yml) at http://127.0.0.1:8000, rebuilt on edit.
docs: $(INSTALLED)
	$(MKDOCS) serve --dev-addr 127.0.0.1:8000

## Build the site with warnings as errors (broken links and anchors, pages left out of
## the nav), into a temporary directory so the clone stays clean. No --quiet: it hides
## the warnings from --strict too, and the build then passes whatever they say.
docs-check: $(INSTALLED)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MKDOCS) build --strict --site-dir "$$tmp"

## Copy the googleapis protos again (an install made before the copy was part of it).
googleapis: $(INSTALLED)
	$(PY) tools/googleapis_protos.py $(GOOGLEAPIS)

## Regenerate stepline/v1 and the gateway's descriptor set from api/.
generate: googleapis
	$(BUF) format -w
	$(BUF) generate
	$(BUILD_DESCRIPTORS) $(DESCRIPTORS)

## buf lint, buf format, and the committed stubs must equal a fresh generation.
proto-check: googleapis
	$(BUF) lint
	$(BUF) format --diff --exit-code
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BUF) generate -o "$$tmp" && \
	diff -r -x __init__.py -x py.typed -x __pycache__ "$$tmp/stepline/v1" stepline/v1 \
	  || { echo "stepline/v1 is stale: run 'make generate' and commit the result"; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BUILD_DESCRIPTORS) "$$tmp/stepline.binpb" && \
	cmp -s "$$tmp/stepline.binpb" $(DESCRIPTORS) \
	  || { echo "$(DESCRIPTORS) is stale: run 'make generate' and commit the result"; exit 1; }

## buf breaking (FILE rules) against BREAKING_AGAINST (default: main). The other side is
## built from `git archive` plus the same googleapis copy, since buf cannot compare
## against a saved image of a two-module workspace. Skipped when the ref does not exist.
## Breaks made on purpose are listed finding by finding in api/accepted_breaks.txt; any
## other finding fails (tools/buf_breaking.py).
BREAKING_AGAINST ?= main
breaking: googleapis
	@if ! git rev-parse --verify --quiet "$(BREAKING_AGAINST)^{commit}" >/dev/null; then \
	  echo "buf breaking: no ref $(BREAKING_AGAINST); skipped"; exit 0; fi; \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	git archive "$(BREAKING_AGAINST)" | tar -x -C "$$tmp" && \
	mkdir -p "$$tmp/$(GOOGLEAPIS)" && cp -r $(GOOGLEAPIS)/. "$$tmp/$(GOOGLEAPIS)" && \
	$(PY) tools/buf_breaking.py $(BUF) "$$tmp"

## Benchmarks (see docs/benchmarks.md): the reference workload on SQLite and PostgreSQL.
bench: $(INSTALLED)
	$(PY) -m bench.reference

## REST vs gRPC: StartWorkflow and GetWorkflowRun over both, in one run.
bench-rest: $(INSTALLED)
	$(PY) -m bench.rest

## The reference workload through the SDK worker next to the raw-gRPC worker.
bench-sdk: $(INSTALLED)
	$(PY) -m bench.sdk

## What tracing costs the server: OTEL_* unset vs exporting, in one run.
bench-tracing: $(INSTALLED)
	$(PY) -m bench.tracing

## Batch cancel and batch replay over 100,000 runs each, with a worker claiming meanwhile.
bench-batches: $(INSTALLED)
	$(PY) -m bench.batches

## Resumption latency of a waiting run after a signal or an event (issue 14: p50 < 20 ms on PostgreSQL).
bench-waits: $(INSTALLED)
	$(PY) -m bench.waits

## SendEvent's cost with 1,000 vs 100,000 open waits on PostgreSQL (ratio in one run).
bench-waits-scale: $(INSTALLED)
	$(PY) -m bench.waits_scale

## Claim cost with 10,000 vs 1,000,000 finished runs, idle and while retention deletes them.
bench-retention: $(INSTALLED)
	$(PY) -m bench.retention $(BENCH_RETENTION_ARGS)

## What requiring API keys costs the server per StartWorkflow and CompleteStep, on vs off.
bench-auth: $(INSTALLED)
	$(PY) -m bench.auth

## stepline next to OpenWorkflow on its own workload, one PostgreSQL, alternating rounds.
## OpenWorkflow's harness is copied from ../shared/peers/openworkflow (found from the
## checkout or any folder above it; PEERS_HARNESS=dir to point elsewhere) into the ignored
## folder .bench-peers/ and installed there with `npm ci`, once. Without node or npm,
## stepline is measured alone. BENCH_PEERS_ARGS="--rounds 5" passes options.
PEERS_DIR := .bench-peers
PEERS_HARNESS ?= $(firstword $(wildcard $(foreach up,.. ../.. ../../..,$(up)/shared/peers/openworkflow)))
bench-peers: $(INSTALLED)
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "bench-peers: node/npm not found: OpenWorkflow is skipped, stepline is measured alone"; \
	elif [ ! -d $(PEERS_DIR)/node_modules ]; then \
	  if [ -z "$(PEERS_HARNESS)" ]; then \
	    echo "bench-peers: no ../shared/peers/openworkflow found (set PEERS_HARNESS=dir)"; exit 1; fi; \
	  rm -rf $(PEERS_DIR) && mkdir -p $(PEERS_DIR) && cp -r $(PEERS_HARNESS)/. $(PEERS_DIR)/ && \
	  (cd $(PEERS_DIR) && npm ci --no-audit --no-fund); \
	fi
	$(PY) -m bench.peers $(BENCH_PEERS_ARGS)

## The chaos suite on PostgreSQL (docs/chaos.md): 1,000 runs per scenario, two servers,
## workers SIGKILLed and SIGSTOPped, servers SIGKILLed and restarted, backends
## terminated; every invariant checked; prints the table. CHAOS_ARGS="--runs 200" passes options.
chaos: $(INSTALLED)
	$(PY) -m bench.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(GOOGLEAPIS) site
