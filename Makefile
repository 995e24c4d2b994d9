# JT Chat — `make run` serves the product on its embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
.PHONY: run test lint fuzz bench bench-http bench-live bench-workspace clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@touch $@

# A local .env for this checkout (settings read it; the environment wins over it): DEBUG on and
# a generated SECRET_KEY, so that every manage.py command works here. Written once, never
# overwritten, never committed (.gitignore).
.env:
	@$(PYTHON) -c 'import secrets; print("# Local settings for this checkout, written by make run.\nDEBUG=1\nSECRET_KEY=" + secrets.token_urlsafe(50))' > $@
	@echo "wrote $@ (DEBUG=1 and a generated SECRET_KEY)"

run: .env $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py create_demo_agent
	@# Reply e-mails (printed here without EMAIL_URL) go out beside the server, every 30 s.
	$(BIN)/python manage.py send_reply_emails --loop 30 & sender=$$!; \
	trap 'kill $$sender 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The API fuzzed from outside: schemathesis against bin/serve-web, every phase and check, as
# an anonymous visitor, a customer and a signed-in manager; prints its seed. README, "The API".
fuzz: $(VENV)/.installed-test
	$(BIN)/python -m chat.tests.fuzzing.run --max-examples 100 $(FUZZ_ARGS)

# POST /api/chat/message under gunicorn (production settings) next to the framework's floor,
# on PostgreSQL (jt_bench_http) and Redis, with wrk: README, "Performance: HTTP".
bench-http: $(VENV)/.installed-test
	$(BIN)/python bench/http_bench.py $(BENCH_ARGS)

# Live delivery under load (gunicorn + uvicorn, PostgreSQL jt_d, Redis db 4) and the memory
# of 2,000 idle sockets on one uvicorn worker: README, "Performance: live delivery".
bench-live: $(VENV)/.installed-test
	$(BIN)/python bench/live_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/idle_sockets.py

# The agents' workspace in Chromium against the production commands (PostgreSQL
# jt_bench_workspace, Redis db 4): README, "Performance: agents' workspace".
bench-workspace: $(VENV)/.installed-test
	$(BIN)/python bench/workspace_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
