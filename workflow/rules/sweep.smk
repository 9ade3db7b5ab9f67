# Sweeps: config/sweeps/<name>.tsv, one column per setting of prepare or train, one row per run.
#   snakemake --cores all results/sweeps/<name>/comparison.html        (or: make sweep-<name>)
# Every run gets the single run's files in its own folder, named by Paramspace after its row
# (results/sweeps/<name>/<key>~<value>/...); runs with equal data settings share one split, in the
# single run's layout (data/processed/<source key>/split~.../split.npz: a run with the single run's
# data settings reads its split), and every run reads the config's source's parquet. The
# rules are the single run's (`use rule ... with:`): only paths, params and sizes differ. A run whose
# training diverges is recorded as failed (sweep_train's record_failure) and the comparison chooses
# among the others. Helpers: rules/sweep_plan.smk.


wildcard_constraints:
    sweep=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    run=r"[a-z_]+~[^/]+(/[a-z_]+~[^/]+)*",
    data=r"[a-z_]+~[^/]+(/[a-z_]+~[^/]+)*",


# A split the single run made (same source, same data settings) is the single run's: prepare makes
# that path, and sweep_prepare any other split of the config's source.
ruleorder: prepare > sweep_prepare


use rule prepare as sweep_prepare with:
    output:
        split=f"data/processed/{source_key(config)}/{{data}}/split.npz",
    log:
        f"logs/data/{source_key(config)}/{{data}}/prepare.log",
    benchmark:
        f"logs/benchmarks/data/{source_key(config)}/{{data}}/prepare.tsv"
    params:
        **code("prepare"),
        **sweep_split_settings(),


use rule train as sweep_train with:
    input:
        split=get_sweep_split,
    output:
        model="results/sweeps/{sweep}/{run}/model.npz",
        history="results/sweeps/{sweep}/{run}/training_log.csv",
        distortions="results/sweeps/{sweep}/{run}/distortions.npz",
    log:
        "logs/sweeps/{sweep}/{run}/train.log",
    benchmark:
        "logs/benchmarks/sweeps/{sweep}/{run}/train.tsv"
    # one thread each: --cores N trains N runs at once, which gains more than threads within a run
    # (a run's weights do not depend on its thread count: --set-threads sweep_train=2 changes only
    # the time, and the chosen run, run again as the single run, gives the same model)
    threads: 1
    # the time limit of the run's own recipe (its row's epochs and hidden units), not the single run's
    resources:
        mem_mb=get_mem_mb("train"),
        runtime=get_train_runtime(get_sweep_hyperparams),
    # record_failure: a training that diverges (TrainingError) is this row's outcome, not a crash:
    # the job succeeds with a model file that holds no weights, only the recipe and the reason, and
    # evaluate, report and compare say "failed: <reason>" for the run (docs/sweeps.md); any other
    # error still fails the job. The single run's train has no such param: it stops on divergence.
    params:
        **code("train"),
        hyperparams=get_sweep_hyperparams,
        record_failure=True,


use rule evaluate as sweep_evaluate with:
    input:
        model=rules.sweep_train.output.model,
        split=get_sweep_split,
        parquet=rules.fetch_mnist.output.parquet,
    output:
        metrics="results/sweeps/{sweep}/{run}/metrics.json",
        predictions="results/sweeps/{sweep}/{run}/predictions.npz",
    log:
        "logs/sweeps/{sweep}/{run}/evaluate.log",
    benchmark:
        "logs/benchmarks/sweeps/{sweep}/{run}/evaluate.tsv"
    params:
        **code("evaluate"),
        config=get_sweep_run_config,
        benchmarks=get_sweep_benchmarks,


use rule report as sweep_report with:
    input:
        metrics=rules.sweep_evaluate.output.metrics,
        predictions=rules.sweep_evaluate.output.predictions,
        history=rules.sweep_train.output.history,
        distortions=rules.sweep_train.output.distortions,
        split=get_sweep_split,
    output:
        html="results/sweeps/{sweep}/{run}/report.html",
        loss=report(
            "results/sweeps/{sweep}/{run}/figures/loss_curve.png",
            caption="../report/sweep_run.rst",
            category="Sweep {sweep}",
            subcategory="Runs",
            labels=get_sweep_run_labels,
        ),
        confusion="results/sweeps/{sweep}/{run}/figures/confusion_matrix.png",
        misclassified="results/sweeps/{sweep}/{run}/figures/misclassified.png",
        distortions="results/sweeps/{sweep}/{run}/figures/distortions.png",
    log:
        "logs/sweeps/{sweep}/{run}/report.log",
    benchmark:
        "logs/benchmarks/sweeps/{sweep}/{run}/report.tsv"
    # said again: `use rule ... with:` does not keep it (snakemake/snakemake#2892)
    localrule: True
    # `with:` replaces the params it names and keeps the others: summary describes the single run
    # on the front page of `snakemake --report`, so a sweep's run has none
    params:
        **code("report"),
        summary=None,


rule sweep_compare:
    input:
        metrics=for_each_run(rules.sweep_evaluate.output.metrics),
        history=for_each_run(rules.sweep_train.output.history),
        bench_train=for_each_run(rules.sweep_train.benchmark),
        reports=for_each_run(rules.sweep_report.output.html),
    output:
        csv="results/sweeps/{sweep}/comparison.csv",
        html=report(
            "results/sweeps/{sweep}/comparison.html",
            caption="../report/sweep_comparison.rst",
            category="Sweep {sweep}",
            subcategory="Comparison",
            labels={"page": "comparison"},
        ),
        best="results/sweeps/{sweep}/best.yaml",
    log:
        "logs/sweeps/{sweep}/compare.log",
    benchmark:
        "logs/benchmarks/sweeps/{sweep}/compare.tsv"
    # reads the runs' small files and draws a page: on the machine that runs Snakemake
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("report"),
        runtime=get_runtime("report"),
    params:
        **code("compare"),
        sweep=get_sweep_description,
    script:
        "../../scripts/compare.py"
