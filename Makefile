# lsu-import — commandes du projet. Voir README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: install demo test test-unit test-integration test-browser screenshot bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: install
	$(BIN)/lsu demo

# Browser tests drive Debian's Chromium (never `playwright install`).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core

test: install $(CHROMIUM)
	$(BIN)/python -m pytest

test-browser: install $(CHROMIUM)
	$(BIN)/python -m pytest tests/browser

screenshot: install $(CHROMIUM)
	LSU_SCREENSHOT=1 $(BIN)/python -m pytest tests/browser -k whole_school

test-unit: install
	$(BIN)/python -m pytest tests/unit

test-integration: install
	$(BIN)/python -m pytest -m "integration or e2e"

# Benchmarks print figures; they are never timed tests.
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
