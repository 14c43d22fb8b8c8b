# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# `make run` builds the demo here (never ./workspace, the other commands' default).
DEMO_WORKSPACE ?= demo-workspace

.PHONY: run test bench clean browser

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

# The dashboard's address (`make run PORT=8080` for another port).
PORT ?= 8000

# Build the illustrative demo workspace, run every capability on it, then serve the dashboard and
# the API over it until Ctrl+C. A directory that is not a demo workspace is never replaced:
# `kinhteso demo` refuses it (exit 1).
run: $(VENV)/.installed
	$(VENV)/bin/kinhteso demo --workspace $(DEMO_WORKSPACE)
	@echo ""
	@echo "Xem kết quả / look here: $(abspath $(DEMO_WORKSPACE))  (demo_inputs/, published_inputs/, kinhteso.duckdb);"
	@echo "  then run the commands above, e.g. $(VENV)/bin/kinhteso vintages --workspace $(DEMO_WORKSPACE)"
	@echo ""
	$(VENV)/bin/kinhteso serve --workspace $(DEMO_WORKSPACE) --port $(PORT)

# Debian's Chromium for the dashboard's browser tests (nothing to do when it is there).
browser:
	bash scripts/install_browser.sh

# The whole test suite. pytest exits 5 when nothing was collected: that fails here too.
test: $(VENV)/.installed browser
	$(VENV)/bin/python -m pytest -q

bench: $(VENV)/.installed
	for b in benchmarks/*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) build src/*.egg-info
