# walletcards — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The PostgreSQL server the second test pass runs against (a fresh database is created in it).
# Empty it (`make test PG_TEST_URL=`) only on a machine without PostgreSQL.
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# Where `make run` serves and `make demo` sends (`make run PORT=8123`); in development every link
# (card page, pass, webServiceURL) follows it unless WALLETCARDS_PUBLIC_URL is set.
PORT ?= 8000

.PHONY: run demo test check test-sqlite test-postgres bench bench-quick clean redis

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# Development-only secrets for the demo programme (examples/demo.toml reads them as env:...).
DEV_ENV := WALLETCARDS_DEV=1 DEMO_SHOPIFY_SECRET=dev-only-shopify-secret \
	DEMO_WOO_SECRET=dev-only-woocommerce-secret DEMO_ORDERS_SECRET=dev-only-orders-secret

## run: install, make dev certificates, migrate the embedded SQLite database, apply the demo
## programme, serve on :$(PORT) (then, in another shell: make demo, with the same PORT)
run: $(VENV)/.installed
	@$(DEV_ENV) $(BIN)/walletcards certs dev
	@$(DEV_ENV) $(BIN)/walletcards db upgrade
	@$(DEV_ENV) $(BIN)/walletcards program apply examples/demo.toml
	@$(DEV_ENV) $(BIN)/walletcards serve --port $(PORT)

## demo: send the running service a signed order; prints the card page and writes a .pkpass
demo: $(VENV)/.installed
	@$(DEV_ENV) $(BIN)/walletcards demo --url http://127.0.0.1:$(PORT)

## test: lint, type-check, then the whole suite on SQLite and on PostgreSQL
test: check test-sqlite test-postgres

# The browser test drives Debian's Chromium (never a downloaded browser build).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium ($(CHROMIUM)) for the till's browser test"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# The shared sign-in limits are tested against a real Redis on 127.0.0.1:6379 (Debian's
# redis-server, started here when nothing answers on that port).
redis:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  command -v redis-server >/dev/null || { command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } || \
	    { echo "install redis-server for the sign-in limit test"; exit 1; }; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null; \
	  for _ in $$(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.2; done; \
	fi

check: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: $(VENV)/.installed-dev $(CHROMIUM) redis
	WALLETCARDS_TEST_DATABASE_URL= $(BIN)/pytest

test-postgres: $(VENV)/.installed-dev $(CHROMIUM) redis
	@if [ -z "$(PG_TEST_URL)" ]; then echo "PG_TEST_URL is empty: PostgreSQL pass NOT run"; \
	else WALLETCARDS_TEST_DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest; fi

## bench: every benchmark in bench/, results to paste into BENCHMARKS.md
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run

bench-quick: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
