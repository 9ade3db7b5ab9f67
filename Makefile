# Two commands do everything: `make run` (set up, then run the workflow) and `make test` (the fast
# tests; `make test-all` adds the slow end-to-end ones, as CI does).
# Setup is a virtual environment in .venv with this package installed in editable mode; it is
# redone only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: setup run test test-slow test-all test-cluster test-browser lint docs bench bench-sweep clean

setup: $(VENV)/.installed

# Snakemake runs each job's script as `<python> <script>` without quoting the interpreter's path, so
# an environment at a path with a space (a checkout in "My Projects") could run no job: stop here.
$(VENV)/.installed: pyproject.toml
	@case "$(abspath $(VENV))" in *[[:space:]]*) echo "make: the environment would be at" \
	  "'$(abspath $(VENV))', a path with a space, and Snakemake cannot run scripts from there;" \
	  "put it at a path without one: make $(or $(MAKECMDGOALS),setup) VENV=\$$HOME/venvs/mnistflow" >&2; \
	  exit 2;; esac
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup  ## set up, then run the whole workflow (results/metrics.json, results/report.html)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

# The fast tests run on TEST_WORKERS processes (pytest-xdist): most of their time is Snakemake runs
# and dry runs in copies of the workflow, which share one finished run per process.
TEST_WORKERS ?= 2
test: setup  ## set up, then run the fast tests (under 2 minutes on 2 cores; they share finished runs)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS)

test-slow: setup  ## the slower end-to-end tests: interruptions, kills, second runs from scratch
	$(BIN)/python -m pytest -m slow

test-all: test test-slow  ## every test

# A single-node SLURM cluster in a temporary folder (tests/cluster/slurm.sh; root: it installs
# slurm-wlm and munge with apt-get when missing), the tests marked `cluster` against it, and the
# cluster stopped (exactly the daemons the script started) and its folder removed, pass or fail.
test-cluster: setup  ## bring up a SLURM cluster on this machine, run the cluster tests, stop it
	@dir=$$(mktemp -d /tmp/mnistflow-slurm.XXXXXX) || exit 1; \
	trap 'tests/cluster/slurm.sh stop "$$dir"; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	tests/cluster/slurm.sh start "$$dir" && \
	MNISTFLOW_SLURM_DIR="$$dir" $(BIN)/python -m pytest -m cluster

# The tests marked `browser` (tests/test_draw_browser.py: results/draw.html in headless Chromium, driven
# by Selenium, which the dev extra installs), after installing Debian's chromium and chromium-driver
# with apt-get when either is missing (root only; otherwise the tests skip, saying what is missing).
# BROWSER_SCREENSHOTS: the folder for the screenshots at desktop and phone sizes.
BROWSER_SCREENSHOTS ?= /tmp/mnistflow-screenshots
test-browser: setup  ## results/draw.html in headless Chromium (installs chromium, chromium-driver as root)
	@if ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "make: chromium or chromedriver is missing: apt-get install chromium chromium-driver" \
	      "(as root), then make test-browser again" >&2; exit 1; fi; \
	  echo "make: installing chromium and chromium-driver with apt-get" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
	    || exit 1; \
	fi
	MNISTFLOW_SCREENSHOTS=$(BROWSER_SCREENSHOTS) $(BIN)/python -m pytest -m browser

lint: setup  ## workflow lint, snakefmt, ruff and mypy
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/mypy

# The settings reference and the default config are generated from workflow/schemas/config.schema.yaml
# and the presets (tests/test_settings.py fails when a copy is stale; config/config.yaml, which holds
# your own settings, is remade only by hand: python -m mnistflow.settings config > config/config.yaml);
# then the docs site is built,
# failing on any broken link or anchor.
docs: setup  ## regenerate the settings pages, then build the docs site into site/ (mkdocs --strict)
	$(BIN)/python -m mnistflow.settings reference > config/README.md
	$(BIN)/python -m mnistflow.settings docs > docs/settings.md
	$(BIN)/mkdocs build --strict --site-dir site

# A sweep by its name: `make sweep-learning_rate` runs config/sweeps/learning_rate.tsv and writes
# results/sweeps/learning_rate/comparison.html (docs/sweeps.md).
sweep-%: setup
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS) results/sweeps/$*/comparison.html

bench: setup  ## benchmarks on full MNIST: make bench IDX_DIR=<directory holding the four IDX files>
	@test -n "$(IDX_DIR)" || { echo "usage: make bench IDX_DIR=<directory holding the four IDX files>"; exit 2; }
	$(BIN)/python benchmarks/bench_data.py $(IDX_DIR)
	$(BIN)/python benchmarks/bench_train.py $(IDX_DIR)
	$(BIN)/python benchmarks/bench_presets.py $(IDX_DIR)

bench-sweep: setup  ## a sweep's runs two at a time against one after another, on the sample
	$(BIN)/python benchmarks/bench_sweep.py

clean:  ## remove all the workflow made, the data of every setting too (keeps .venv, data/raw/downloads)
	rm -rf $(filter-out data/raw/downloads,$(wildcard data/raw/*)) $(wildcard data/processed/*) \
	  results/*.* results/figures results/sweeps logs .snakemake
