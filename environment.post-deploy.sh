#!/usr/bin/env bash
# Installs this project (the mnistflow package) into the active conda environment, made from
# environment.yml: the last step of a complete environment.
#
# Snakemake runs this script by itself (--software-deployment-method conda) right after it has made
# the environment, finding it beside environment.yml by its name; it runs a copy, in
# .snakemake/conda/, so the clone to install comes from MNISTFLOW_PROJECT, which
# workflow/rules/common.smk sets to the workflow's folder. Run by hand, in an activated environment,
# it installs the clone it sits in: `bash environment.post-deploy.sh`.
#
# Editable, so the environment runs the clone's current code: a changed module reaches the jobs at
# once, as the code digests (mnistflow.plumbing.code_digest) rerun the stages that use it. No dependencies
# and no build environment from PyPI: environment.yml brings them all from conda-forge.
set -euo pipefail
project="${MNISTFLOW_PROJECT:-$(cd "$(dirname "$0")" && pwd)}"
if ! grep -qs '^name = "mnistflow"$' "$project/pyproject.toml"; then
    echo "environment.post-deploy.sh: $project is not a clone of mnistflow (no pyproject.toml of" \
         "it there); set MNISTFLOW_PROJECT to the clone's folder" >&2
    exit 1
fi
python -m pip install --no-deps --no-build-isolation --editable "$project"
