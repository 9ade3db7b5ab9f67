"""The network's maths on small arrays: shapes, softmax, loss, exact gradients, one descent step."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnistflow.training import network


def _toy(
    n: int = 7, d: int = 5, h: int = 4, k: int = 3, dtype: str = "float64", seed: int = 0
) -> tuple[network.Params, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = network.init_params(d, h, k, rng, dtype, scale=0.5)
    params["b1"] += rng.standard_normal(h) * 0.1  # non-zero biases exercise db1/db2 too
    params["b2"] += rng.standard_normal(k) * 0.1
    X = rng.standard_normal((n, d)).astype(dtype)
    Y = np.eye(k, dtype=dtype)[rng.integers(0, k, n)]
    return params, X, Y


def test_shapes() -> None:
    params, X, Y = _toy()
    A1, P = network.forward(params, X)
    assert A1.shape == (7, 4) and P.shape == (7, 3)
    grads = network.backward(params, X, Y, A1, P.copy())
    for name, value in params.items():
        assert grads[f"d{name}"].shape == value.shape
    assert network.predict(params, X).shape == (7,)


def test_init_is_seed_recipe() -> None:
    params = network.init_params(784, 256, 10, np.random.default_rng(0), "float32")
    assert params["W1"].dtype == np.float32 and params["W1"].shape == (784, 256)
    assert abs(float(params["W1"].std()) - 0.01) < 0.001
    assert not params["b1"].any() and not params["b2"].any()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_rows_sum_to_one_even_for_huge_logits(dtype: str) -> None:
    Z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=dtype)
    P = network.inplace_softmax(Z)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(P[2], 1 / 3, rtol=1e-6)


def test_loss_hand_computed() -> None:
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    expected = -(math.log(0.7) + math.log(0.8)) / 2
    assert network.loss(P, Y) == pytest.approx(expected, rel=1e-12)


def test_loss_is_finite_when_a_probability_is_zero() -> None:
    P = np.array([[0.0, 1.0]])
    Y = np.array([[1.0, 0.0]])
    assert math.isfinite(network.loss(P, Y)) and network.loss(P, Y) > 30


def _loss_of(
    params: network.Params, X: np.ndarray, Y: np.ndarray, l2: float, dropout: float
) -> float:
    """The training loss as a function of the parameters; with dropout, the same mask every call."""
    A1 = network.hidden(params, X)
    if dropout:
        kept = network.dropout_mask(A1.shape, dropout, np.random.default_rng(123))
        network.inplace_dropout(A1, dropout, kept)
    return network.loss(network.output(params, A1), Y, params, l2)


def _numerical_gradient(
    params: network.Params, X: np.ndarray, Y: np.ndarray, name: str, h: float = 1e-6,
    l2: float = 0.0, dropout: float = 0.0,
) -> np.ndarray:
    grad = np.zeros_like(params[name])
    for i in np.ndindex(grad.shape):
        old = params[name][i]
        params[name][i] = old + h
        plus = _loss_of(params, X, Y, l2, dropout)
        params[name][i] = old - h
        minus = _loss_of(params, X, Y, l2, dropout)
        params[name][i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def _analytic_gradient(
    params: network.Params, X: np.ndarray, Y: np.ndarray, name: str, l2: float, dropout: float
) -> np.ndarray:
    A1 = network.hidden(params, X)
    if dropout:
        kept = network.dropout_mask(A1.shape, dropout, np.random.default_rng(123))
        network.inplace_dropout(A1, dropout, kept)
    P = network.output(params, A1)
    return network.backward(params, X, Y, A1, P, l2=l2, dropout=dropout)[f"d{name}"]


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
@pytest.mark.parametrize(
    ("l2", "dropout"), [(0.0, 0.0), (0.05, 0.0), (0.0, 0.3)], ids=["plain", "l2", "dropout"]
)
def test_gradients_match_finite_differences(name: str, l2: float, dropout: float) -> None:
    params, X, Y = _toy()
    analytic = _analytic_gradient(params, X, Y, name, l2, dropout)
    numeric = _numerical_gradient(params, X, Y, name, l2=l2, dropout=dropout)
    rel = np.linalg.norm(analytic - numeric) / max(
        np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12
    )
    assert rel < 1e-6, f"relative error {rel:.2e} for d{name}"


def test_l2_adds_half_squared_weights_to_the_loss() -> None:
    params, X, Y = _toy()
    P = network.forward(params, X)[1]
    squares = float(np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))  # biases not penalised
    assert network.loss(P, Y, params, 0.1) == pytest.approx(network.loss(P, Y) + 0.05 * squares)


def test_buffers_give_the_same_numbers_as_fresh_arrays() -> None:
    params, X, _ = _toy()
    A1, P = network.forward(params, X)
    out = (np.full_like(A1, np.nan), np.full_like(P, np.nan))
    A1b, Pb = network.forward(params, X, out=out)
    assert A1b is out[0] and Pb is out[1]
    np.testing.assert_array_equal(A1b, A1)
    np.testing.assert_array_equal(Pb, P)


def test_relu_with_a_mask_writes_its_derivative() -> None:
    Z = np.array([[-2.0, 0.0, 3.0], [1.5, -0.5, 0.25]])
    mask = np.empty(Z.shape, bool)
    A = network.inplace_relu(Z.copy(), mask)
    np.testing.assert_array_equal(mask, Z > 0)
    np.testing.assert_array_equal(A, np.maximum(Z, 0))


def test_he_init_scales_by_fan_in() -> None:
    params = network.init_params(784, 256, 10, np.random.default_rng(0), "float32", init="he")
    assert float(params["W1"].std()) == pytest.approx(math.sqrt(2 / 784), rel=0.02)
    assert float(params["W2"].std()) == pytest.approx(math.sqrt(2 / 256), rel=0.1)
    assert not params["b1"].any() and not params["b2"].any()


def test_inplace_dropout_drops_the_rate_and_keeps_the_mean() -> None:
    A = np.ones((400, 250), dtype=np.float32)
    kept = network.dropout_mask(A.shape, 0.25, np.random.default_rng(0))
    network.inplace_dropout(A, 0.25, kept)
    assert np.mean(A == 0) == pytest.approx(0.25, abs=0.01)
    np.testing.assert_allclose(A[A != 0], 1 / 0.75)
    assert float(A.mean()) == pytest.approx(1.0, abs=0.02)


def test_one_gradient_step_lowers_the_loss() -> None:
    params, X, Y = _toy()
    A1, P = network.forward(params, X)
    before = network.loss(P, Y)
    grads = network.backward(params, X, Y, A1, P)
    for name in params:
        params[name] -= 0.1 * grads[f"d{name}"]
    assert network.loss(network.forward(params, X)[1], Y) < before


def test_predict_is_argmax_of_forward() -> None:
    params, X, _ = _toy(n=50)
    np.testing.assert_array_equal(
        network.predict(params, X), np.argmax(network.forward(params, X)[1], axis=1)
    )
    np.testing.assert_array_equal(network.predict(params, X, batch=7), network.predict(params, X))
