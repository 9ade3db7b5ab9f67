# The workflow is workflow/Snakefile. Snakemake takes this file first in a clone, and the workflow
# profile beside it, profiles/default; `include:` would drop the included file's default target
# (rule all), so the workflow is included as Snakemake includes a main Snakefile or a module.
workflow.include("workflow/Snakefile", overwrite_default_target=True)
