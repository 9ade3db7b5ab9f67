"""``results/draw.html``: one self-contained page to draw a digit on (mouse, pen or finger) and see
what the network saw and what it answers, with no Python, no server and no network.

The page holds the network's weights (float32, little-endian, base64) and a script
(``draw_page.js``, beside this module, with its style ``draw_page.css``) that runs
:func:`mnistflow.own_digits.images.to_mnist` on the canvas's pixels, step for step, and
:func:`mnistflow.training.network.forward` on the result, in plain JavaScript. The constants of those
steps are written into the page from the Python modules that define them (:func:`constants`), so the
two cannot drift apart. Above the canvas, which model answers
(:class:`~mnistflow.own_digits.model_info.ModelInfo`): its file and sha256, recipe, and the data and
test accuracy when known.

The page's size is about 4/3 x 4 bytes a parameter (the base64 weights) plus 25 kB: 1.1 MB for a
784-256-10 network. docs/draw.md has the steps side by side and the measured sizes and times.
"""

from __future__ import annotations

import base64
import html
import json
import os
from importlib.resources import files
from typing import Any

import numpy as np

from mnistflow.own_digits import _paper, _strokes, images
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.plumbing.files import write_text
from mnistflow.training import network

__all__ = ["CANVAS", "PEN", "constants", "draw_page", "model_json", "write_draw_page"]

CANVAS = 280  # px, the canvas's side (its pixels; the screen shows it at up to 420 CSS px)
PEN = 0.08  # the pen's width as a share of the canvas: a digit drawn across most of it has strokes
# about as thick, for its size, as MNIST's (an eighth of the digit's height)
assert CANVAS <= images.MAX_SIDE  # so to_mnist never reduces the canvas first, and the page need not


def constants() -> dict[str, Any]:
    """The constants of to_mnist's steps, as the page's script reads them, with the pen's width."""
    return {
        "SIDE": images.SIDE, "BOX": images.BOX, "CENTRE": list(images.CENTRE),
        "MIN_CONTRAST": images.MIN_CONTRAST, "INK_LEVEL": images.INK_LEVEL,
        "PAGE_WINDOW": images.PAGE_WINDOW, "DIGIT_WINDOW": images.DIGIT_WINDOW, "MARGIN": images.MARGIN,
        "PAPER_FLOOR": images.PAPER_FLOOR, "CELLS": _paper.CELLS, "INK_CELL": _paper.INK_CELL,
        "GROW": _paper.GROW, "MIN_PAPER": _paper.MIN_PAPER, "THICKEST": _strokes.THICKEST,
        "THINNED": _strokes.THINNED, "UPSCALE": _strokes.UPSCALE, "PEN": PEN,
    }


def model_json(params: network.Params) -> str:
    """The weights as JSON: ``shape`` [D, H, K] and W1 (D, H), b1 (H,), W2 (H, K), b2 (K,), each
    row by row as float32 little-endian bytes in base64 (those of a float64 model rounded)."""
    weights = {name: base64.b64encode(np.asarray(params[name], dtype="<f4").tobytes()).decode()
               for name in ("W1", "b1", "W2", "b2")}
    shape = [params["W1"].shape[0], params["W1"].shape[1], params["W2"].shape[1]]
    return json.dumps({"shape": shape, **weights})


def _model_section(model: ModelInfo) -> str:
    rows = "\n".join(f"<tr><th>{html.escape(what)}</th><td>{html.escape(text)}</td></tr>"
                     for what, text in model.fields())
    unknown = f'\n<p class="unknown">{html.escape(model.unknown)}</p>' if model.unknown else ""
    return f'<table class="model">\n{rows}\n</table>{unknown}'


def _script(text: str) -> str:
    """``text`` safe inside a <script> element: no "</" can end it early."""
    return text.replace("</", "<\\/")


def draw_page(params: network.Params, model: ModelInfo) -> str:
    """The page, as text, for the network ``params`` that ``model`` describes."""
    if params["W1"].shape[0] != images.SIDE * images.SIDE:
        raise ValueError(f"the page draws {images.SIDE}x{images.SIDE} digits; this network takes "
                         f"{params['W1'].shape[0]} inputs")
    here = files("mnistflow.own_digits")
    script = (here / "draw_page.js").read_text(encoding="utf-8")
    style = (here / "draw_page.css").read_text(encoding="utf-8")
    bars = "".join(f'<tr><th>{digit}</th><td><span></span></td><td></td></tr>' for digit in range(10))
    side = images.SIDE
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Draw a digit</title>
<style>
{style}</style></head><body>
<h1>Draw a digit</h1>
<main>
<section class="drawing">
<canvas id="pad" width="{CANVAS}" height="{CANVAS}" aria-label="draw a digit here"></canvas>
<button id="clear" type="button">Clear</button>
</section>
<section class="result">
<div class="head">
<p id="answer" aria-live="polite"></p>
<figure><canvas id="seen" width="{side}" height="{side}"></canvas>
<figcaption>what the network saw</figcaption></figure>
</div>
<table id="bars" aria-label="the probability of each digit">{bars}</table>
</section>
</main>
<p class="how">Draw one digit with the mouse, a pen or a finger. What you draw is made into what the
network was trained on, an MNIST digit (grey, white ink on black, cropped to the ink, scaled to fit
20x20 pixels and centred by its centre of mass in {side}x{side}), as
<code>mnistflow.own_digits.images.to_mnist</code> does, and given to the network, all in this page:
nothing is sent anywhere.</p>
<h2>The model</h2>
{_model_section(model)}
<script type="application/json" id="mnistflow-constants">{json.dumps(constants())}</script>
<script type="application/json" id="mnistflow-model">{model_json(params)}</script>
<script>
{_script(script)}</script>
</body></html>
"""


def write_draw_page(path: str | os.PathLike[str], params: network.Params, model: ModelInfo) -> None:
    """Write :func:`draw_page` to ``path``, whole or not at all."""
    write_text(path, draw_page(params, model))
