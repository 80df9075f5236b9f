# Two entry points for a fresh clone: `make demo` and `make test` (see README).
# Everything is installed into .venv; torch 2.13.0 first, so pip never pulls CUDA builds.
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared
export SYNTHMARKS_SHARED := $(abspath $(SHARED))

.PHONY: setup demo test lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(VENV)/bin/synthmarks eval --model mean-shape --data $(SHARED)/data/aflw2000-3d-dev --out runs/demo

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs
