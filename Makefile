# The two commands of the README's quick start:
#   make digest   build out/ from seeds/ (creates .venv and installs on first use)
#   make test     install the test extras, run lint, types and the tests
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check -q

.PHONY: digest test lint golden bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(PIP) -e '.[test]'
	touch $@

digest: $(VENV)/.installed
	$(VENV)/bin/digest build seeds -o out

lint: $(VENV)/.test-installed
	$(PY) -m ruff check digest tests $(wildcard bench) $(wildcard tools)
	$(PY) -m ruff format --check digest tests $(wildcard bench) $(wildcard tools)
	$(PY) -m mypy digest

test: lint
	$(PY) -m pytest

# Regenerate the committed golden files (out/ and tests/golden/), then review `git diff`.
golden: $(VENV)/.test-installed
	$(VENV)/bin/digest build seeds -o out
	$(PY) -m pytest tests/test_golden.py --update-golden -q

bench: $(VENV)/.test-installed
	$(PY) bench/themes.py
	$(PY) bench/quality.py
	$(PY) bench/speed.py
	$(PY) bench/email_budget.py
	$(PY) bench/robustness.py
	$(PY) bench/send.py
	$(PY) bench/dedupe.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
