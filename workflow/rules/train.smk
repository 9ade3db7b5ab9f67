rule train:
    input:
        split=rules.prepare.output.split,
    output:
        model="results/model.npz",
        history="results/training_log.csv",
        # a few training digits and distortions of them, for the report
        distortions="results/distortions.npz",
    log:
        "logs/train.log",
    benchmark:
        "logs/benchmarks/train.tsv"
    conda:
        "../../environment.yml"
    # As many as the recipe can use: one per block of a batch (mnistflow.training.blocks): 2 for
    # mini-batches of 64 to 8,192 rows and the sample's full batch, 8 for full MNIST's. Snakemake caps this at --cores and sets
    # OPENBLAS_NUM_THREADS to it; training runs that many worker threads, each with single-threaded
    # BLAS (mnistflow.training.engine._workers). On a cluster it is the job's CPU count. The weights
    # are the same bytes at any thread count, so --set-threads train=N changes only the time.
    threads: get_train_threads(get_hyperparams)
    resources:
        mem_mb=get_mem_mb("train"),
        runtime=get_train_runtime(get_hyperparams),
    params:
        **code("train"),
        hyperparams=get_hyperparams,
        portable_numerics=config["portable_numerics"],
    script:
        "../../scripts/train.py"
