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
    # on the machine that runs Snakemake, also with a cluster profile: compute nodes often have no
    # internet, and the download cache (data/raw/downloads) is then filled once, in one place
    localrule: True
    threads: 1
    resources:
        mem_mb=get_mem_mb("fetch_mnist"),
        runtime=get_runtime("fetch_mnist"),
    log:
        "logs/fetch_mnist.log",
    benchmark:
        "logs/benchmarks/fetch_mnist.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/fetch.py"
