# `make demo` and `make test` create .venv when it is missing and install into it; the install
# re-runs only when requirements*.txt, constraints.txt or pyproject.toml change (the stamp file).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA ?= datasets
DEMO_OUT ?= output/demo

.PHONY: install test demo clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -r requirements.txt -r requirements-dev.txt -c constraints.txt
	# fastreid 1.4.0 pins torch==1.13.1 (no Python 3.11 build): install it without its pins.
	$(BIN)/pip install --no-deps -c constraints.txt fastreid
	$(BIN)/pip install --no-deps -e .
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python tools/demo.py --data $(DEMO_DATA) --out $(DEMO_OUT)

clean:
	rm -rf $(VENV) output
