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
    # never oversubscribe the cores
    threads: 8
    log:
        "logs/train.log",
    benchmark:
        "logs/benchmarks/train.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/train.py"
