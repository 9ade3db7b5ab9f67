"""``results/predictions.html``: one self-contained page showing, for each image, what the network
saw and what it answered.

Above the cards, which model answered (:class:`~mnistflow.own_digits.model_info.ModelInfo`): its
file and sha256, its recipe, and the data it was trained on and its test accuracy when they are
known, else the line saying why not. A card per image: the image as given (a thumbnail), the 28x28
digit the network saw (enlarged with nearest-neighbour, so its pixels stay visible), and a bar per
digit 0-9 with the answer highlighted. An image that could not be used gets a card with the
reason. Images are embedded as base64 ``data:`` URIs and every file name is shown as
:func:`~mnistflow.own_digits.image_folder.printable_name` writes it (a newline escaped) and
HTML-escaped, so the page opens offline, by itself, whatever the files are called.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from mnistflow.own_digits.image_folder import printable_name
from mnistflow.own_digits.model_info import ModelInfo
from mnistflow.own_digits.predict import Prediction
from mnistflow.plumbing.files import write_text

__all__ = ["render_predictions"]

ZOOM = 4  # the 28x28 digit is shown at 112x112 px


def _data_uri(image: Image.Image) -> str:
    """A PNG of ``image`` as a data: URI (the same image always gives the same bytes)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):  # 16-bit or float grey
        grey = np.asarray(image, dtype=np.float64)  # (h, w); its own range, shown as 0-255
        finite = np.isfinite(grey)  # NaN and inf (a refused float image) are shown black
        lo, hi = (float(grey[finite].min()), float(grey[finite].max())) if finite.any() else (0.0, 0.0)
        levels = (np.where(finite, grey, lo) - lo) * (255 / max(hi - lo, 1e-12))  # (h, w) in 0..255
        image = Image.fromarray(np.rint(levels).astype(np.uint8))
    elif image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):  # CMYK, YCbCr, ...
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _seen(pixels: np.ndarray) -> Image.Image:
    """The network's (28, 28) input in [0, 1] as an enlarged grey image, white ink on black."""
    grey = Image.fromarray(np.rint(pixels * 255).astype(np.uint8))  # mode L
    return grey.resize((grey.width * ZOOM, grey.height * ZOOM), Image.Resampling.NEAREST)


def _bars(pred: Prediction) -> str:
    assert pred.proba is not None
    best = int(np.argmax(pred.proba))
    rows = []
    for digit, p in enumerate(pred.proba):
        top = ' class="top"' if digit == best else ""
        rows.append(f'<tr{top}><th>{digit}</th><td><span style="width:{100 * p:.1f}%"></span></td>'
                    f"<td>{p:.1%}</td></tr>")
    return '<table class="bars">' + "".join(rows) + "</table>"


def _card(pred: Prediction) -> str:
    name = html.escape(printable_name(Path(pred.file).name))
    title = html.escape(printable_name(pred.file))
    original = (f'<figure><img alt="{title}" src="{_data_uri(pred.thumbnail)}">'
                f"<figcaption>your image</figcaption></figure>" if pred.thumbnail is not None else "")
    if pred.proba is None or pred.pixels is None:
        return (f'<div class="card failed"><h2 title="{title}">{name}</h2><div class="pics">{original}'
                f'</div><p class="error">{html.escape(pred.error or "")}</p></div>')
    (digit, p), *_ = pred.top(1)
    seen = (f'<figure><img class="seen" alt="what the network saw" src="{_data_uri(_seen(pred.pixels))}">'
            f"<figcaption>what the network saw</figcaption></figure>")
    return (f'<div class="card"><h2 title="{title}">{name}</h2><div class="pics">{original}{seen}</div>'
            f'<p class="answer"><b>{digit}</b> {p:.1%}</p>{_bars(pred)}</div>')


def _model_section(model: ModelInfo) -> str:
    """Which model answered: a table of what is known of it, and the line saying what is not."""
    rows = "\n".join(f"<tr><th>{html.escape(what)}</th><td>{html.escape(text)}</td></tr>"
                     for what, text in model.fields())
    unknown = f'\n<p class="unknown">{html.escape(model.unknown)}</p>' if model.unknown else ""
    return f'<h2>The model</h2>\n<table class="model">\n{rows}\n</table>{unknown}'


def render_predictions(
    predictions: Sequence[Prediction], model: ModelInfo, path: str | os.PathLike[str]
) -> None:
    """Write the page for ``predictions`` (made with the model ``model`` describes) to ``path``."""
    failed = sum(p.proba is None for p in predictions)
    summary = f"{len(predictions) - failed} image{'s' * (len(predictions) - failed != 1)} classified"
    if failed:
        summary += f", {failed} could not be used"
    cards = "\n".join(_card(p) for p in predictions)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your digits, classified</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(min(17rem, 100%), 1fr)); gap: 1rem; }}
.card {{ background: #f6f8fb; border: 1px solid #dde3ea; border-radius: 8px; padding: .8rem; }}
.card.failed {{ background: #fdf3f2; border-color: #f0c8c4; }}
.card h2 {{ font-size: .95rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }}
.pics {{ display: flex; gap: .6rem; align-items: flex-end; }}
figure {{ margin: 0; text-align: center; }}
figure img {{ max-width: 128px; max-height: 128px; background: repeating-conic-gradient(#ddd 0 25%,
             #fff 0 50%) 0 0 / 12px 12px; border: 1px solid #ccc; }}
img.seen {{ width: 112px; height: 112px; image-rendering: pixelated; background: #000; }}
figcaption {{ font-size: .75rem; color: #666; }}
.answer {{ margin: .5rem 0 .3rem; }}
.answer b {{ font-size: 2rem; margin-right: .4rem; }}
.error {{ color: #a12a1e; overflow-wrap: anywhere; }}
table.bars {{ border-collapse: collapse; width: 100%; font-size: .75rem; }}
.bars th {{ width: 1.2rem; text-align: left; font-weight: normal; }}
.bars td:last-child {{ width: 3.4rem; text-align: right; color: #666; }}
.bars span {{ display: block; height: .6rem; min-width: 1px; background: #9db4cc; border-radius: 2px; }}
.bars tr.top th, .bars tr.top td {{ font-weight: bold; color: #123; }}
.bars tr.top span {{ background: #2b6cb0; }}
table.model {{ border-collapse: collapse; font-size: .85rem; margin-bottom: .6rem; }}
.model th {{ text-align: left; vertical-align: top; font-weight: normal; color: #666;
             padding: .15rem 1rem .15rem 0; }}
.model td {{ overflow-wrap: anywhere; padding: .15rem 0; }}
.unknown {{ color: #a12a1e; font-size: .9rem; overflow-wrap: anywhere; }}
</style></head><body>
<h1>Your digits, classified</h1>
<p><b>{summary}</b>. Each image is turned into what the network was trained on, an MNIST digit:
grey, white ink on black, cropped to the ink, scaled to fit 20x20 pixels and centred by its centre
of mass in 28x28. The bars are the network's probability for each digit.</p>
{_model_section(model)}
<h2>Your digits</h2>
<div class="grid">
{cards}
</div>
</body></html>
"""
    write_text(path, page)
