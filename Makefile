# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
WORKSPACE ?= workspace

.PHONY: run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# Build the illustrative demo workspace and run every capability on it.
run: $(VENV)/.installed
	$(VENV)/bin/kinhteso demo --workspace $(WORKSPACE)

# The whole test suite. pytest exits 5 when nothing was collected: that fails here too.
test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q

bench: $(VENV)/.installed
	for b in benchmarks/*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(WORKSPACE) build src/*.egg-info
