# The two commands a newcomer needs are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

install: $(STAMP)

# Re-installs whenever pyproject.toml changes (new dependency, new entry point).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/handoff demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check bot scoring tests
	$(BIN)/ruff format --check bot scoring tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python tests/bench/run.py --report bench-report.json

clean:
	rm -rf $(VENV) bench-report.json .pytest_cache .mypy_cache .ruff_cache *.egg-info
