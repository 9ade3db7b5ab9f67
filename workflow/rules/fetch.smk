rule fetch_mnist:
    input:
        get_fetch_input(),
    output:
        parquet="data/raw/mnist.parquet",
    params:
        fetch=get_fetch_params(),
        downloads="data/raw/downloads",  # cache of downloaded files (IDX, OpenML)
        code=code("fetch"),
    log:
        "logs/fetch_mnist.log",
    benchmark:
        "logs/benchmarks/fetch_mnist.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/fetch.py"
