rule fetch_mnist:
    input:
        get_fetch_input(),
    output:
        parquet="data/raw/mnist.parquet",
    params:
        fetch=get_fetch_params(),
        inputs=files_digest(get_fetch_input()),  # content, whatever the modification times
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
