# Two commands do everything: `make run` (set up, then run the workflow) and `make test`.
# Setup is a virtual environment in .venv with this package installed in editable mode; it is
# redone only when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: setup run test test-all test-cluster lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup  ## set up, then run the whole workflow (results/metrics.json, results/report.html)
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

test: setup  ## set up, then run the test suite (without the cluster tests)
	$(BIN)/python -m pytest

# A single-node SLURM cluster in a temporary folder (tests/cluster/slurm.sh; root: it installs
# slurm-wlm and munge with apt-get when missing), the tests marked `cluster` against it, and the
# cluster stopped (exactly the daemons the script started) and its folder removed, pass or fail.
test-cluster: setup  ## bring up a SLURM cluster on this machine, run the cluster tests, stop it
	@dir=$$(mktemp -d /tmp/mnistflow-slurm.XXXXXX) || exit 1; \
	trap 'tests/cluster/slurm.sh stop "$$dir"; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM; \
	tests/cluster/slurm.sh start "$$dir" && \
	MNISTFLOW_SLURM_DIR="$$dir" $(BIN)/python -m pytest -m cluster

lint: setup  ## workflow lint, ruff and mypy
	$(BIN)/snakemake --lint
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/mypy

bench: setup  ## benchmarks on full MNIST: make bench IDX_DIR=<directory holding the four IDX files>
	@test -n "$(IDX_DIR)" || { echo "usage: make bench IDX_DIR=<directory holding the four IDX files>"; exit 2; }
	$(BIN)/python benchmarks/bench_data.py $(IDX_DIR)
	$(BIN)/python benchmarks/bench_train.py $(IDX_DIR)

clean:  ## remove everything the workflow produced (keeps .venv)
	rm -rf data/raw/*.parquet data/processed/*.npz results/*.* results/figures logs .snakemake
