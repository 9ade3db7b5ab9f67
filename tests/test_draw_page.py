"""results/draw.html without a browser: what the page holds (the weights, the constants, the model it
names), `mnistflow draw`, and the draw_page rule. The page in a real browser: test_draw_browser.py."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, Workflow
from mnistflow.__main__ import main
from mnistflow.own_digits.draw_page import constants, draw_page, write_draw_page
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.training import network
from mnistflow.training.model_file import load_model

INFO = ModelInfo("results/model.npz", "ab" * 32, "network 784-16-10", unknown="no results/metrics.json; "
                 "this model's test accuracy is unknown")


@pytest.fixture
def small_params() -> network.Params:
    rng = np.random.default_rng(0)
    return {"W1": rng.normal(size=(784, 16)).astype(np.float32), "b1": rng.normal(size=16).astype(np.float32),
            "W2": rng.normal(size=(16, 10)).astype(np.float32), "b2": rng.normal(size=10).astype(np.float32)}


def _script_json(page: str, element_id: str) -> dict[str, object]:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    assert match, element_id
    found: dict[str, object] = json.loads(match.group(1))
    return found


def test_the_page_holds_the_weights_as_float32_little_endian_base64(small_params: network.Params) -> None:
    model = _script_json(draw_page(small_params, INFO), "mnistflow-model")
    assert model["shape"] == [784, 16, 10]
    for name, array in small_params.items():
        text = model[name]
        assert isinstance(text, str)
        decoded = np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(array.shape)
        np.testing.assert_array_equal(decoded, array)


def test_the_page_takes_its_constants_from_the_preprocessing_modules(small_params: network.Params) -> None:
    from mnistflow.own_digits import images

    found = _script_json(draw_page(small_params, INFO), "mnistflow-constants")
    assert found == json.loads(json.dumps(constants()))
    assert found["MIN_CONTRAST"] == images.MIN_CONTRAST and found["CENTRE"] == list(images.CENTRE)


def test_the_page_names_the_model_and_needs_nothing_from_the_network(small_params: network.Params) -> None:
    page = draw_page(small_params, INFO)
    assert "ab" * 32 in page and "network 784-16-10" in page
    assert "this model&#x27;s test accuracy is unknown" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no file from elsewhere
    assert "fetch(" not in page and "XMLHttpRequest" not in page
    # the only "</script" are the ends of the three script elements
    assert page.count("</script") == 3


def test_a_network_for_other_inputs_than_28x28_is_refused(small_params: network.Params) -> None:
    params = {**small_params, "W1": small_params["W1"][:100]}
    with pytest.raises(ValueError, match="this network takes 100 inputs"):
        draw_page(params, INFO)


def test_draw_writes_the_page_and_says_which_model_it_holds(
    finished_workflow: Workflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = finished_workflow / "results/model.npz"
    out = tmp_path / "draw.html"
    assert main(["draw", str(model), str(out)]) == 0
    printed = capsys.readouterr().out
    assert "test accuracy: " in printed and f"wrote {out}: 1.1 MB" in printed
    # the workflow's page, made from the same model and metrics.json, holds the same weights
    params, _ = load_model(model)
    written = _script_json(out.read_text(), "mnistflow-model")
    assert written == _script_json((finished_workflow / "results/draw.html").read_text(), "mnistflow-model")
    assert "test accuracy" in (finished_workflow / "results/draw.html").read_text()
    assert written["shape"] == [784, params["W1"].shape[1], 10]


def test_draw_refuses_to_overwrite_the_model_and_what_is_no_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], small_params: network.Params
) -> None:
    page = tmp_path / "draw.html"
    write_draw_page(page, small_params, INFO)
    assert main(["draw", str(page), str(tmp_path / "other.html")]) == 1
    assert "not a model file made by train" in capsys.readouterr().err
    assert main(["draw", str(page), str(page)]) == 1
    assert "this is the model file" in capsys.readouterr().err
    assert not (tmp_path / "other.html").exists()


@pytest.mark.slow  # end to end; `make test-slow` runs it
def test_editing_the_pages_script_remakes_the_page_and_nothing_else(
    finished_workflow: Workflow, tmp_path: Path
) -> None:
    src = tmp_path / "src"  # a copy of the package first on PYTHONPATH: the checkout is left alone
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {"PYTHONPATH": str(src)}
    assert finished_workflow.planned_jobs(env=env) == {}
    script = src / "mnistflow" / "own_digits" / "draw_page.js"
    script.write_text(script.read_text() + "// an edit\n")
    assert finished_workflow.planned_jobs(env=env) == {"draw_page": 1}
