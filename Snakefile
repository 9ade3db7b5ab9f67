# MNIST -> parquet -> npz -> two-layer NumPy network -> metrics.json + report.html
#
#   fetch_mnist  data/raw/mnist.parquet            workflow/rules/fetch.smk
#   prepare      data/processed/split.npz          workflow/rules/prepare.smk
#   train        results/model.npz, training_log   workflow/rules/train.smk
#   evaluate     results/metrics.json              workflow/rules/evaluate.smk
#   report       results/report.html               workflow/rules/report.smk
#   predict      results/predictions.csv, .html    workflow/rules/predict.smk (your own images)
#   sweep_*      results/sweeps/<name>/...         workflow/rules/sweep.smk (only when asked for)
#
# Run: snakemake --cores all      Settings: config/config.yaml      Rerun rules: profiles/default
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/predict.smk"
include: "workflow/rules/sweep.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
