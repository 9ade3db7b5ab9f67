"""Training: presets, optimizers, schedule, augmentation, the training loop, and the train stage."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

import mnistflow.training.train
from conftest import Workflow
from mnistflow.plumbing.errors import ConfigError, DataError, TrainingError
from mnistflow.settings.presets import PRESETS, Hyperparams, resolve
from mnistflow.training import network
from mnistflow.training import prefetch as _prefetch
from mnistflow.training.distort import Distortions, distort_rows, distortion_rng
from mnistflow.training.engine._columns import GATHER_ROWS
from mnistflow.training.engine._gather import Gather
from mnistflow.training.model_file import load_model, save_model
from mnistflow.training.optimizers import SGD, Adam, learning_rate_at, make_optimizer
from mnistflow.training.shifts import ShiftFrame, random_shifts, shift_rows
from mnistflow.training.train import EarlyStopping, early_stopping, train
from mnistflow.training.training_log import read_history, write_history

# --- presets ------------------------------------------------------------------------------------


def test_exercise_preset_is_the_exercise_recipe() -> None:
    hp = PRESETS["exercise"]
    assert (hp.init, hp.hidden, hp.epochs, hp.learning_rate) == ("small", 256, 100, 0.5)
    assert (hp.batch_size, hp.optimizer, hp.momentum, hp.lr_schedule) == (0, "sgd", 0.0, "constant")
    assert (hp.l2, hp.dropout, hp.shift, hp.warmup_epochs, hp.validation_fraction) == (0, 0, 0, 0, 0)


def test_best_preset_is_the_same_network_trained_well() -> None:
    hp = PRESETS["best"]
    assert hp.hidden == 256 and hp.init == "he" and hp.batch_size > 0 and hp.shift > 0
    assert not Distortions.of(hp).on and not Distortions.of(PRESETS["exercise"]).on
    hp.check()


def test_frontier_preset_is_best_wider_on_simards_distortions() -> None:
    hp = PRESETS["frontier"]
    assert hp.hidden == 800 and (hp.optimizer, hp.lr_schedule, hp.init) == ("adam", "cosine", "he")
    assert Distortions.of(hp) == Distortions(elastic_alpha=34.0, elastic_sigma=4.0, rotation=10.0,
                                             scale=0.1, shear=0.1)
    hp.check()


def test_resolve_takes_the_preset_and_overrides_non_null_keys() -> None:
    config = {"preset": "best", "epochs": 5, "learning_rate": None, "seed": 3, "dtype": "float64"}
    hp = resolve(config)
    assert hp == replace(PRESETS["best"], epochs=5, seed=3, dtype="float64")
    assert resolve({"preset": "exercise", "learning_rate": 1}).learning_rate == 1.0  # int -> float
    assert isinstance(resolve({"preset": "exercise", "learning_rate": 1}).learning_rate, float)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"preset": "nope"}, "preset"),
        ({"preset": "best", "momentum": 0.9}, "momentum"),
        ({"preset": "exercise", "patience": 3}, "patience"),
        ({"preset": "exercise", "warmup_epochs": 100}, "warmup_epochs"),
        ({"preset": "exercise", "epochs": 2.5}, "epochs"),
    ],
    ids=["unknown-preset", "momentum-with-adam", "patience-without-validation", "warmup-too-long",
         "fractional-epochs"],
)
def test_resolve_names_the_bad_key(config: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        resolve(config)


# --- optimizers and schedule --------------------------------------------------------------------


def _params_and_grads(seed: int = 0) -> tuple[network.Params, list[network.Grads]]:
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4)}
    grads = [{f"d{k}": rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(4)]
    return params, grads


@pytest.mark.parametrize("momentum", [0.0, 0.9], ids=["plain", "momentum"])
def test_sgd_matches_the_textbook_update(momentum: float) -> None:
    params, grads = _params_and_grads()
    expected = {k: v.copy() for k, v in params.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    opt = SGD(params, momentum)
    ids = {k: id(v) for k, v in params.items()}
    for g in grads:
        opt.step(g, 0.1)
        for k in expected:
            velocity[k] = momentum * velocity[k] - 0.1 * g[f"d{k}"]
            expected[k] = expected[k] + velocity[k]
    for k in expected:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12)
        assert id(params[k]) == ids[k]  # updated in place


def test_adam_matches_the_textbook_update() -> None:
    params, grads = _params_and_grads()
    expected = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v2 = {k: np.zeros_like(v) for k, v in params.items()}
    opt = Adam(params)
    for t, g in enumerate(grads, start=1):
        opt.step(g, 0.01)
        for k in expected:
            m[k] = 0.9 * m[k] + 0.1 * g[f"d{k}"]
            v2[k] = 0.999 * v2[k] + 0.001 * g[f"d{k}"] ** 2
            m_hat, v_hat = m[k] / (1 - 0.9**t), v2[k] / (1 - 0.999**t)
            expected[k] = expected[k] - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    for k in expected:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-10)


def test_constant_schedule_with_warmup() -> None:
    rates = [learning_rate_at(s, 10, 1.0, "constant", warmup=4) for s in range(10)]
    assert rates == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("warmup", [0, 3], ids=["no-warmup", "warmup"])
def test_cosine_schedule_falls_from_base_to_floor(warmup: int) -> None:
    rates = [learning_rate_at(s, 20, 0.1, "cosine", warmup, final_ratio=0.1) for s in range(20)]
    assert rates[warmup] == pytest.approx(0.1)
    assert rates[-1] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[warmup:], rates[warmup + 1 :], strict=False))
    assert rates[warmup + (19 - warmup) // 2] == pytest.approx(0.055, abs=0.01)  # half-way: mean


# --- augmentation -------------------------------------------------------------------------------


def _moved(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Reference: pad by 4 on every side, then cut the window that moves the image by (dy, dx)."""
    side = image.shape[0]
    padded = np.pad(image, 4)
    return padded[4 - dy : 4 - dy + side, 4 - dx : 4 - dx + side]


