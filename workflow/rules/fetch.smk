rule fetch_mnist:
    input:
        get_fetch_input(),
    output:
        # one folder per source and its settings (params.smk: source_key)
        parquet=f"{raw_folder(config)}/mnist.parquet",
    log:
        f"logs/data/{source_key(config)}/fetch_mnist.log",
    benchmark:
        f"logs/benchmarks/data/{source_key(config)}/fetch_mnist.tsv"
    # on the machine that runs Snakemake, also with a cluster profile: compute nodes often have no
    # internet, and the download cache (data/raw/downloads) is then filled once, in one place
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("fetch_mnist"),
        runtime=get_runtime("fetch_mnist"),
    params:
        **code("fetch"),
        fetch=get_fetch_params(),
        inputs=files_digest(get_fetch_input()),  # content, whatever the modification times
        downloads="data/raw/downloads",  # cache of downloaded files (IDX, OpenML)
    script:
        "../../scripts/fetch.py"
