rule export_onnx:
    input:
        model=rules.train.output.model,
        # an input, not a param as for predict: the ONNX file always records the data the model was
        # trained on and its test accuracy, whatever was run before it
        metrics=rules.evaluate.output.metrics,
    output:
        onnx="results/model.onnx",
    log:
        "logs/export_onnx.log",
    benchmark:
        "logs/benchmarks/export_onnx.tsv"
    # one small file from another: on the machine that runs Snakemake, not worth a cluster job
    localrule: True
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        mem_mb=get_mem_mb("export_onnx"),
        runtime=get_runtime("export_onnx"),
    params:
        **code("export_onnx"),
    script:
        "../../scripts/export_onnx.py"