@pytest.mark.parametrize(("side", "shift"), [(6, 2), (9, 4), (5, 4)],
                         ids=["6x6-by-2", "9x9-by-4", "5x5-by-4"])
def test_shift_rows_moves_each_image_by_its_offset(side: int, shift: int) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((30, side * side)).astype(np.float32) + 1  # no pixel 0, edges included
    rows = rng.integers(0, 30, 200)
    dy, dx = random_shifts(200, shift, rng)
    assert set(dy) | set(dx) == set(range(-shift, shift + 1))
    out = np.full((200, side * side), np.nan, dtype=np.float32)
    shift_rows(X, rows, dy, dx, out)
    for i, row in enumerate(rows):
        expected = _moved(X[row].reshape(side, side), int(dy[i]), int(dx[i]))
        np.testing.assert_array_equal(out[i].reshape(side, side), expected)


def test_a_frame_used_again_moves_every_block_right() -> None:
    # a worker moves block after block in the same frame: nothing of one may show in the next
    rng = np.random.default_rng(1)
    X = rng.random((50, 36)).astype(np.float32) + 1
    frame = ShiftFrame(40, 6, 3, np.float32)
    for size in (40, 7, 40, 1):
        rows = rng.integers(0, 50, size)
        dy, dx = random_shifts(size, 3, rng)
        out = shift_rows(X, rows, dy, dx, np.empty((size, 36), np.float32), frame)
        for i, row in enumerate(rows):
            expected = _moved(X[row].reshape(6, 6), int(dy[i]), int(dx[i]))
            np.testing.assert_array_equal(out[i].reshape(6, 6), expected)


@pytest.mark.parametrize("moved", [False, True], ids=["taken", "moved"])
def test_a_gather_and_its_blocks_give_the_rows(moved: bool) -> None:
    rng = np.random.default_rng(2)
    X = rng.random((30, 25))
    at = rng.integers(0, 30, 12)
    dy, dx = random_shifts(12, 2, rng) if moved else (None, None)
    gather = Gather(X, at, dy, dx, 2 if moved else 0)
    whole = gather.into(np.empty((20, 25)))  # the first 12 rows of a bigger buffer
    assert whole.shape == (12, 25)
    expected = shift_rows(X, at, dy, dx, np.empty((12, 25))) if dy is not None and dx is not None else X[at]
    np.testing.assert_array_equal(whole, expected)
    block = gather[4:9]
    assert len(block) == 5
    np.testing.assert_array_equal(block.into(np.empty((5, 25))), expected[4:9])


