# What every other file stands on: where the workflow's own files are, the mnistflow package, and the
# config, checked against the schema. The helpers of the rules are in params.smk, sweep_plan.smk,
# resources.smk and signals.smk; no rule file defines a function.
import importlib.util
import os
import re
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The workflow's own files (schema, scripts, environment.yml) are found from this file's folder, never
# from the working directory, which is the user's: data/, results/, logs/ and config/ (config.yaml,
# sweeps/) are read and written there. So the workflow runs the same in its clone and as a module
# from a folder of your own (`module ...: snakefile: "<clone>/workflow/Snakefile"`).
# workflow/, and the clone around it: scripts/, src/, environment.yml, pyproject.toml
WORKFLOW_DIR = Path(str(workflow.current_basedir)).parent
PROJECT = WORKFLOW_DIR.parent
SCRIPTS = PROJECT / "scripts"
SCHEMA_PATH = WORKFLOW_DIR / "schemas" / "config.schema.yaml"
if not SCHEMA_PATH.is_file():
    raise WorkflowError(
        f"the mnistflow workflow runs from a clone on this machine, not from {workflow.current_basedir}: "
        f"its stage scripts import scripts/_workflow.py from their own folder, and their code digests "
        f"read the scripts. Clone the repository and point the module's `snakefile:` at "
        f"<clone>/workflow/Snakefile"
    )

# The stage scripts import the mnistflow package (src/), installed into the environment the jobs run
# in: by `make setup` (pip install -e .), or with --software-deployment-method conda by
# environment.post-deploy.sh when Snakemake makes the environment of environment.yml. That script
# runs from a copy in .snakemake/conda/, in this process's environment: MNISTFLOW_PROJECT tells it
# which clone to install. Parsing the workflow needs only the package's pure-Python helpers (the
# standard library, PyYAML and jsonschema, which come with Snakemake; no NumPy), so a Snakemake
# without the package (e.g. with --software-deployment-method conda) takes them from the clone.
os.environ.update(MNISTFLOW_PROJECT=str(PROJECT))
if importlib.util.find_spec("mnistflow") is None:
    sys.path.insert(0, str(PROJECT / "src"))
from mnistflow.plumbing.code_digest import module_digests
from mnistflow.plumbing.numerics import PORTABLE
from mnistflow.settings.schema import config_error, load_schema, numbers_as_written

# The config is checked against workflow/schemas/config.schema.yaml (jsonschema, as Snakemake's
# `validate` does), with one line per bad setting, naming the key and what it allows, before any job
# runs; the config files themselves are read again for keys set twice, which loading them hides.
# A key left out takes the schema's `default`. Snakemake's own `validate` is not called as well: it
# would check nothing more, print jsonschema's multi-line report, and import pandas to ask whether
# the config is a data frame, 0.5-1 s of every run, a no-op included.
# A number YAML 1.1 leaves a string (`learning_rate: 1e-3` in a config file) is read as --config
# reads it.
SCHEMA = load_schema(SCHEMA_PATH)
config.update(numbers_as_written(config, SCHEMA))
if error := config_error(config, SCHEMA_PATH, workflow.configfiles):
    raise error
for key, spec in SCHEMA["properties"].items():
    config.setdefault(key, spec["default"])

# portable_numerics: the BLAS kernel and NumPy's SIMD are chosen when the libraries load, so they are
# set in the environment every job inherits (mnistflow.plumbing.numerics); each job then checks that
# they took (a param of train, evaluate and predict, so a change reruns them).
if config["portable_numerics"]:
    os.environ.update(PORTABLE)

# Snakemake starts every `script:` job as `<python> <script>` in bash without quoting the interpreter
# (snakemake/script/__init__.py, 9.27), so a space in its path breaks each job: stop before the first.
if shlex.quote(sys.executable) != sys.executable:
    raise WorkflowError(
        f"the Python running Snakemake is at a path with a space or another character the shell "
        f"would need quoted ({sys.executable}): Snakemake runs each job's script with that path unquoted, "
        f"so every job would fail. Use a Python environment at a path without one, e.g. "
        f"`make run VENV=$HOME/venvs/mnistflow` (the workflow folder itself may have spaces)"
    )


def code(stage):
    """The code of a stage as params, one per file: its script and each package module it imports
    (``code_mnistflow_training_network="mnistflow.training.network 1a2b..."``), so that editing the
    code reruns the stage while touching it does not (see profiles/default/config.yaml), and a dry
    run's reason names the module that changed ("Params have changed ... before: 'mnistflow.training.
    network 1a2b...' now: 'mnistflow.training.network 3c4d...'"). A rule takes them as
    ``params: **code("<stage>")``."""
    digests = module_digests(SCRIPTS / f"{stage}.py")
    shown = {"script": f"scripts/{stage}.py"}
    params = {}
    for module, digest in digests.items():
        name = re.sub(r"\W", "_", module)
        params[f"code_{name}"] = f"{shown.get(module, module)} {digest}"
    return params
