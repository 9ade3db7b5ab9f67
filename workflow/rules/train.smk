rule train:
    input:
        split=rules.prepare.output.split,
    output:
        model="results/model.npz",
        history="results/training_log.csv",
    params:
        hyperparams=get_hyperparams(),
        code=code("train"),
    threads: 8  # BLAS threads; Snakemake caps this at --cores and sets OMP/OPENBLAS_NUM_THREADS
    log:
        "logs/train.log",
    benchmark:
        "logs/benchmarks/train.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/train.py"
