rule evaluate:
    input:
        model=rules.train.output.model,
        split=rules.prepare.output.split,
        parquet=rules.fetch_mnist.output.parquet,
        # no file: stops the run if metrics.json's Snakemake record is gone and its settings differ
        records=check_records,
    output:
        metrics="results/metrics.json",
        predictions="results/predictions.npz",
    log:
        "logs/evaluate.log",
    benchmark:
        "logs/benchmarks/evaluate.tsv"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("evaluate"),
        runtime=get_runtime("evaluate"),
    params:
        **code("evaluate"),
        config=get_recorded_config(),
        made_by=get_code_of_stages(),  # recorded in metrics.json
        benchmarks=get_benchmarks(),
        portable_numerics=config["portable_numerics"],
    script:
        "../../scripts/evaluate.py"
