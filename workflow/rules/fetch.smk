rule fetch_mnist:
    output:
        parquet="data/raw/mnist.parquet",
    params:
        source=config["source"],
        code=code("fetch"),
    log:
        "logs/fetch_mnist.log",
    benchmark:
        "logs/benchmarks/fetch_mnist.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/fetch.py"
