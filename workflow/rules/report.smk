rule report:
    input:
        metrics=rules.evaluate.output.metrics,
        predictions=rules.evaluate.output.predictions,
        history=rules.train.output.history,
        distortions=rules.train.output.distortions,
        split=rules.prepare.output.split,
    output:
        html="results/report.html",
        loss=report(
            "results/figures/loss_curve.png",
            caption="../report/loss_curve.rst",
            category="Training",
        ),
        confusion=report(
            "results/figures/confusion_matrix.png",
            caption="../report/confusion_matrix.rst",
            category="Evaluation",
        ),
        misclassified=report(
            "results/figures/misclassified.png",
            caption="../report/misclassified.rst",
            category="Evaluation",
        ),
        distortions=report(
            "results/figures/distortions.png",
            caption="../report/distortions.rst",
            category="Training",
        ),
    log:
        "logs/report.log",
    benchmark:
        "logs/benchmarks/report.tsv"
    # a few seconds of plotting: on the machine that runs Snakemake, not worth a cluster job
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("report"),
        runtime=get_runtime("report"),
    params:
        **code("report"),
        summary=get_report_summary(),  # for the front page of `snakemake --report` (workflow.rst)
    script:
        "../../scripts/report.py"
