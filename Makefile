# The two commands a newcomer needs are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
UV     := uv==0.13.9

.PHONY: install demo test lint bench lock test-latest wheel-check clean

install: $(STAMP)

# Installs the locked versions (requirements.lock), then the project itself; re-installs
# whenever pyproject.toml or the lock changes.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)  # make demo PORT=8000 serves the page on another port
	$(BIN)/handoff demo $(if $(PORT),--port $(PORT))

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot scoring store tests
	$(BIN)/ruff format --check bot scoring store tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python tests/bench/run.py --report bench-report.json

# Refreshes requirements.lock: the newest versions pyproject.toml allows, with every
# extra, for every platform and Python 3.11+.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet $(UV)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra charts --universal \
		--python-version 3.11 --quiet --custom-compile-command "make lock" -o $(LOCK)

# The tests on the newest versions pyproject.toml allows (no lock), in .venv-latest:
# drift found here before a user's fresh install finds it.
test-latest:
	@test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	.venv-latest/bin/python -m pytest

# The wheel, installed in a fresh venv outside the checkout, run from another folder.
wheel-check: $(STAMP)
	bash .ci/wheel-check

clean:
	rm -rf $(VENV) .venv-latest bench-report.json .pytest_cache .mypy_cache .ruff_cache *.egg-info build dist
