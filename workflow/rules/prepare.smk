rule prepare:
    input:
        parquet=rules.fetch_mnist.output.parquet,
    output:
        split="data/processed/split.npz",
    log:
        "logs/prepare.log",
    benchmark:
        "logs/benchmarks/prepare.tsv"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("prepare"),
        runtime=get_runtime("prepare"),
    params:
        **code("prepare"),
        split=config["split"],
        test_size=config["test_size"],
        random_state=config["random_state"],
        stratify=config["stratify"],
        dtype=config["dtype"],
    script:
        "../../scripts/prepare.py"
