"""Property tests (hypothesis): readers never fail with anything but DataError, whatever the bytes
or text (JSON nested deep, numbers past a float); the network's softmax, loss and gradients hold for
random shapes and values.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnistflow.data.idx import read_idx
from mnistflow.data.parquet_file import Digits, read_parquet, write_parquet
from mnistflow.data.split_file import check_split
from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.files import read_json
from mnistflow.plumbing.npz_files import load_npz, save_npz
from mnistflow.training import network
from mnistflow.training.training_log import read_history

# Files are written to a tmp folder per example; hypothesis' health check would flag the fixture.
FILES = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_parquet(path: Path, n: int = 12) -> bytes:
    rng = np.random.default_rng(0)
    digits = Digits(
        pixels=rng.integers(0, 256, (n, 784), dtype=np.uint8),
        labels=(np.arange(n) % 10).astype(np.uint8),
        origin=np.array(["train"] * (n - 2) + ["test"] * 2),
        index=np.arange(n, dtype=np.int32),
        metadata={"source": "test"},
    )
    write_parquet(path, digits)
    return path.read_bytes()


def _valid_npz(path: Path) -> bytes:
    save_npz(path, {"W1": np.arange(12, dtype=np.float32).reshape(3, 4), "b1": np.zeros(4)})
    return path.read_bytes()


@pytest.fixture(scope="module")
def parquet_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _valid_parquet(tmp_path_factory.mktemp("pq") / "mnist.parquet")


@pytest.fixture(scope="module")
def npz_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _valid_npz(tmp_path_factory.mktemp("npz") / "model.npz")


def _damaged(original: bytes, data: st.DataObject) -> bytes:
    """``original`` with one to eight bytes overwritten at positions hypothesis picks."""
    damaged = bytearray(original)
    positions = data.draw(st.lists(st.integers(0, len(damaged) - 1), min_size=1, max_size=8))
    for pos in positions:
        damaged[pos] = data.draw(st.integers(0, 255))
    return bytes(damaged)


def _read_parquet_or_data_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        digits = read_parquet(path)
    except DataError as exc:
        assert exc.path == str(path) and str(exc).startswith(f"{path}: ")
    else:  # whatever survived is well-formed
        assert digits.pixels.shape == (len(digits), 784)
        assert digits.labels.max() <= 9


def _load_npz_or_data_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        arrays = load_npz(path, {"W1": "weights"})
    except DataError as exc:
        assert exc.path == str(path) and str(exc).startswith(f"{path}: ")
    else:
        assert "W1" in arrays


@FILES
@given(data=st.binary(max_size=2000))
def test_parquet_reader_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    _read_parquet_or_data_error(tmp_path / "mnist.parquet", data)


@FILES
@given(data=st.binary(max_size=200))
def test_parquet_reader_on_random_bytes_with_parquet_magic(tmp_path: Path, data: bytes) -> None:
    # "PAR1" at both ends gets past the first check, into the footer parsing
    _read_parquet_or_data_error(tmp_path / "mnist.parquet", b"PAR1" + data + b"PAR1")


@FILES
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_parquet_reader_on_truncations(tmp_path: Path, parquet_bytes: bytes, fraction: float) -> None:
    path = tmp_path / "mnist.parquet"
    path.write_bytes(parquet_bytes[: int(len(parquet_bytes) * fraction)])
    with pytest.raises(DataError, match=f"^{path}: ") as info:
        read_parquet(path)
    assert info.value.path == str(path)


@FILES
@given(st.data())
def test_parquet_reader_on_corrupted_bytes(tmp_path: Path, parquet_bytes: bytes, data: st.DataObject) -> None:
    _read_parquet_or_data_error(tmp_path / "mnist.parquet", _damaged(parquet_bytes, data))


@FILES
@given(data=st.binary(max_size=2000))
def test_npz_reader_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    _load_npz_or_data_error(tmp_path / "model.npz", data)


@FILES
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_npz_reader_on_truncations(tmp_path: Path, npz_bytes: bytes, fraction: float) -> None:
    path = tmp_path / "model.npz"
    path.write_bytes(npz_bytes[: int(len(npz_bytes) * fraction)])
    with pytest.raises(DataError, match=f"^{path}: ") as info:
        load_npz(path, {"W1": "weights"})
    assert info.value.path == str(path)


@FILES
@given(st.data())
def test_npz_reader_on_corrupted_bytes(tmp_path: Path, npz_bytes: bytes, data: st.DataObject) -> None:
    _load_npz_or_data_error(tmp_path / "model.npz", _damaged(npz_bytes, data))


@settings(max_examples=60, deadline=None)
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(0, 6), st.just(784)),
                 elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
    labels=hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(-3, 13)),
)
def test_split_check_accepts_only_well_formed_arrays(X: np.ndarray, labels: np.ndarray) -> None:
    n = min(len(X), len(labels))
    X, labels = X[:n], labels[:n]
    Y = np.zeros((n, 10))
    ok_labels = (labels >= 0) & (labels <= 9)
    Y[np.arange(n)[ok_labels], labels[ok_labels]] = 1
    arrays = {"X_train": X, "Y_train": Y, "y_train": labels}
    valid = n > 0 and bool(np.all((X >= 0) & (X <= 1))) and bool(ok_labels.all())
    if valid:
        check_split(arrays, "split.npz")
    else:
        with pytest.raises(DataError, match=r"^split.npz: ") as info:
            check_split(arrays, "split.npz")
        assert info.value.path == "split.npz"


# --- the network --------------------------------------------------------------------------------

shapes = st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 6), st.integers(2, 5))


def _problem(
    shape: tuple[int, int, int, int], seed: int, scale: float
) -> tuple[network.Params, np.ndarray, np.ndarray]:
    n, d, h, k = shape
    rng = np.random.default_rng(seed)
    params = network.init_params(d, h, k, rng, "float64", scale)
    params["b1"] += rng.normal(0, scale, h)  # non-zero biases, so they are tested too
    params["b2"] += rng.normal(0, scale, k)
    X = rng.normal(0, 1, (n, d))  # (n, D)
    Y = np.eye(k)[rng.integers(0, k, n)]  # (n, K) one-hot
    return params, X, Y


@settings(max_examples=100, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 30))
def test_softmax_rows_sum_to_one_and_loss_is_finite(
    shape: tuple[int, int, int, int], seed: int, scale: float
) -> None:
    params, X, Y = _problem(shape, seed, scale)
    _, P = network.forward(params, X)
    assert np.all(np.isfinite(P)) and np.all(P >= 0) and np.all(P <= 1)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    value = network.loss(P, Y)
    assert np.isfinite(value) and value >= 0


@settings(max_examples=60, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), scale=st.floats(0.1, 2))
def test_gradients_match_finite_differences(
    shape: tuple[int, int, int, int], seed: int, scale: float
) -> None:
    params, X, Y = _problem(shape, seed, scale)
    A1, P = network.forward(params, X)
    # not on relu's kink, where the derivative is not defined
    assume(not np.any(np.abs(X @ params["W1"] + params["b1"]) < 1e-4))
    assume(np.min(P[Y == 1]) >= 1e-8)  # nor near loss's clip at eps, where the clipped loss is flat
    grads = network.backward(params, X, Y, A1.copy(), P.copy())
    step = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            old = value[i]
            value[i] = old + step
            up = network.loss(network.forward(params, X)[1], Y)
            value[i] = old - step
            down = network.loss(network.forward(params, X)[1], Y)
            value[i] = old
            numeric[i] = (up - down) / (2 * step)
        np.testing.assert_allclose(grads[f"d{name}"], numeric, rtol=1e-4, atol=1e-7, err_msg=name)


# --- IDX reader: whatever the bytes of a file, a DataError naming the file or a well-formed array ---

_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


def _valid_idx(name: str) -> bytes:
    rng = np.random.default_rng(1)
    if "images" in name:
        array = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    else:
        array = rng.integers(0, 10, 5, dtype=np.uint8)
    return struct.pack(f">I{array.ndim}I", 0x0800 + array.ndim, *array.shape) + array.tobytes()


def _read_idx_or_data_error(folder: Path, name: str, stored: bytes, gz: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (f"{name}.gz" if gz else name)
    path.write_bytes(stored)
    try:
        found = read_idx(folder, name)
    except DataError as exc:
        assert str(path) in str(exc)
    else:  # whatever survived is a well-formed IDX array
        if "images" in name:
            assert found.array.shape[1:] == (28, 28)
        else:
            assert found.array.ndim == 1 and (found.array.size == 0 or found.array.max() <= 9)
    finally:
        path.unlink()


@FILES
@given(name=st.sampled_from(_IDX_FILES), data=st.binary(max_size=3000), gz=st.booleans())
def test_idx_reader_on_random_bytes(tmp_path: Path, name: str, data: bytes, gz: bool) -> None:
    _read_idx_or_data_error(tmp_path / "idx", name, data, gz)


@FILES
@given(name=st.sampled_from(_IDX_FILES), data=st.binary(max_size=300))
def test_idx_reader_on_random_bytes_with_gzip_magic(tmp_path: Path, name: str, data: bytes) -> None:
    _read_idx_or_data_error(tmp_path / "idx", name, b"\x1f\x8b" + data, gz=True)


@FILES
@given(name=st.sampled_from(_IDX_FILES), fraction=st.floats(0, 1, exclude_max=True), gz=st.booleans())
def test_idx_reader_on_truncations(tmp_path: Path, name: str, fraction: float, gz: bool) -> None:
    content = _valid_idx(name)
    stored = gzip.compress(content, mtime=0) if gz else content
    folder = tmp_path / "idx"
    folder.mkdir(exist_ok=True)
    path = folder / (f"{name}.gz" if gz else name)
    path.write_bytes(stored[: int(len(stored) * fraction)])
    with pytest.raises(DataError, match=str(path)):
        read_idx(folder, name)
    path.unlink()


@FILES
@given(name=st.sampled_from(_IDX_FILES), gz=st.booleans(), data=st.data())
def test_idx_reader_on_corrupted_bytes(tmp_path: Path, name: str, gz: bool, data: st.DataObject) -> None:
    content = _valid_idx(name)
    stored = gzip.compress(content, mtime=0) if gz else content
    _read_idx_or_data_error(tmp_path / "idx", name, _damaged(stored, data), gz)


# --- JSON and the training log: bounded whatever the text ------------------------------------------

# JSON-like text: brackets, nesting, strings, and numbers of every size and spelling
_JSON_TOKENS = st.sampled_from(['[', ']', '{', '}', '"a":', '"[{"', ',', '1', '-0', '1e400', '1e-400',
                                'NaN', '-Infinity', '9' * 5000, '0.5', 'null', 'true', '\\', '"'])


@FILES
@given(tokens=st.lists(_JSON_TOKENS, max_size=300), depth=st.integers(0, 3000))
def test_json_reader_on_random_json_like_text(tmp_path: Path, tokens: list[str], depth: int) -> None:
    path = tmp_path / "metrics.json"
    path.write_text("[" * depth + "".join(tokens) + "]" * depth)
    try:
        read_json(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)


_CELLS = st.sampled_from(["1", "2", "0.5", "-1e308", "1e308", "nan", "inf", "-0", "", "x", "9" * 400,
                          "1.5", "0"])


@FILES
@given(rows=st.lists(st.lists(_CELLS, min_size=3, max_size=4), max_size=5))
def test_training_log_reader_on_random_cells(tmp_path: Path, rows: list[list[str]]) -> None:
    path = tmp_path / "training_log.csv"
    path.write_text("epoch,loss,train_accuracy\n" + "".join(",".join(r) + "\n" for r in rows))
    try:
        columns = read_history(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
    else:  # what the report draws: finite, epochs 1..n, accuracies within [0, 1]
        assert all(np.isfinite(c).all() for c in columns.values())
        assert list(columns["epoch"]) == list(range(1, len(rows) + 1))
        assert ((columns["train_accuracy"] >= 0) & (columns["train_accuracy"] <= 1)).all()