def test_shift_by_one_pixel_down_and_right() -> None:
    X = np.zeros((1, 9))
    X[0, 0] = 1  # top-left pixel of a 3x3 image
    out = shift_rows(X, np.array([0]), np.array([1]), np.array([1]), np.empty((1, 9)))
    assert out[0].reshape(3, 3)[1, 1] == 1 and out.sum() == 1


# --- the training loop --------------------------------------------------------------------------


def _blobs(n: int = 240, side: int = 9, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Easy data: each class lights up its own band of 3 rows of a 9x9 image, plus noise (a shift
    by one pixel keeps the band's middle row)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.random((n, side, side)) * 0.3
    for c in range(k):
        X[y == c, 3 * c : 3 * c + 3, :] += 0.7
    return X.reshape(n, -1).astype(np.float32), np.eye(k, dtype=np.float32)[y]


# small versions of the presets, so each run takes milliseconds
SMALL_EXERCISE = replace(PRESETS["exercise"], hidden=16, epochs=20)
SMALL_BEST = replace(PRESETS["best"], hidden=16, epochs=6, batch_size=32, dropout=0.2, shift=1,
                     learning_rate=0.01, validation_fraction=0.25, l2=1e-4)
# distortions fitting 9x9 images
SMALL_FRONTIER = replace(PRESETS["frontier"], hidden=16, epochs=4, batch_size=32, dropout=0.2,
                         learning_rate=0.01, validation_fraction=0.25, elastic_alpha=8.0,
                         elastic_sigma=1.5)


@pytest.mark.parametrize(
    "hp",
    [SMALL_EXERCISE, SMALL_BEST, SMALL_FRONTIER, replace(SMALL_FRONTIER, shift=1),
     replace(SMALL_FRONTIER, batch_size=0, optimizer="sgd", learning_rate=0.5)],
    ids=["exercise", "best", "frontier", "frontier-and-shifts", "frontier-full-batch"],
)
def test_same_config_and_seed_give_bit_identical_weights(hp: Hyperparams) -> None:
    X, Y = _blobs()
    first, history1 = train(X, Y, hp)
    second, history2 = train(X, Y, hp)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    assert [e.loss for e in history1] == [e.loss for e in history2]
    other, _ = train(X, Y, replace(hp, seed=hp.seed + 1))
    assert not np.array_equal(other["W1"], first["W1"])


def test_full_batch_training_is_plain_gradient_descent() -> None:
    X, Y = _blobs()
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    hp = replace(SMALL_EXERCISE, epochs=3, dtype="float64", learning_rate=0.3)
    params, history = train(X, Y, hp)
    expected = network.init_params(81, 16, 3, np.random.default_rng(hp.seed), "float64")
    for epoch in range(3):
        A1, P = network.forward(expected, X)
        assert history[epoch].loss == pytest.approx(network.loss(P, Y), rel=1e-12)
        grads = network.backward(expected, X, Y, A1, P)
        for name in expected:
            expected[name] = expected[name] - 0.3 * grads[f"d{name}"]
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-12)


@pytest.mark.parametrize("hp", [SMALL_EXERCISE, SMALL_BEST, SMALL_FRONTIER],
                         ids=["exercise", "best", "frontier"])
def test_training_learns_easy_data(hp: Hyperparams) -> None:
    X, Y = _blobs()
    params, history = train(X, Y, replace(hp, epochs=40 if hp.batch_size == 0 else 10))
    assert history[-1].loss < history[0].loss
    assert np.mean(network.predict(params, X) == Y.argmax(axis=1)) > 0.95


def test_early_stopping_keeps_the_best_weights() -> None:
    X, Y = _blobs(n=400)
    hp = replace(SMALL_BEST, epochs=50, patience=2, validation_fraction=0.2, dropout=0.0)
    _, history = train(X, Y, hp)
    assert len(history) < 50  # validation accuracy reaches its ceiling long before 50 epochs
    scores = [e.val_accuracy for e in history]
    assert all(s is not None for s in scores)
    assert max(scores[-2:]) <= max(scores[:-2])  # type: ignore[type-var]


def test_diverging_loss_stops_at_once_naming_the_learning_rate() -> None:
    X, Y = _blobs()
    with pytest.raises(TrainingError, match=r"became nan at epoch \d+/100.*learning_rate=1e\+09"):
        train(X, Y, replace(SMALL_EXERCISE, epochs=100, learning_rate=1e9))


def test_diverging_loss_with_l2_names_l2_too() -> None:
    # W -= lr * l2 * W: with lr * l2 = 50 the weights grow however small the data's gradient; the
    # message used to name only learning_rate
    X, Y = _blobs()
    with pytest.raises(TrainingError, match=r"with learning_rate=0\.5, l2=100: training diverged; "
                                            r"try a smaller learning_rate or l2$"):
        train(X, Y, replace(SMALL_EXERCISE, epochs=100, l2=100.0))


@pytest.mark.parametrize("key", ["learning_rate", "momentum", "l2", "dropout", "validation_fraction"])
@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_non_finite_hyperparameter_is_refused_naming_it(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=rf"^{key}: {value} is not a finite number$"):
        replace(SMALL_EXERCISE, **{key: value}).check()


def test_validation_fraction_that_holds_out_no_row_is_refused_with_one_that_does() -> None:
    X, Y = _blobs()  # 240 rows
    hp = replace(SMALL_EXERCISE, epochs=1, validation_fraction=1e-300, patience=2)
    with pytest.raises(ConfigError, match=r"^validation_fraction: 1e-300 of 240 training rows holds "
                                          r"out no row; choose validation_fraction >= 0\.004167, or 0"):
        train(X, Y, hp)
    _, history = train(X, Y, replace(hp, validation_fraction=0.004167))
    assert history[0].val_accuracy is not None


def test_wrong_dtype_is_refused() -> None:
    X, Y = _blobs()
    with pytest.raises(DataError, match=r"^training data is float32/float32, but dtype is float64$"):
        train(X, Y, replace(SMALL_EXERCISE, dtype="float64"))


def test_model_and_history_files(tmp_path: Path) -> None:
    X, Y = _blobs()
    params, history = train(X, Y, replace(SMALL_BEST, epochs=2))
    save_model(tmp_path / "model.npz", params, SMALL_BEST)
    loaded, meta = load_model(tmp_path / "model.npz")
    for name in params:
        np.testing.assert_array_equal(loaded[name], params[name])
    assert meta["hyperparams"] == asdict(SMALL_BEST)
    write_history(tmp_path / "log.csv", history)
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,train_accuracy,seconds,learning_rate,val_accuracy"
    assert len(lines) == 3 and all(math.isfinite(float(x)) for x in lines[2].split(","))
    columns = read_history(tmp_path / "log.csv")  # the reader beside the writer
    np.testing.assert_array_equal(columns["epoch"], [1, 2])
    np.testing.assert_allclose(columns["loss"], [e.loss for e in history], rtol=1e-5)


# --- the train stage ----------------------------------------------------------------------------


@pytest.mark.slow
def test_train_stage_best_preset_and_divergence(workflow_copy: Workflow) -> None:
    wf = workflow_copy
    failed = wf.snakemake("--config", "learning_rate=1e12", check=False)
    assert failed.returncode != 0
    log = (wf / "logs/train.log").read_text()
    assert "learning_rate=1e+12" in log and "Traceback" not in log
    assert not (wf / "results/model.npz").exists()

    wf.snakemake("results/model.npz", "--config", "preset=best", "epochs=2")
    _, meta = load_model(wf / "results/model.npz")
    assert meta["hyperparams"] == asdict(replace(PRESETS["best"], epochs=2))
    assert "epoch 2/2" in (wf / "logs/train.log").read_text()
    history = (wf / "results/training_log.csv").read_text().splitlines()
    assert len(history) == 3
    assert meta["architecture"] == {"layers": [784, 256, 10], "hidden_activation": "relu",
                                    "output": "softmax", "loss": "cross-entropy"}


def _textbook(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> network.Params:
    """What :func:`train` computes, written plainly with network.backward and the optimizer (no
    early stopping): the generator draws the initial weights, the validation rows, each epoch's
    order (mini-batches), the shifts of the next GATHER_ROWS rows (rounded down to whole batches)
    when a step reaches them, and each step's dropout mask, in this order."""
    rng = np.random.default_rng(hp.seed)
    params = network.init_params(X.shape[1], hp.hidden, Y.shape[1], rng, hp.dtype, init=hp.init)
    fit = np.arange(len(X))
    if hp.validation_fraction:
        fit = np.sort(rng.permutation(len(X))[round(len(X) * hp.validation_fraction) :])
    batch = min(hp.batch_size or len(fit), len(fit))
    steps = math.ceil(len(fit) / batch)
    opt = make_optimizer(hp.optimizer, params, hp.momentum)
    step = 0
    draws = min(len(fit), batch * max(1, GATHER_ROWS // batch))
    for _ in range(hp.epochs):
        order = fit if batch == len(fit) and not hp.shift else rng.permutation(fit)
        for i in range(0, len(fit), batch):
            rows = order[i : i + batch]
            Xb = X[rows]
            if hp.shift:
                if i % draws == 0:
                    dy, dx = random_shifts(len(order[i : i + draws]), hp.shift, rng)
                g = i % draws
                Xb = np.stack([_moved(x.reshape(9, 9), int(dy[g + j]), int(dx[g + j])).ravel()
                               for j, x in enumerate(Xb)])
            A1 = network.hidden(params, Xb)
            if hp.dropout:
                network.inplace_dropout(A1, hp.dropout, network.dropout_mask(A1.shape, hp.dropout, rng))
            P = network.output(params, A1)
            grads = network.backward(params, Xb, Y[rows], A1, P, l2=hp.l2, dropout=hp.dropout)
            opt.step(grads, learning_rate_at(step, hp.epochs * steps, hp.learning_rate,
                                             hp.lr_schedule, hp.warmup_epochs * steps))
            step += 1
    return params


def _blobs_with_dead_columns(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_blobs` with the image's first and last columns and its middle pixel 0 in every row,
    and its second column 0 in the first 100 rows."""
    X, Y = _blobs(n)
    images = X.reshape(n, 9, 9)
    images[:, :, 0] = images[:, :, -1] = images[:, 4, 4] = images[:100, :, 1] = 0
    return X, Y


DEAD = sorted({9 * r for r in range(9)} | {9 * r + 8 for r in range(9)} | {40})  # in every row


@pytest.mark.parametrize(
    ("hp", "n"),
    [
        (replace(SMALL_EXERCISE, epochs=30), 240),
        (replace(SMALL_EXERCISE, epochs=10, l2=0.01, momentum=0.9, learning_rate=0.1), 240),
        (replace(SMALL_EXERCISE, epochs=10, optimizer="adam", learning_rate=0.01, l2=0.001, dropout=0.2,
                 validation_fraction=0.25), 240),
        # mini-batches of 900 out of 5,000 rows: gathered 3,600 rows at a time, a short last batch
        (replace(SMALL_BEST, epochs=2, batch_size=900, shift=0, dropout=0.0, validation_fraction=0.0),
         5000),
        (replace(SMALL_BEST, epochs=2, shift=0), 240),
        # each epoch's shifts drawn for 4,000 rows, then for the last 1,000, each step's dropout
        # mask in between; the workers gather and shift the rows, the next batch's ahead
        (replace(SMALL_BEST, epochs=2, batch_size=500, shift=2, dropout=0.2, validation_fraction=0.0),
         5000),
    ],
    ids=["seed", "l2-momentum", "adam-l2-dropout-validation", "mini-batches-gathered",
         "mini-batches-dropout-validation", "mini-batches-shifted-dropout"],
)
def test_training_is_the_textbook_loop(hp: Hyperparams, n: int) -> None:
    """The engine's blocks, threads and zero columns left out change only the order of sums."""
    X, Y = (a.astype(np.float64) for a in _blobs_with_dead_columns(n))
    hp = replace(hp, dtype="float64")
    params, _ = train(X, Y, hp)
    expected = _textbook(X, Y, hp)
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-8, atol=1e-11)
    if hp.shift:  # shifted images light the columns that are 0 in every row as they are
        return
    # the rows of W1 for columns 0 in every row see only the L2 term (or nothing), exactly
    np.testing.assert_array_equal(params["W1"][DEAD], expected["W1"][DEAD])
    initial = network.init_params(81, 16, 3, np.random.default_rng(hp.seed), "float64", init=hp.init)
    assert np.array_equal(params["W1"][DEAD], initial["W1"][DEAD]) == (not hp.l2)


def _textbook_distorted(X: np.ndarray, Y: np.ndarray, hp: Hyperparams) -> network.Params:
    """:func:`_textbook` on distorted digits, one epoch after another: before each epoch's order is
    drawn, the rows to fit on are distorted from that epoch's own generator, and the batches are
    taken from them (no dropout, no validation rows)."""
    rng = np.random.default_rng(hp.seed)
    params = network.init_params(X.shape[1], hp.hidden, Y.shape[1], rng, hp.dtype, init=hp.init)
    fit, d = np.arange(len(X)), Distortions.of(hp)
    steps = math.ceil(len(fit) / hp.batch_size)
    opt = make_optimizer(hp.optimizer, params, hp.momentum)
    step = 0
    for epoch in range(1, hp.epochs + 1):
        distorted = distort_rows(X, fit, d, distortion_rng(hp.seed, epoch), np.empty_like(X))
        order = rng.permutation(fit)
        for i in range(0, len(fit), hp.batch_size):
            rows = order[i : i + hp.batch_size]
            A1, P = network.forward(params, distorted[rows])
            grads = network.backward(params, distorted[rows], Y[rows], A1, P, l2=hp.l2)
            opt.step(grads, learning_rate_at(step, hp.epochs * steps, hp.learning_rate,
                                             hp.lr_schedule, hp.warmup_epochs * steps))
            step += 1
    return params


def test_distorted_training_is_the_textbook_loop_on_each_epochs_distorted_rows() -> None:
    X, Y = (a.astype(np.float64) for a in _blobs(300))
    hp = replace(SMALL_FRONTIER, epochs=3, dropout=0.0, validation_fraction=0.0, dtype="float64")
    params, _ = train(X, Y, hp)
    expected = _textbook_distorted(X, Y, hp)
    for name in params:
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-8, atol=1e-11)


class _OneAfterAnother:
    """mnistflow.training.prefetch.DistortedEpochs without the thread: each epoch distorted when asked for."""

    def __init__(self, X: np.ndarray, rows: np.ndarray, d: Distortions, seed: int, epochs: int) -> None:
        self.args = X, rows, d, seed

    def __enter__(self) -> _OneAfterAnother:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def rows(self, epoch: int) -> np.ndarray:
        X, rows, d, seed = self.args
        out = np.empty((len(rows), X.shape[1]), X.dtype)
        return distort_rows(X, rows, d, distortion_rng(seed, epoch), out)


@pytest.mark.parametrize("delay", [0.0, 0.02], ids=["as-fast-as-it-goes", "slowed"])
def test_epochs_prepared_in_the_background_give_the_weights_of_epochs_made_one_after_another(
    delay: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = _blobs(6000)  # 4,500 rows to fit on: a slab of rows and a part
    assert _prefetch.SLAB_ROWS < 4500
    hp = replace(SMALL_FRONTIER, epochs=3, shift=1)
    with monkeypatch.context() as patch:
        patch.setattr(mnistflow.training.train, "DistortedEpochs", _OneAfterAnother)
        expected, expected_history = train(X, Y, hp)

    def slow(*args: object, **kwargs: object) -> np.ndarray:
        time.sleep(delay)
        return distort_rows(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_prefetch, "distort_rows", slow)
    params, history = train(X, Y, hp)
    for name in params:
        assert params[name].tobytes() == expected[name].tobytes(), name
    assert [e.loss for e in history] == [e.loss for e in expected_history]


def test_early_stopping_counts_epochs_without_a_better_accuracy() -> None:
    params = {"W": np.zeros(2)}
    stop = EarlyStopping(patience=2)
    seen = []
    for epoch, accuracy in enumerate([0.5, 0.7, 0.6, 0.7, 0.8, 0.8, 0.1], start=1):
        params["W"][:] = epoch
        seen.append(early_stopping(stop, accuracy, params))
    assert seen == [False, False, False, True, False, False, True]
    assert stop.best == 0.8 and stop.best_params is not None
    np.testing.assert_array_equal(stop.best_params["W"], [5, 5])  # a copy, from the best epoch
    assert not early_stopping(EarlyStopping(patience=0), 0.0, params)  # 0: never stops


def test_zero_columns_are_used_when_images_are_shifted(caplog: pytest.LogCaptureFixture) -> None:
    X, Y = _blobs_with_dead_columns()
    with caplog.at_level("INFO", logger="mnistflow.training.train"):
        train(X, Y, replace(SMALL_EXERCISE, epochs=1, shift=1))  # moves pixels into the dead columns
        assert "enter the products" not in caplog.text
        train(X, Y, replace(SMALL_EXERCISE, epochs=1))
        assert "input columns: 62 of 81 on average are not 0" in caplog.text
