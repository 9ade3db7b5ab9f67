rule predict:
    input:
        model=rules.train.output.model,
        images=get_images,
    output:
        csv="results/predictions.csv",
        html="results/predictions.html",
    log:
        "logs/predict.log",
    benchmark:
        "logs/benchmarks/predict.tsv"
    # a handful of small images: on the machine that runs Snakemake, not worth a cluster job
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("predict"),
        runtime=get_runtime("predict"),
    params:
        **code("predict"),
        folder=config["images"],
        portable_numerics=config["portable_numerics"],
        # read if it exists, for the model's data and test accuracy when it describes this model:
        # a param, not an input, so predicting never needs evaluating (nor reruns after it)
        metrics=rules.evaluate.output.metrics,
        # names and contents of the images: an image added, removed or changed reruns the job
        # whatever its modification time; one merely touched does not
        images=get_images_digest,
    script:
        "../../scripts/predict.py"
