rule predict:
    input:
        model=rules.train.output.model,
        images=get_images,
    output:
        csv="results/predictions.csv",
        html="results/predictions.html",
    params:
        folder=config["images"],
        # names and contents of the images: an image added, removed or changed reruns the job
        # whatever its modification time; one merely touched does not
        images=get_images_digest,
        code=code("predict"),
    # a handful of small images: on the machine that runs Snakemake, not worth a cluster job
    localrule: True
    threads: 1
    resources:
        mem_mb=get_mem_mb("predict"),
        runtime=get_runtime("predict"),
    log:
        "logs/predict.log",
    benchmark:
        "logs/benchmarks/predict.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/predict.py"
