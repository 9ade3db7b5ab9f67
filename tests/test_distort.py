"""Distortions: each transform on its own and together (shape, range, identity when off, the same
bytes from the same seed, the centre of mass kept), the maths against scipy, the examples file, and
the epochs prepared in a background thread."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from mnistflow.plumbing.errors import DataError
from mnistflow.plumbing.npz_files import save_npz
from mnistflow.training import prefetch as _prefetch
from mnistflow.training.distort import (
    CHUNK_ROWS,
    Distortions,
    Work,
    affine_parameters,
    bilinear,
    distort_rows,
    distortion_rng,
    elastic_fields,
    gaussian_matrix,
    sampling_matrices,
    sampling_points,
)
from mnistflow.training.distortion_examples import PER_DIGIT, load_examples, make_examples, save_examples
from mnistflow.training.prefetch import DistortedEpochs

SIDE = 28
SIMARD = Distortions(elastic_alpha=34.0, elastic_sigma=4.0, rotation=10.0, scale=0.1, shear=0.1)
# each transform alone, at the frontier preset's strength, and all together
ALONE = {
    "elastic": Distortions(elastic_alpha=34.0, elastic_sigma=4.0),
    "rotation": Distortions(rotation=10.0),
    "scale": Distortions(scale=0.1),
    "shear": Distortions(shear=0.1),
    "all": SIMARD,
}


def _rings(n: int, side: int = SIDE, seed: int = 0) -> np.ndarray:
    """n digit-like images (n, side*side) in [0, 1]: ellipses of random size, slant and stroke
    width around the centre (side/2, side/2), ink 1 in the stroke, 0 far from it, grey between."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] - side / 2  # (side, side) each
    a, b, t = rng.uniform(0.2, 0.3, n) * side, rng.uniform(0.1, 0.2, n) * side, rng.uniform(-0.5, 0.5, n)
    u = (y[None] * np.cos(t)[:, None, None] + x[None] * np.sin(t)[:, None, None]) / a[:, None, None]
    v = (x[None] * np.cos(t)[:, None, None] - y[None] * np.sin(t)[:, None, None]) / b[:, None, None]
    r = np.sqrt(u**2 + v**2)  # (n, side, side): 1 on the ellipse
    width = rng.uniform(0.15, 0.3, n)[:, None, None]
    return np.clip(1.5 - np.abs(r - 1) / width, 0, 1).reshape(n, -1).astype(np.float32)


