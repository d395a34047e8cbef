# `make demo` and `make test` create .venv when it is missing and install into it; the install
# re-runs only when requirements*.txt, constraints.txt or pyproject.toml change (the stamp file).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA ?= datasets/synthvi
DEMO_OUT ?= output/demo

.PHONY: install lint test demo clean

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -r requirements.txt -r requirements-dev.txt -c constraints.txt
	# fastreid 1.4.0 pins torch==1.13.1 (no Python 3.11 build): install it without its pins.
	$(BIN)/pip install --no-deps -c constraints.txt fastreid
	$(BIN)/pip install --no-deps -e .
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The main job on the built-in synthetic data: a SynthVI set in SYSU-MM01 layout (written once), PAENet
# trained and evaluated through tools/train_net.py (the path a user takes with sysu.yml), then pictures.
demo: $(STAMP)
	test -d $(DEMO_DATA)/SYSU-MM01 || $(BIN)/python tools/make_synthvi.py --out $(DEMO_DATA) --format sysu --ids 100 --seed 0
	rm -rf $(DEMO_OUT)
	$(BIN)/python tools/train_net.py --config-file projects/PAENet/configs/synthvi.yml \
		DATASETS.ROOT $(DEMO_DATA) OUTPUT_DIR $(DEMO_OUT) SEED 0
	$(BIN)/python tools/visualize.py --config-file $(DEMO_OUT)/config.yaml --out $(DEMO_OUT)/figures \
		MODEL.WEIGHTS $(DEMO_OUT)/model_final.pth

clean:
	rm -rf $(VENV) output
