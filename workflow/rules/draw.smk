rule draw_page:
    input:
        model=rules.train.output.model,
        # an input, not a param as for predict: the page always names the data the model was trained
        # on and its test accuracy, as the ONNX file does (evaluate runs in the default target anyway)
        metrics=rules.evaluate.output.metrics,
    output:
        html="results/draw.html",
    log:
        "logs/draw_page.log",
    benchmark:
        "logs/benchmarks/draw_page.tsv"
    # one small file from another: on the machine that runs Snakemake, not worth a cluster job
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("draw_page"),
        runtime=get_runtime("draw_page"),
    params:
        **code("draw_page"),
        # the page's script and style are package data, not modules: their digest reruns the job
        # when they change
        assets=get_draw_page_assets_digest(),
    script:
        "../../scripts/draw_page.py"