def _centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(n, 2) centre of mass (y, x) of (n, side*side) images."""
    side = int(np.sqrt(images.shape[1]))
    grid = np.stack(np.mgrid[0:side, 0:side], axis=-1).reshape(-1, 2)  # (side*side, 2)
    return (images @ grid) / images.sum(axis=1, keepdims=True)


def _distort(X: np.ndarray, d: Distortions, seed: int = 0, epoch: int = 1) -> np.ndarray:
    return distort_rows(X, np.arange(len(X)), d, distortion_rng(seed, epoch), np.empty_like(X))


# --- each transform ---------------------------------------------------------------------------


@pytest.mark.parametrize("d", ALONE.values(), ids=ALONE.keys())
def test_each_transform_keeps_the_shape_and_the_range_0_to_1(d: Distortions) -> None:
    X = _rings(2 * CHUNK_ROWS + 7)  # two whole chunks and a short one
    out = _distort(X, d)
    assert out.shape == X.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.array_equal(out, X)  # it did something
    assert abs(out.sum() / X.sum() - 1) < 0.1  # and kept the ink, give or take the size changes


@pytest.mark.parametrize(
    "d",
    [Distortions(), Distortions(elastic_alpha=0.0, elastic_sigma=9.0, rotation=0.0, scale=0.0, shear=0.0)],
    ids=["defaults", "sigma-without-alpha"],
)
def test_with_every_transform_off_the_rows_are_copied_and_nothing_is_drawn(d: Distortions) -> None:
    X = _rings(20)
    rng = distortion_rng(0, 1)
    state = rng.bit_generator.state
    rows = np.array([3, 0, 19, 3])
    out = distort_rows(X, rows, d, rng, np.empty((4, X.shape[1]), np.float32))
    assert out.tobytes() == X[rows].tobytes()
    assert rng.bit_generator.state == state
    assert not d.on and d.describe() == "none"


@pytest.mark.parametrize("side", [28, 9], ids=["28x28", "9x9"])
def test_the_identity_map_samples_every_pixel_exactly(side: int) -> None:
    m = 5
    images = np.random.default_rng(0).random((m, side, side), dtype=np.float32)
    points = np.zeros((2, side, m, side), np.float32)  # no elastic displacement
    sampling_points(sampling_matrices(*affine_parameters(m, Distortions(), distortion_rng(0, 1))), points)
    out = bilinear(images, points, np.empty_like(images), Work.allocate(m, side))
    assert out.tobytes() == images.tobytes()


@pytest.mark.parametrize("off", ["rotation", "scale", "shear"])
def test_an_affine_transform_that_is_off_is_the_identity_and_draws_nothing(off: str) -> None:
    d = replace(SIMARD, **{off: 0.0})
    rng = np.random.default_rng(1)
    theta, factor, shear = affine_parameters(50, d, rng)
    identity = {"rotation": (theta, 0.0), "scale": (factor, 1.0), "shear": (shear, 0.0)}
    values, neutral = identity.pop(off)
    assert np.all(values == neutral)
    for drawn, neutral in identity.values():
        assert np.all(drawn != neutral)
    two_drawn = np.random.default_rng(1)
    two_drawn.uniform(size=2 * 50)  # the other two transforms' draws, and no more
    assert rng.bit_generator.state == two_drawn.bit_generator.state
    M = sampling_matrices(np.zeros(3), np.ones(3), np.zeros(3))
    assert np.array_equal(M, np.tile(np.eye(2, dtype=np.float32), (3, 1, 1)))


@pytest.mark.parametrize("d", ALONE.values(), ids=ALONE.keys())
def test_the_same_seed_and_epoch_give_the_same_bytes(d: Distortions) -> None:
    X = _rings(300)
    first = _distort(X, d, seed=7, epoch=3)
    assert _distort(X, d, seed=7, epoch=3).tobytes() == first.tobytes()
    assert not np.array_equal(_distort(X, d, seed=7, epoch=4), first)
    assert not np.array_equal(_distort(X, d, seed=8, epoch=3), first)


def test_rows_distorted_in_pieces_of_whole_chunks_are_those_of_one_call() -> None:
    X = _rings(3 * CHUNK_ROWS + 5)
    rows = np.arange(len(X))
    whole = _distort(X, SIMARD)
    rng, pieces = distortion_rng(0, 1), np.empty_like(X)
    for start, stop in [(0, CHUNK_ROWS), (CHUNK_ROWS, 3 * CHUNK_ROWS), (3 * CHUNK_ROWS, len(X))]:
        distort_rows(X, rows[start:stop], SIMARD, rng, pieces[start:stop])
    assert pieces.tobytes() == whole.tobytes()


@pytest.mark.parametrize(
    ("d", "mean", "most"),
    [(ALONE["elastic"], 1.5, 3.5), (ALONE["rotation"], 0.05, 0.1), (ALONE["scale"], 0.05, 0.1),
     (ALONE["shear"], 0.05, 0.1), (SIMARD, 1.5, 3.5)],
    ids=ALONE.keys(),
)
def test_a_distorted_digit_keeps_its_centre_of_mass_within_a_pixel_or_two(
    d: Distortions, mean: float, most: float
) -> None:
    X = _rings(1000)
    np.testing.assert_allclose(_centre_of_mass(X), SIDE / 2, atol=1e-3)  # centred, as MNIST's
    moved = np.hypot(*(_centre_of_mass(_distort(X, d)) - SIDE / 2).T)  # (n,) pixels
    # the affine maps turn, resize and shear about the centre, which stays; the elastic field moves
    # the whole digit by its mean displacement over the ink: 1.2 pixels on average with Simard's
    # alpha and sigma, under 3 pixels for 99 digits in 100
    assert moved.mean() < mean
    assert np.percentile(moved, 99) < most


# --- the maths --------------------------------------------------------------------------------


@pytest.mark.parametrize(("side", "sigma"), [(28, 4.0), (9, 1.3), (28, 0.3), (10, 20.0)],
                         ids=["simard", "small", "narrow", "wider-than-the-frame"])
def test_the_gaussian_matrix_smooths_as_scipy_with_zeros_outside(side: int, sigma: float) -> None:
    v = np.random.default_rng(0).random((side, 3))
    expected = ndimage.gaussian_filter1d(v, sigma, axis=0, mode="constant")
    np.testing.assert_allclose(gaussian_matrix(side, sigma) @ v, expected, atol=1e-7)


def test_elastic_fields_are_uniform_noise_smoothed_along_y_and_x_and_scaled() -> None:
    m, side = 6, 28
    out = elastic_fields(34.0, 4.0, np.random.default_rng(5), np.empty((2, side, m, side), np.float32),
                         Work.allocate(m, side))
    noise = np.random.default_rng(5).integers(-(2**15), 2**15, (2, side, m, side), dtype=np.int16) / 2**15
    assert noise.min() >= -1 and noise.max() < 1
    expected = 34 * ndimage.gaussian_filter(noise, sigma=(0, 4, 0, 4), mode="constant")  # over y and x
    np.testing.assert_allclose(out, expected, atol=1e-4)
    m = 500
    out = elastic_fields(34.0, 4.0, np.random.default_rng(5), np.empty((2, side, m, side), np.float32),
                         Work.allocate(m, side))
    assert 1.25 < out[:, 14, :, 14].std() < 1.5  # 1.38 pixels in the middle, in theory


def test_bilinear_interpolation_is_scipys_with_zeros_outside() -> None:
    m, side = 7, 28
    rng = np.random.default_rng(1)
    images = rng.random((m, side, side), dtype=np.float32)
    points = rng.uniform(-4, side + 4, (2, side, m, side)).astype(np.float32)  # some far outside
    out = bilinear(images, points.copy(), np.empty_like(images), Work.allocate(m, side))
    expected = [ndimage.map_coordinates(images[i], points[:, :, i, :], order=1, mode="grid-constant")
                for i in range(m)]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def _moments(image: np.ndarray) -> np.ndarray:
    """(2, 2) covariance of the ink of a (side, side) image, over (y, x)."""
    yx = np.stack(np.mgrid[0 : image.shape[0], 0 : image.shape[1]], axis=-1).reshape(-1, 2)
    w = image.reshape(-1) / image.sum()
    d = yx - w @ yx
    return (d * w[:, None]).T @ d


@pytest.mark.parametrize(
    ("theta", "factor", "shear"),
    [(np.pi / 6, 1.0, 0.0), (0.0, 1.2, 0.0), (0.0, 1.0, 0.3), (-0.2, 0.9, -0.2)],
    ids=["rotation-30-deg", "scale-1.2", "shear-0.3", "all"],
)
def test_the_affine_map_moves_ink_as_its_matrix_says(theta: float, factor: float, shear: float) -> None:
    # an elongated blob, long along x: its ink's covariance becomes A C A^T, A = f R(theta) H(h)
    side, c = 48, 24
    y, x = np.mgrid[0:side, 0:side] - c
    blob = np.exp(-0.5 * (y**2 / 2.0**2 + x**2 / 6.0**2)).astype(np.float32)[None]  # (1, side, side)
    points = np.zeros((2, side, 1, side), np.float32)
    sampling_points(sampling_matrices(np.array([theta]), np.array([factor]), np.array([shear])), points)
    out = bilinear(blob, points, np.empty_like(blob), Work.allocate(1, side))[0]
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    A = factor * R @ np.array([[1, 0], [shear, 1]])
    expected = A @ _moments(blob[0]) @ A.T
    # linear interpolation blurs a little: up to 1/4 pixel^2 more variance along each axis
    np.testing.assert_allclose(_moments(out), expected, rtol=0.02, atol=0.25)
    if theta > 0 and shear == 0:  # turned anticlockwise on screen (y down): the right end goes up
        assert _moments(out)[0, 1] < 0


# --- the examples in the report -----------------------------------------------------------------


def test_examples_are_the_first_digit_of_each_class_and_distortions_of_it(tmp_path: Path) -> None:
    X = _rings(40)
    labels = np.arange(40) % 4
    examples = make_examples(X, labels, SIMARD, seed=3)
    assert examples.digits.shape == (4, X.shape[1]) and list(examples.labels) == [0, 1, 2, 3]
    np.testing.assert_array_equal(examples.digits, X[:4])
    assert examples.distorted.shape == (4, PER_DIGIT, X.shape[1])
    assert len({d.tobytes() for d in examples.distorted.reshape(-1, X.shape[1])}) == 4 * PER_DIGIT
    assert examples.settings == "elastic (alpha 34, sigma 4), rotation +-10 deg, scale 1 +- 0.1, shear +-0.1"
    save_examples(tmp_path / "d.npz", examples)
    loaded = load_examples(tmp_path / "d.npz")
    for a, b in zip(loaded, examples, strict=True):
        np.testing.assert_array_equal(a, b)
    save_examples(tmp_path / "again.npz", make_examples(X, labels, SIMARD, seed=3))
    assert (tmp_path / "again.npz").read_bytes() == (tmp_path / "d.npz").read_bytes()
    off = make_examples(X, labels, Distortions(), seed=3)
    assert off.distorted.shape == (4, 0, X.shape[1]) and off.settings == "none"


def test_examples_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    save_npz(path, {"digits": np.zeros((3, 784), np.float32), "distorted": np.zeros((2, 5, 784), np.float32),
                    "labels": np.arange(3), "settings": np.array("none")})
    with pytest.raises(DataError, match=r"d\.npz: arrays do not fit together \(digits float32 \(3, 784\)"):
        load_examples(path)


# --- epochs prepared in the background ------------------------------------------------------------


def _slowed(delay: float, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the background thread's distortions take ``delay`` seconds more per slab; returns the
    names of the threads that distorted."""
    threads: list[str] = []

    def slow(*args: object, **kwargs: object) -> np.ndarray:
        threads.append(threading.current_thread().name)
        time.sleep(delay)
        return distort_rows(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_prefetch, "distort_rows", slow)
    return threads


