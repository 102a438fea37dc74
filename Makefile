# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint docs format bench lab clean install

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: create the venv, install, run three cycles of the demo company in this folder (its own project:
## the demo's parameters are written to params/ on the first run), print where the pack is
demo: $(STAMP)
	$(BIN)/sop demo --root .

## test: lint, then the whole suite (unit, validation, notebooks through papermill, headless Chromium)
test: lint
	$(BIN)/python -m pytest

## test-fast: unit and validation tests only (no kernels, no browser)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not browser"

## lint: ruff, the type checker (mypy over sop_lib), notebooks without outputs, the folders' import order
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/nbstripout --verify notebooks/*.ipynb
	$(BIN)/python tools/architecture.py --check

## docs: regenerate the module table of docs/architecture.md from the real imports
docs: $(STAMP)
	$(BIN)/python tools/architecture.py --write

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cycle.py

## lab: JupyterLab on the notebooks (run `make demo` first so they have a cycle to open)
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) data inputs reports/[0-9]* reports/_* reports/.staging-* reports/index.html
	if [ -f .sop-demo ]; then rm -rf params/*.yaml params/overrides .sop-demo; fi
