"""Training: presets, optimizers, schedule, augmentation, the training loop, and the train stage."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from conftest import Workflow
from mnistflow import network
from mnistflow import train as train_module
from mnistflow.augment import random_shifts, shift_rows
from mnistflow.errors import ConfigError, TrainingError
from mnistflow.optimizers import SGD, Adam, learning_rate_at
from mnistflow.presets import PRESETS, Hyperparams, resolve
from mnistflow.train import _Gradients, load_model, save_model, train, write_history

# --- presets ------------------------------------------------------------------------------------


def test_exercise_preset_is_the_exercise_recipe() -> None:
    hp = PRESETS["exercise"]
    assert (hp.init, hp.hidden, hp.epochs, hp.learning_rate) == ("small", 256, 100, 0.5)
    assert (hp.batch_size, hp.optimizer, hp.momentum, hp.lr_schedule) == (0, "sgd", 0.0, "constant")
    assert (hp.l2, hp.dropout, hp.shift, hp.warmup_epochs, hp.validation_fraction) == (0, 0, 0, 0, 0)


def test_best_preset_is_the_same_network_trained_well() -> None:
    hp = PRESETS["best"]
    assert hp.hidden == 256 and hp.init == "he" and hp.batch_size > 0 and hp.shift > 0
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


def test_shift_rows_moves_each_image_by_its_offset() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((30, 36)).astype(np.float32)  # 6x6 images
    rows = rng.permutation(30)[:20]
    dy, dx = random_shifts(20, 2, rng)
    assert set(dy) | set(dx) <= {-2, -1, 0, 1, 2}
    out = np.full((20, 36), np.nan, dtype=np.float32)
    shift_rows(X, rows, dy, dx, out)
    for i, row in enumerate(rows):
        expected = _moved(X[row].reshape(6, 6), int(dy[i]), int(dx[i]))
        np.testing.assert_array_equal(out[i].reshape(6, 6), expected)


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


@pytest.mark.parametrize("hp", [SMALL_EXERCISE, SMALL_BEST], ids=["exercise", "best"])
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


@pytest.mark.parametrize("hp", [SMALL_EXERCISE, SMALL_BEST], ids=["exercise", "best"])
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
    with pytest.raises(Exception, match="float64"):
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
    assert json.loads(json.dumps(meta))  # the metadata is plain JSON


def _assert_same_step(
    gradients: _Gradients, got: tuple[float, int], want: tuple[float, int], expected: network.Grads
) -> None:
    """A step of _Gradients gave the textbook loss sum, count of right answers and gradients."""
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    assert got[1] == want[1]
    for key, value in expected.items():
        np.testing.assert_allclose(gradients.grads[key], value, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("workers", "block", "dropout", "rows"),
    [(1, 50, 0.0, 300), (2, 64, 0.0, 300), (3, 1000, 0.0, 300), (2, 40, 0.3, 300), (3, 8, 0.0, 2)],
    ids=["blocks", "2-threads", "3-threads", "2-threads-dropout", "more-threads-than-rows"],
)
def test_gradients_split_over_threads_and_blocks_add_up(
    workers: int, block: int, dropout: float, rows: int
) -> None:
    X_all, Y_all = (a.astype(np.float64) for a in _blobs(n=300))
    X, Y = X_all[:rows], Y_all[:rows]
    hp = replace(SMALL_EXERCISE, dtype="float64", l2=0.01, dropout=dropout)
    params = network.init_params(81, 16, 3, np.random.default_rng(0), "float64", init="he")
    labels = Y.argmax(axis=1)
    A1 = network.hidden(params, X)
    if dropout:  # the same mask: drawn for the whole batch from the same generator
        kept = network.dropout_mask(A1.shape, dropout, np.random.default_rng(0))
        network.inplace_dropout(A1, dropout, kept)
    P = network.output(params, A1)
    ce_expected, correct_expected = network.loss(P, Y), int(np.sum(P.argmax(axis=1) == labels))
    expected = network.backward(params, X, Y, A1, P, l2=0.01, dropout=dropout)
    gradients = _Gradients(params, 300, workers, block)
    try:
        # a full batch first, so that stale sums would show in a short batch after it
        gradients(params, X_all, Y_all, Y_all.argmax(axis=1), hp, np.random.default_rng(1))
        ce, correct = gradients(params, X, Y, labels, hp, np.random.default_rng(0))
    finally:
        gradients.close()
    _assert_same_step(gradients, (ce, correct), (ce_expected, correct_expected), expected)


def test_gathering_many_batches_at_once_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    X, Y = _blobs(n=250)  # 250 rows: batches of 32 leave a short one, gathers of 96 a short one
    hp = replace(SMALL_BEST, shift=0, dropout=0.0, validation_fraction=0.0, epochs=2)
    monkeypatch.setattr(train_module, "GATHER_ROWS", 32)
    one_by_one, _ = train(X, Y, hp)
    monkeypatch.setattr(train_module, "GATHER_ROWS", 96)
    three_at_once, _ = train(X, Y, hp)
    for name in one_by_one:
        np.testing.assert_array_equal(one_by_one[name], three_at_once[name])


# --- input columns that are zero in every row of a block ------------------------------------------


def _blobs_with_dead_columns(n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_blobs` with the image's first and last columns and its middle pixel 0 in every row,
    and its second column 0 in the first 100 rows."""
    X, Y = _blobs(n)
    images = X.reshape(n, 9, 9)
    images[:, :, 0] = images[:, :, -1] = images[:, 4, 4] = images[:100, :, 1] = 0
    return X, Y