@pytest.mark.parametrize("delay", [0.0, 0.05], ids=["as-fast-as-it-goes", "slowed"])
def test_each_epoch_is_its_rows_distorted_by_the_epochs_own_generator(
    delay: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    X = _rings(500)
    rows = np.arange(3, 500, 2)
    threads = _slowed(delay, monkeypatch)
    with DistortedEpochs(X, rows, SIMARD, seed=5, epochs=3) as epochs:
        for epoch in (1, 2, 3):
            expected = distort_rows(X, rows, SIMARD, distortion_rng(5, epoch), np.empty((len(rows), 784),
                                                                                     np.float32))
            assert epochs.rows(epoch).tobytes() == expected.tobytes(), epoch
    assert threads and all(name.startswith("distort") for name in threads)


def test_epochs_are_asked_for_in_order() -> None:
    X = _rings(10)
    with DistortedEpochs(X, np.arange(10), SIMARD, seed=0, epochs=3) as epochs, \
            pytest.raises(ValueError, match="epoch 2 asked for, but epoch 1 is the next one"):
        epochs.rows(2)


def test_leaving_early_does_not_wait_for_the_epoch_in_the_making(monkeypatch: pytest.MonkeyPatch) -> None:
    X = _rings(12 * _prefetch.SLAB_ROWS, side=6)  # 12 slabs of 0.1 s each: 1.2 s an epoch
    _slowed(0.1, monkeypatch)
    start = time.perf_counter()
    with DistortedEpochs(X, np.arange(len(X)), SIMARD, seed=0, epochs=2):
        time.sleep(0.05)
    assert time.perf_counter() - start < 0.6


def test_an_error_in_the_background_is_raised_by_the_epoch_that_needs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*args: object, **kwargs: object) -> np.ndarray:
        raise MemoryError("no room")

    monkeypatch.setattr(_prefetch, "distort_rows", fail)
    with DistortedEpochs(_rings(10), np.arange(10), SIMARD, seed=0, epochs=2) as epochs, \
            pytest.raises(MemoryError, match="no room"):
        epochs.rows(1)
