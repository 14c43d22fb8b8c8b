# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# `make run` builds the demo here (never ./workspace, the other commands' default).
DEMO_WORKSPACE ?= demo-workspace

.PHONY: run test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# Build the illustrative demo workspace and run every capability on it. A directory that is not a
# demo workspace is never replaced: `kinhteso demo` refuses it (exit 1).
run: $(VENV)/.installed
	$(VENV)/bin/kinhteso demo --workspace $(DEMO_WORKSPACE)
	@echo ""
	@echo "Xem kết quả / look here: $(abspath $(DEMO_WORKSPACE))  (demo_inputs/, published_inputs/, kinhteso.duckdb);"
	@echo "  then run the commands above, e.g. $(VENV)/bin/kinhteso vintages --workspace $(DEMO_WORKSPACE)"

# The whole test suite. pytest exits 5 when nothing was collected: that fails here too.
test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q

bench: $(VENV)/.installed
	for b in benchmarks/*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) build src/*.egg-info
