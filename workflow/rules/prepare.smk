rule prepare:
    input:
        parquet=rules.fetch_mnist.output.parquet,
    output:
        # one folder per source and split settings (params.smk: split_folder), shared with sweeps
        split=f"{processed_folder(config)}/split.npz",
    log:
        f"logs/data/{source_key(config)}/{split_folder(config)}/prepare.log",
    benchmark:
        f"logs/benchmarks/data/{source_key(config)}/{split_folder(config)}/prepare.tsv"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("prepare"),
        runtime=get_runtime("prepare"),
    params:
        **code("prepare"),
        **split_settings(config),
    script:
        "../../scripts/prepare.py"
