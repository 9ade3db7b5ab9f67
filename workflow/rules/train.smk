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
    # Snakemake caps this at --cores and sets OMP/OPENBLAS_NUM_THREADS to it; training then runs that
    # many worker threads, each with single-threaded BLAS (mnistflow.training.engine._workers), so parallel jobs
    # never oversubscribe the cores. On a cluster it is the job's CPU count, which nothing caps (a
    # job asking for more CPUs than a node has stays PENDING for ever), and the thread count changes
    # the last bits of the weights. So 2, the same on every machine: any node and any laptop has
    # them, a local run and a cluster run give the same bytes, and a sweep gains more from running
    # its trainings side by side than from more threads each. More: --set-threads train=N (the same
    # N wherever results are compared).
    threads: 2
    resources:
        mem_mb=get_mem_mb("train"),
        runtime=get_train_runtime(get_hyperparams),
    params:
        **code("train"),
        hyperparams=get_hyperparams,
    script:
        "../../scripts/train.py"
