"""The ``mnistflow`` command: classify your own digit images with a trained model, export it, or
make the page to draw digits on.

    mnistflow predict results/model.npz IMAGE... [--metrics PATH]
    mnistflow export results/model.npz results/model.onnx [--metrics PATH]
    mnistflow draw results/model.npz results/draw.html [--metrics PATH]

``predict``
prints which model answers (its file and sha256, its recipe, and the data it was trained on and its
test accuracy when the metrics.json beside it, or at ``--metrics``, belongs to it; else a line says
why these are unknown), an empty line, then one line per image: the answer and the next two
guesses, or why the image could not be used; a folder stands for every file in it. File names are
printed so that none can split a line (:func:`~mnistflow.own_digits.image_folder.printable_name`).
Exit status: 0 when at least one image was classified (a line says why each other one could not
be), 1 when none could be (or the model was refused: a file that is no model file made by train
gets one line saying what it is), 2 for a usage error.

``export`` writes the network as an ONNX graph (:mod:`~mnistflow.own_digits.onnx_file`), whole or not
at all, and prints which model it holds and what the graph takes and gives. Exit status: 0 when
written, 1 when not (one line says why), 2 for a usage error.

``draw`` writes the page to draw a digit on (:mod:`~mnistflow.own_digits.draw_page`), whole or not
at all, and prints which model it holds and the page's size; exit status as for ``export``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mnistflow.plumbing.errors import DataError, MnistflowError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnistflow", description="Use a network trained by the mnistflow workflow."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    predict = commands.add_parser(
        "predict", help="classify digit images (PNG, JPEG, BMP, GIF, ...)",
        description="Classify digit images: each is made MNIST-like (grey, white ink on black, "
        "cropped, scaled to 20x20, centred in 28x28) and given to the network. One line per image.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file written by the workflow "
                         "(results/model.npz)")
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="an image file, or a folder: every file in it")
    predict.add_argument("--metrics", metavar="PATH",
                         help="the metrics.json of the model, for its data and test accuracy "
                         "(default: metrics.json in the model's folder, if there is one)")
    export = commands.add_parser(
        "export", help="write the network as an ONNX graph, for any ONNX runtime",
        description="Write the network as an ONNX graph: input N x 784 float32, each pixel "
        "/ 255 as in training; output the ten probabilities. Needs pip install 'mnistflow[onnx]'.",
    )
    export.add_argument("model", metavar="MODEL", help="a model file written by the workflow "
                        "(results/model.npz)")
    export.add_argument("output", metavar="OUTPUT", help="the ONNX file to write (results/model.onnx)")
    export.add_argument("--metrics", metavar="PATH",
                        help="the metrics.json of the model, whose data and test accuracy the ONNX "
                        "file then records (default: metrics.json in the model's folder, if there is one)")
    draw = commands.add_parser(
        "draw", help="write a page to draw digits on, classified in the browser",
        description="Write one self-contained HTML page with the network in it: draw a digit with "
        "the mouse, a pen or a finger and see what the network saw and what it answers, offline.",
    )
    draw.add_argument("model", metavar="MODEL", help="a model file written by the workflow "
                      "(results/model.npz)")
    draw.add_argument("output", metavar="OUTPUT", help="the page to write (results/draw.html)")
    draw.add_argument("--metrics", metavar="PATH",
                      help="the metrics.json of the model, whose data and test accuracy the page then "
                      "shows (default: metrics.json in the model's folder, if there is one)")
    return parser


def _expand(arguments: Sequence[str]) -> tuple[list[Path], list[str]]:
    """Files to classify (a folder's files in place of the folder), and a line per empty folder."""
    from mnistflow.own_digits.image_folder import image_files

    files: list[Path] = []
    problems: list[str] = []
    for argument in arguments:
        if Path(argument).is_dir():
            try:
                files.extend(image_files(argument))
            except MnistflowError as exc:
                problems.append(_line(exc))
        else:
            files.append(Path(argument))  # whatever it is: read_image says why it is no image
    return files, problems


def _line(exc: MnistflowError) -> str:
    """The error's message, with the file it names printed safely."""
    from mnistflow.own_digits.image_folder import printable_name

    if isinstance(exc, DataError) and exc.path is not None:
        return f"{printable_name(exc.path)}: {exc.problem}"
    return str(exc)


def predict(model: str, arguments: Sequence[str], metrics: str | None = None) -> int:
    """Print which model answers, an empty line, and a line per image; 0 when at least one image
    was classified, else 1. ``metrics``: the model's metrics.json (default: the one beside it)."""
    # deferred: `mnistflow --help` answers without loading NumPy and Pillow
    from mnistflow.own_digits.model_info import describe_model
    from mnistflow.own_digits.predict import classify, describe
    from mnistflow.training.model_file import load_model

    files, problems = _expand(arguments)
    try:
        params, meta = load_model(model)
        predictions = classify(params, model, files)
        info = describe_model(model, meta, metrics or Path(model).parent / "metrics.json")
    except MnistflowError as exc:
        print(f"mnistflow predict: error: {_line(exc)}", file=sys.stderr)
        return 1
    print("\n".join(info.lines()), end="\n\n")
    for line in problems:
        print(line)
    for prediction in predictions:
        print(describe(prediction))
    return 0 if any(p.error is None for p in predictions) else 1


def _write_from_model(
    command: str, what: str, write: Callable[[str, Any, Any], None], model: str, output: str,
    metrics: str | None, refused: tuple[type[Exception], ...] = (MnistflowError,),
) -> Any | None:
    """``write(output, params, info)`` of the model file ``model`` (``what``: the file it writes),
    then print which model it holds; the weights, or None after printing the error (an exception
    of ``refused``) as ``mnistflow <command>: error: ...``. ``metrics``: the model's metrics.json
    (default: the one beside it)."""
    from mnistflow.own_digits.model_info import describe_model
    from mnistflow.training.model_file import load_model

    try:
        if Path(output).resolve() == Path(model).resolve():
            raise DataError(output, f"this is the model file; name another file for {what}")
        params, meta = load_model(model)
        info = describe_model(model, meta, metrics or Path(model).parent / "metrics.json")
        write(output, params, info)
    except refused as exc:
        print(f"mnistflow {command}: error: {_line(exc) if isinstance(exc, MnistflowError) else exc}",
              file=sys.stderr)
        return None
    print("\n".join(info.lines()))
    return params


def export(model: str, output: str, metrics: str | None = None) -> int:
    """Write the model as an ONNX graph at ``output`` and print what it holds; 0 when written, else 1.
    ``metrics``: the model's metrics.json (default: the one beside it)."""
    from mnistflow.own_digits.image_folder import printable_name
    from mnistflow.own_digits.onnx_file import INPUT, OPSET, OUTPUT, write_onnx

    params = _write_from_model("export", "the ONNX graph", write_onnx, model, output, metrics)
    if params is None:
        return 1
    n_in, n_out = params["W1"].shape[0], params["W2"].shape[1]
    print(f"\nwrote {printable_name(output)}: ONNX opset {OPSET}; input {INPUT}, N x {n_in} float32, "
          f"each pixel / 255; output {OUTPUT}, N x {n_out}")
    return 0


def draw(model: str, output: str, metrics: str | None = None) -> int:
    """Write the draw page at ``output`` and print which model it holds; 0 when written, else 1.
    ``metrics``: the model's metrics.json (default: the one beside it)."""
    from mnistflow.own_digits.draw_page import write_draw_page
    from mnistflow.own_digits.image_folder import printable_name

    # ValueError: a network for other inputs than 28x28 digits, which the page cannot draw for
    if _write_from_model("draw", "the page", write_draw_page, model, output, metrics,
                         (MnistflowError, ValueError)) is None:
        return 1
    print(f"\nwrote {printable_name(output)}: {Path(output).stat().st_size / 1e6:.1f} MB; open it in a "
          f"browser, draw a digit")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "predict":
        return predict(args.model, args.images, args.metrics)
    if args.command == "export":
        return export(args.model, args.output, args.metrics)
    if args.command == "draw":
        return draw(args.model, args.output, args.metrics)
    raise AssertionError(args.command)  # argparse allows only the commands above


if __name__ == "__main__":
    sys.exit(main())
