# Each target sets itself up: a fresh clone needs only python3.11 and make.
VENV := .venv
PY := $(VENV)/bin/python
CORES ?= 2

$(VENV)/installed: pyproject.toml
	python3.11 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: install test reproduce
install: $(VENV)/installed

test: $(VENV)/installed
	$(PY) -m pytest -q

reproduce: $(VENV)/installed
	$(VENV)/bin/snakemake --cores $(CORES)
