# Tuition: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every test.

PYTHON ?= $(shell pyenv which python3 2>/dev/null || command -v python3.13 || command -v python3)
UV_VERSION := 0.13.8
VENV := .venv
UV := .tools/bin/uv
# The PostgreSQL server `make test` also runs the suite on (each run makes its own database).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

# Translations: extract the marked strings into the German and Spanish catalogs (then translate
# the new entries), and compile them. Needs GNU gettext (apt-get install gettext).
# The API's own docs stay English (its error messages are the translated SPEC ones); the
# change-history table is django-simple-history's, translated by its own catalogs.
MESSAGES_SCOPE := --ignore='api/*' --ignore='*/templates/simple_history/*' \
	--ignore='*/migrations/*' --ignore='*/static/*'

.PHONY: messages compile-messages install run test lint-imports test-sqlite test-postgres fuzz-api bench bench-checkout bench-http bench-expiry \
	bench-reports soak lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(UV) || ($(PYTHON) -m venv .tools && .tools/bin/pip install -q uv==$(UV_VERSION))
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

run: install
	$(VENV)/bin/tuition serve --demo

test: install lint-imports test-sqlite test-postgres

# The map of the code: dependency contracts in pyproject.toml ([tool.importlinter]).
lint-imports: install
	$(VENV)/bin/lint-imports

test-sqlite: install
	@echo "== test suite on SQLite =="
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: install
	@if $(VENV)/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_DATABASE_URL)" 2>/dev/null; then \
		echo "== test suite on PostgreSQL ($(TEST_DATABASE_URL)) =="; \
		DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/pytest $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL), and CI=true requires it." >&2; exit 1; \
	else \
		echo "== PostgreSQL not reachable at $(TEST_DATABASE_URL): SQLite run only (set TEST_DATABASE_URL) =="; \
	fi

# The long Schemathesis run (every check, every operation) on SQLite, then PostgreSQL when
# reachable; `make test` runs the same with few examples. FUZZ_API_EXAMPLES, FUZZ_API_SEED to tune.
FUZZ_API_EXAMPLES ?= 30
fuzz-api: install
	@echo "== API fuzz on SQLite ($(FUZZ_API_EXAMPLES) examples per operation) =="
	FUZZ_API_EXAMPLES=$(FUZZ_API_EXAMPLES) $(VENV)/bin/pytest tests/api/test_schema_fuzz.py -s -q
	@if $(VENV)/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_DATABASE_URL)" 2>/dev/null; then \
		echo "== API fuzz on PostgreSQL =="; \
		DATABASE_URL="$(TEST_DATABASE_URL)" FUZZ_API_EXAMPLES=$(FUZZ_API_EXAMPLES) $(VENV)/bin/pytest tests/api/test_schema_fuzz.py -s -q; \
	fi

bench: install
	BENCH_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/python bench/ledger.py

bench-checkout: install
	BENCH_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/python bench/checkout.py

bench-http: install
	BENCH_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/python bench/http.py

bench-expiry: install
	DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/python bench/expiry.py

bench-reports: install
	BENCH_DATABASE_URL="$(TEST_DATABASE_URL)" $(VENV)/bin/python bench/reports.py

# Checkouts over HTTP while processes are SIGKILLed at the fault points and a throwaway
# PostgreSQL cluster (never the shared server) restarts; prints the proofs. SOAK_ARGS to tune.
SOAK_ARGS ?=
soak: install
	$(VENV)/bin/python bench/soak.py $(SOAK_ARGS)

messages: install
	cd src/tuition && ../../$(VENV)/bin/django-admin makemessages -l de -l es --no-location \
		--no-obsolete $(MESSAGES_SCOPE) --settings=tuition.config.settings.test --pythonpath=..

compile-messages: install
	cd src/tuition && ../../$(VENV)/bin/django-admin compilemessages \
		--settings=tuition.config.settings.test --pythonpath=..

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .tools data
