"""The model as an ONNX graph, ``results/model.onnx``: the trained network for any ONNX runtime
(onnxruntime in Python, C++, C#, Java or a browser), without NumPy or this package.

The graph is :func:`mnistflow.training.network.forward` at inference, node for node::

    pixels_div_255                  (N, D) float32   each pixel / 255, in [0, 1], as in split.npz
    Z1 = MatMul(pixels_div_255, W1) + b1   (N, H)
    A1 = Relu(Z1)                          (N, H)
    Z2 = MatMul(A1, W2) + b2               (N, 10)
    probabilities = Softmax(Z2, axis=-1)   (N, 10)   rows sum to 1

The input is scaled as in training: prepare divides the uint8 pixels by 255
(:func:`mnistflow.data.prepare.normalise`) and the model file stores no other normalisation, so the
graph takes exactly what the network's forward pass takes. Dropout is inverted dropout, scaled while
training, so at inference it is nothing; augmentation and distortions touch only training inputs.
N, the batch, is free. The weights are float32 (those of a float64 model are rounded to float32).

Opset :data:`OPSET` (ONNX 1.12, IR version :data:`IR_VERSION`), which every onnxruntime since 1.12
runs. ``metadata_props`` name the model it was made from (file, sha256, recipe) and, when a
metrics.json belongs to that model, the data it was trained on and its test accuracy
(:mod:`~mnistflow.own_digits.model_info`). The file is written whole or not at all.

onnx is an optional dependency (``pip install 'mnistflow[onnx]'``), imported only to export.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from mnistflow import __version__
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.plumbing.errors import MnistflowError
from mnistflow.plumbing.files import atomic_path
from mnistflow.training import network

if TYPE_CHECKING:
    import onnx

__all__ = ["INPUT", "IR_VERSION", "OPSET", "OUTPUT", "metadata", "onnx_model", "write_onnx"]

OPSET = 17  # the ONNX operator set (ONNX 1.12, 2022): onnxruntime 1.12 and later run it
IR_VERSION = 8  # the file format of ONNX 1.12, so that runtimes of that age read the file
INPUT = "pixels_div_255"  # (N, D) float32: each pixel / 255, in [0, 1]
OUTPUT = "probabilities"  # (N, 10) float32: softmax, rows sum to 1
SCALING = "each pixel / 255, in [0, 1] (28x28 rows flattened row by row), as the network was trained"
MISSING = "the ONNX export needs the onnx package: pip install 'mnistflow[onnx]'"


def metadata(info: ModelInfo) -> dict[str, str]:
    """The ``metadata_props`` of the graph: the model it was made from and, if known, its data and
    test accuracy (keys ``model``, ``sha256``, ``recipe``, ``data``, ``test_accuracy``)."""
    known = {"data": info.data, "test_accuracy": info.accuracy}
    return {"model": info.model, "sha256": info.sha256, "recipe": info.recipe,
            **{key: text for key, text in known.items() if text is not None}}


def onnx_model(params: network.Params, info: ModelInfo) -> onnx.ModelProto:
    """The network of ``params`` (read from the model ``info`` describes) as a checked ONNX model."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise MnistflowError(f"{MISSING} ({exc})") from None

    n_in, n_out = params["W1"].shape[0], params["W2"].shape[1]
    weights = [numpy_helper.from_array(np.asarray(params[name], dtype=np.float32), name)
               for name in ("W1", "b1", "W2", "b2")]  # (D, H), (H,), (H, K), (K,)
    nodes = [
        helper.make_node("MatMul", [INPUT, "W1"], ["XW1"]),  # (N, H)
        helper.make_node("Add", ["XW1", "b1"], ["Z1"]),  # (N, H) = X W1 + b1
        helper.make_node("Relu", ["Z1"], ["A1"]),  # (N, H)
        helper.make_node("MatMul", ["A1", "W2"], ["A1W2"]),  # (N, K)
        helper.make_node("Add", ["A1W2", "b2"], ["Z2"]),  # (N, K) = A1 W2 + b2
        helper.make_node("Softmax", ["Z2"], [OUTPUT], axis=-1),  # (N, K), rows sum to 1
    ]
    graph = helper.make_graph(
        nodes, "mnistflow",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", n_in], doc_string=SCALING)],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", n_out],
                                       doc_string="the probability of each class, 0-9; rows sum to 1")],
        weights,
        doc_string=f"{n_in}-{params['W1'].shape[1]}-{n_out} network (ReLU hidden layer, softmax "
                   f"output) trained by mnistflow. Input {INPUT}: {SCALING}.",
    )
    model = helper.make_model(
        graph, ir_version=IR_VERSION, opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="mnistflow", producer_version=__version__,
        doc_string=f"{info.recipe}. Input {INPUT}: {SCALING}; output {OUTPUT}.",
    )
    helper.set_model_props(model, metadata(info))
    onnx.checker.check_model(model, full_check=True)  # a graph any runtime accepts, shapes inferred
    return model


def write_onnx(path: str | os.PathLike[str], params: network.Params, info: ModelInfo) -> None:
    """Write :func:`onnx_model` to ``path``, whole or not at all."""
    data = onnx_model(params, info).SerializeToString()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