DEAD = sorted({9 * r for r in range(9)} | {9 * r + 8 for r in range(9)} | {40})  # in every row


def test_live_columns_and_their_copy() -> None:
    X, _ = _blobs_with_dead_columns()
    live = train_module.live_columns(X)
    assert list(live) == [j for j in range(81) if j not in DEAD]
    second = [9 * r + 1 for r in range(9)]
    assert not set(second) & set(train_module.live_columns(X, np.arange(100)))
    X[7, 40] = 0.5  # one row lights a dead column: it is live for all rows, but not for the others
    assert 40 in train_module.live_columns(X)
    assert 40 not in train_module.live_columns(X, np.array([0, 1, 2, 8]))
    rows = np.array([3, 7, 200])
    restricted = train_module.restrict_columns(X, live, rows)
    np.testing.assert_array_equal(restricted, np.hstack([X[rows][:, live], np.ones((3, 1), X.dtype)]))


@pytest.mark.parametrize("block", [4096, 50], ids=["one-block", "blocks-of-50"])
@pytest.mark.parametrize(
    "hp",
    [
        replace(SMALL_EXERCISE, epochs=30),
        replace(SMALL_EXERCISE, epochs=10, l2=0.01, momentum=0.9, learning_rate=0.1),
        replace(SMALL_EXERCISE, epochs=10, optimizer="adam", learning_rate=0.01, l2=0.001, dropout=0.2,
                validation_fraction=0.25),
    ],
    ids=["exercise", "l2-momentum", "adam-l2-dropout-validation"],
)
def test_leaving_zero_columns_out_gives_the_same_weights(
    hp: Hyperparams, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y = (a.astype(np.float64) for a in _blobs_with_dead_columns())
    hp = replace(hp, dtype="float64")
    monkeypatch.setattr(train_module, "BLOCK_ROWS", block)
    restricted, history = train(X, Y, hp)
    again, _ = train(X, Y, hp)
    for name in restricted:  # bit-identical reruns
        np.testing.assert_array_equal(again[name], restricted[name])
    monkeypatch.setattr(train_module, "SKIP_ZERO_COLUMNS", False)
    full, history_full = train(X, Y, hp)
    for name in full:  # the same maths; only the order of the sums in the products differs
        np.testing.assert_allclose(restricted[name], full[name], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([e.loss for e in history], [e.loss for e in history_full], rtol=1e-9)
    # the rows of W1 for columns 0 in every row see only the L2 term (or nothing), exactly
    np.testing.assert_array_equal(restricted["W1"][DEAD], full["W1"][DEAD])
    initial = network.init_params(81, 16, 3, np.random.default_rng(hp.seed), "float64", init=hp.init)
    if not hp.l2:
        np.testing.assert_array_equal(restricted["W1"][DEAD], initial["W1"][DEAD])
    else:
        assert not np.array_equal(restricted["W1"][DEAD], initial["W1"][DEAD])


def test_zero_columns_are_used_when_images_are_shifted(caplog: pytest.LogCaptureFixture) -> None:
    X, Y = _blobs_with_dead_columns()
    with caplog.at_level("INFO", logger="mnistflow.train"):
        train(X, Y, replace(SMALL_EXERCISE, epochs=1, shift=1))  # moves pixels into the dead columns
        assert "enter the products" not in caplog.text
        train(X, Y, replace(SMALL_EXERCISE, epochs=1))
        assert "input columns: 62 of 81 on average are not 0" in caplog.text


@pytest.mark.parametrize(("workers", "block"), [(1, 1000), (1, 64), (2, 64)],
                         ids=["one-block", "blocks", "2-threads"])
@pytest.mark.parametrize("l2", [0.0, 0.01], ids=["no-l2", "l2"])
@pytest.mark.parametrize("validation", [False, True], ids=["all-rows", "some-rows"])
def test_gradients_without_zero_columns_are_the_whole_gradient(
    workers: int, block: int, l2: float, validation: bool
) -> None:
    X_all, Y_all = (a.astype(np.float64) for a in _blobs_with_dead_columns(n=300))
    rows = np.arange(20, 300, 2) if validation else None  # the rows to fit on
    X, Y = (X_all, Y_all) if rows is None else (X_all[rows], Y_all[rows])
    labels = Y.argmax(axis=1)
    hp = replace(SMALL_EXERCISE, dtype="float64", l2=l2)
    params = network.init_params(81, 16, 3, np.random.default_rng(0), "float64", init="he")
    params["b1"] += 0.1  # a non-zero bias, so that folding it into the product is checked
    A1, P = network.forward(params, X)
    ce_expected, correct_expected = network.loss(P, Y), int(np.sum(P.argmax(axis=1) == labels))
    expected = network.backward(params, X, Y, A1, P, l2=l2)  # P, A1 become the deltas
    gradients = _Gradients(params, len(X), workers, block)
    try:
        blocks = gradients.restrict(X_all, rows)
        assert gradients.columns is not None and len(blocks) == len(gradients.columns)
        assert (len(blocks) == 1) == (block == 1000)
        for _ in range(2):  # twice: nothing of the first call may stay in the sums
            ce, correct = gradients(params, blocks, Y, labels, hp, np.random.default_rng(0))
    finally:
        gradients.close()
    _assert_same_step(gradients, (ce, correct), (ce_expected, correct_expected), expected)
    np.testing.assert_array_equal(gradients.grads["dW1"][DEAD], l2 * params["W1"][DEAD])
