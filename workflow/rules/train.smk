rule train:
    input:
        split=rules.prepare.output.split,
    output:
        model="results/model.npz",
        history="results/training_log.csv",
    params:
        hyperparams=get_hyperparams(),
        code=code("train"),
    # Snakemake caps this at --cores and sets OMP/OPENBLAS_NUM_THREADS to it; training then runs that
    # many worker threads, each with single-threaded BLAS (mnistflow.train), so parallel jobs
    # never oversubscribe the cores. On a cluster it is the job's CPU count, which nothing caps, so it
    # must fit on any node: 4 (a full MNIST batch is 14-16 blocks of rows, a mini-batch of 256 rows
    # gains little beyond that). The thread count changes the last bits of the weights: a local run
    # on 4 or more cores and a cluster run give the same bytes; pin it with --set-threads train=N.
    threads: 4
    resources:
        mem_mb=get_mem_mb("train"),
        runtime=get_runtime("train"),
    log:
        "logs/train.log",
    benchmark:
        "logs/benchmarks/train.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/train.py"
