# A thin index: each target installs what it needs first, so a fresh clone needs no other step.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run migrate test test-fast screenshot lint clean up down logs bench

install: $(STAMP)

$(STAMP): user-service/requirements.txt todo-service/requirements.txt faas/requirements.txt requirements-dev.txt service-kit/pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r user-service/requirements.txt -r todo-service/requirements.txt -r faas/requirements.txt -r requirements-dev.txt
	# The shared library, editable: the pins above are the parts' own, so it brings no others.
	$(BIN)/pip install --quiet --no-deps --editable service-kit
	touch $(STAMP)

migrate: install
	scripts/migrate.sh

run: migrate
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start

test: install
	scripts/test.sh

# The inner loop: the unit tests of the three parts and their library only (no stacks, no browser,
# no Docker), test by test on four workers, without the OpenAPI suite's plugins (schemathesis, hypothesis).
test-fast: install
	$(BIN)/pytest -q -n 4 --dist load -p no:schemathesis -p no:hypothesispytest service-kit/tests user-service/tests todo-service/tests faas/tests

# docs/screenshot.png, drawn from the real stack in Chromium (make test installs Chromium).
screenshot: install
	PYTHONPATH=tests $(BIN)/python scripts/screenshot.py

# Arguments for `python -m bench`, e.g. make bench BENCH_ARGS=--profile
bench: install
	scripts/bench.sh $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .tools .data */.data .pytest_cache .ruff_cache .hypothesis test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

up:
	docker compose up --build --wait

down:
	docker compose down

logs:
	docker compose logs --follow
