"""The ONNX export: `mnistflow export` and the workflow's `export_onnx` rule write the network as an
ONNX graph that onnxruntime runs to NumPy's probabilities and accuracy; what is no model is refused
in one line, and a failed export leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest

from conftest import ROOT, Workflow
from mnistflow.__main__ import main
from mnistflow.data.split_file import load_split
from mnistflow.own_digits.onnx_file import INPUT, OPSET, OUTPUT
from mnistflow.settings.presets import Hyperparams
from mnistflow.training import network
from mnistflow.training.model_file import load_model, save_model


def _run(path: Path, X: np.ndarray) -> np.ndarray:
    """The probabilities onnxruntime gives for the rows of X: the three lines the docs show."""
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(None, {INPUT: X})
    return np.asarray(probabilities)


@pytest.fixture(scope="module")
def exported(_finished_once: Workflow, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model of the session's finished run, exported by the command (metrics.json beside it)."""
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    assert main(["export", str(_finished_once / "results/model.npz"), str(out)]) == 0
    return out


def test_onnxruntime_gives_numpys_probabilities_and_the_same_accuracy_on_the_test_split(
    exported: Path, _finished_once: Workflow
) -> None:
    params, _ = load_model(_finished_once / "results/model.npz")
    split = load_split(_finished_once.split, ["X_test", "y_test"])
    X, y = split["X_test"], split["y_test"]  # (n, 784) float32, pixels / 255; (n,)
    P = _run(exported, X)  # (n, 10)
    _, expected = network.forward(params, X)
    assert P.shape == expected.shape == (len(y), 10) and P.dtype == np.float32
    np.testing.assert_allclose(P, expected, rtol=0, atol=1e-5)
    accuracy = np.mean(np.argmax(P, axis=1) == y)
    assert accuracy == np.mean(network.predict(params, X) == y)
    metrics = json.loads((_finished_once / "results/metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-12)


def test_the_three_lines_of_the_docs_run_as_written(
    exported: Path, _finished_once: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (ROOT / "docs" / "onnx.md").read_text(encoding="utf-8")
    section = page.split("\n## Run it with onnxruntime\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block and len([line for line in block.group(1).splitlines() if line]) == 3
    (tmp_path / "results").mkdir()
    shutil.copy(exported, tmp_path / "results/model.onnx")
    monkeypatch.chdir(tmp_path)
    X = load_split(_finished_once.split, ["X_test"])["X_test"][:5]
    scope: dict[str, object] = {"X": X}
    exec(compile(block.group(1), "docs/onnx.md", "exec"), scope)
    assert getattr(scope["probabilities"], "shape", None) == (5, 10)


@pytest.mark.parametrize("rows", [1, 3], ids=["one-row", "three-rows"])
def test_any_number_of_rows_goes_through(exported: Path, _finished_once: Workflow, rows: int) -> None:
    X = load_split(_finished_once.split, ["X_test"])["X_test"][:rows]
    P = _run(exported, X)
    assert P.shape == (rows, 10)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-6)


def test_the_graph_states_its_opset_input_output_and_the_model_it_was_made_from(
    exported: Path, _finished_once: Workflow
) -> None:
    model = onnx.load(exported)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET == 17
    assert [node.op_type for node in model.graph.node] == ["MatMul", "Add", "Relu", "MatMul", "Add",
                                                           "Softmax"]
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT}

    def shape(value: onnx.ValueInfoProto) -> list[str | int]:
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    (x,), (p,) = model.graph.input, model.graph.output
    assert (x.name, shape(x), x.type.tensor_type.elem_type) == (INPUT, ["N", 784], onnx.TensorProto.FLOAT)
    assert "each pixel / 255" in x.doc_string and "each pixel / 255" in model.graph.doc_string
    assert (p.name, shape(p)) == (OUTPUT, ["N", 10])
    props = {prop.key: prop.value for prop in model.metadata_props}
    npz = _finished_once / "results/model.npz"
    assert props["sha256"] == hashlib.sha256(npz.read_bytes()).hexdigest()
    assert props["model"] == str(npz)
    assert props["recipe"].startswith("preset exercise with epochs 5: network 784-256-10;")
    assert props["data"].startswith("source sample ")
    assert props["test_accuracy"].endswith("test rows), from " + str(_finished_once / "results/metrics.json"))


def test_a_float64_model_is_exported_in_float32_to_the_same_probabilities(tmp_path: Path) -> None:
    params = network.init_params(784, 32, 10, np.random.default_rng(0), dtype="float64", init="he")
    save_model(tmp_path / "model.npz", params, Hyperparams(hidden=32, dtype="float64"))
    assert main(["export", str(tmp_path / "model.npz"), str(tmp_path / "model.onnx")]) == 0
    X = np.random.default_rng(1).random((50, 784))  # (50, 784) in [0, 1)
    P = _run(tmp_path / "model.onnx", X.astype(np.float32))
    np.testing.assert_allclose(P, network.forward(params, X)[1], rtol=0, atol=1e-5)


def test_the_command_says_what_it_wrote(_finished_once: Workflow, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "model.onnx"
    assert main(["export", str(_finished_once / "results/model.npz"), str(out)]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert captured.err == "" and lines[0].startswith("model: ") and lines[1].startswith("recipe: ")
    assert lines[-1] == (f"wrote {out}: ONNX opset 17; input {INPUT}, N x 784 float32, each pixel / 255; "
                         f"output {OUTPUT}, N x 10")
    assert sorted(p.name for p in out.parent.iterdir()) == ["model.onnx"]


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("results/metrics.json", "not a model file made by train (a JSON text, not an .npz archive)"),
        ("results/predictions.npz", "not a model file made by train (an .npz archive of the arrays "),
        ("results/report.html", "not a model file made by train (a text file, not an .npz archive)"),
        ("results/absent.npz", "file not found"),
    ],
    ids=["metrics-json", "other-npz", "html-page", "missing"],
)
def test_a_file_that_is_no_model_is_refused_in_one_line_and_nothing_is_written(
    _finished_once: Workflow, tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str, problem: str,
) -> None:
    out = tmp_path / "model.onnx"
    assert main(["export", str(_finished_once / given), str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"mnistflow export: error: {_finished_once / given}: {problem}")
    assert captured.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_model_file_is_never_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "model.npz"
    save_model(model, network.init_params(784, 8, 10, np.random.default_rng(0)), Hyperparams(hidden=8))
    before = model.read_bytes()
    assert main(["export", str(model), str(model)]) == 1
    assert capsys.readouterr().err == (f"mnistflow export: error: {model}: this is the model file; name "
                                       "another file for the ONNX graph\n")
    assert model.read_bytes() == before


def test_without_onnx_the_command_says_how_to_install_it(
    _finished_once: Workflow, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError, as if missing
    assert main(["export", str(_finished_once / "results/model.npz"), str(tmp_path / "m.onnx")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mnistflow export: error: the ONNX export needs the onnx package: "
                          "pip install 'mnistflow[onnx]'") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


_EXPORT_ON_A_FULL_DISK = """
import resource, signal, sys
from mnistflow.__main__ import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # the graph is about 800 kB
sys.exit(main(["export", *sys.argv[1:]]))
"""


def test_an_export_that_cannot_be_written_keeps_the_old_file_and_leaves_no_temporary(
    _finished_once: Workflow, tmp_path: Path
) -> None:
    out = tmp_path / "model.onnx"
    out.write_bytes(b"the export before")
    result = subprocess.run(
        [sys.executable, "-c", _EXPORT_ON_A_FULL_DISK, str(_finished_once / "results/model.npz"), str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == (f"mnistflow export: error: {out}: cannot write it: file too large for the "
                             "file system or the file size limit (ulimit -f) (File too large); nothing "
                             "was written\n")
    assert out.read_bytes() == b"the export before"
    assert list(tmp_path.iterdir()) == [out]


# --- the workflow's export_onnx rule ------------------------------------------------------------


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_the_onnx_export_is_no_part_of_the_default_target(finished_workflow: Workflow) -> None:
    assert finished_workflow.planned_jobs() == {}
    assert finished_workflow.planned_jobs("results/model.onnx") == {"export_onnx": 1}


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_the_rule_writes_what_the_command_writes(finished_copy: Workflow,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = finished_copy.snakemake("results/model.onnx").stdout
    assert "ONNX model  results/model.onnx" in out  # the run's closing summary names it
    assert "wrote results/model.onnx (ONNX opset 17)" in (finished_copy / "logs/export_onnx.log").read_text()
    monkeypatch.chdir(finished_copy.path)
    assert main(["export", "results/model.npz", "by-hand.onnx"]) == 0
    made = (finished_copy / "results/model.onnx").read_bytes()
    assert made == (finished_copy / "by-hand.onnx").read_bytes()  # same model, same bytes
    assert finished_copy.planned_jobs("results/model.onnx") == {}

