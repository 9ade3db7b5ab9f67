"""The two-layer network, in vectorised NumPy: 784 inputs -> H ReLU units -> 10 softmax outputs.

    Z1 = X W1 + b1        (n, H)
    A1 = relu(Z1) * M     (n, H)    M: inverted-dropout mask (0 or 1/keep), all ones when not training
    Z2 = A1 W2 + b2       (n, 10)
    P  = softmax(Z2)      (n, 10)   rows sum to 1
    L  = -1/n sum(Y * log P) + l2/2 (|W1|^2 + |W2|^2)    cross-entropy plus an optional L2 penalty

With a softmax output and cross-entropy loss the output delta is simply ``(P - Y) / n``; everything
else is the chain rule. Parameters are a plain dict of arrays; functions never keep state.
Activations are computed in place (scikit-learn's ``inplace_*`` style), and every function that
makes an (n, H) or (n, K) array can write it into a caller's buffer instead (``out=``), so the
training loop allocates its big arrays once, not once per epoch (a fresh 57 MB array costs page
faults on every touch).

Initialisations: ``small`` is the seed's ``randn * 0.01``; ``he`` is ``randn * sqrt(2 / fan_in)``
(He et al. 2015, "Delving deep into rectifiers"), biases zero in both.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

__all__ = [
    "INITS",
    "Grads",
    "Params",
    "backward",
    "dropout_mask",
    "forward",
    "hidden",
    "init_params",
    "inplace_dropout",
    "inplace_relu",
    "inplace_softmax",
    "loss",
    "output",
    "predict",
]

Params: TypeAlias = dict[str, np.ndarray]  # W1 (D, H), b1 (H,), W2 (H, K), b2 (K,)
Grads: TypeAlias = dict[str, np.ndarray]  # dW1, db1, dW2, db2: same shapes as the parameters

INITS = ("small", "he")


def init_params(
    n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator, dtype: str = "float32",
    scale: float = 0.01, init: str = "small",
) -> Params:
    """Weights ``randn * scale`` (init ``small``) or ``randn * sqrt(2 / fan_in)`` (``he``); biases zero."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
    scale1, scale2 = (scale, scale) if init == "small" else (np.sqrt(2 / n_in), np.sqrt(2 / n_hidden))
    return {
        "W1": (rng.standard_normal((n_in, n_hidden)) * scale1).astype(dtype),  # (D, H)
        "b1": np.zeros(n_hidden, dtype=dtype),  # (H,)
        "W2": (rng.standard_normal((n_hidden, n_out)) * scale2).astype(dtype),  # (H, K)
        "b2": np.zeros(n_out, dtype=dtype),  # (K,)
    }


def inplace_relu(Z: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """relu(Z) = max(Z, 0), written into Z.

    With ``mask``, a bool buffer of Z's shape, relu'(Z) = Z > 0 is written into it and Z becomes
    Z * (Z > 0) (the same values, -0.0 for negatives): faster than max(Z, 0), and backprop can use
    the mask."""
    if mask is None:
        np.maximum(Z, 0, out=Z)
    else:
        np.greater(Z, 0, out=mask)
        np.multiply(Z, mask, out=Z)
    return Z


def inplace_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax written into Z; subtracting the row max first keeps exp() from overflowing."""
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def dropout_mask(shape: tuple[int, ...], rate: float, rng: np.random.Generator) -> np.ndarray:
    """Bool mask of the units to keep: each True with probability 1 - rate."""
    kept: np.ndarray = rng.random(shape, dtype=np.float32) >= rate
    return kept


def inplace_dropout(A: np.ndarray, rate: float, kept: np.ndarray) -> np.ndarray:
    """Inverted dropout written into A: units outside ``kept`` (see :func:`dropout_mask`) become 0,
    the others are divided by 1 - rate.

    Scaling at training time keeps the expected activation unchanged, so prediction needs no change.
    """
    np.multiply(A, kept, out=A)
    A *= A.dtype.type(1.0 / (1.0 - rate))
    return A


def hidden(params: Params, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A1 = relu(X W1 + b1), (n, H); written into ``out`` when given."""
    A1 = np.matmul(X, params["W1"], out=out)  # (n, H) = Z1 before the bias
    A1 += params["b1"]
    return inplace_relu(A1)


def output(params: Params, A1: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """P = softmax(A1 W2 + b2), (n, K); written into ``out`` when given."""
    P = np.matmul(A1, params["W2"], out=out)  # (n, K) = Z2 before the bias
    P += params["b2"]
    return inplace_softmax(P)


def forward(
    params: Params, X: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hidden activations A1 (n, H) and class probabilities P (n, K) for inputs X (n, D)."""
    A1 = hidden(params, X, None if out is None else out[0])
    return A1, output(params, A1, None if out is None else out[1])


def loss(P: np.ndarray, Y: np.ndarray, params: Params | None = None, l2: float = 0.0) -> float:
    """Mean cross-entropy -1/n sum(Y log P) (P clipped to [eps, 1] so log never sees 0), plus
    ``l2 / 2 * (|W1|^2 + |W2|^2)`` when ``l2 > 0`` (biases are not penalised)."""
    eps = np.finfo(P.dtype).eps
    value = float(-np.sum(Y * np.log(np.clip(P, eps, 1.0))) / P.shape[0])
    if l2 and params is not None:
        value += 0.5 * l2 * sum(float(np.vdot(params[w], params[w])) for w in ("W1", "W2"))
    return value


def backward(
    params: Params, X: np.ndarray, Y: np.ndarray, A1: np.ndarray, P: np.ndarray, *,
    l2: float = 0.0, dropout: float = 0.0,
) -> Grads:
    """Gradients of :func:`loss` with respect to every parameter, from one forward pass on X (n, D).

    Both ``P`` and ``A1`` are overwritten: P becomes the output delta dL/dZ2 and A1 the hidden delta
    dL/dZ1, so a step needs no (n, H) array besides A1.

    With ``dropout`` (the rate :func:`inplace_dropout` used), A1 is the dropped activation
    relu(Z1) * M, M in {0, 1/keep}: its derivative by Z1 is 1/keep exactly where A1 > 0, else 0.
    """
    n = X.shape[0]
    dZ2 = P
    dZ2 -= Y
    dZ2 *= dZ2.dtype.type(1.0 / n)  # (n, K) = dL/dZ2 = (P - Y) / n
    dW2 = A1.T @ dZ2  # (H, K)
    db2 = dZ2.sum(axis=0)  # (K,)
    active = A1 > 0  # (n, H) relu'(Z1): A1 > 0 exactly where Z1 > 0
    dZ1 = np.matmul(dZ2, params["W2"].T, out=A1)  # (n, H) = dL/dA1, into A1's memory
    dZ1 *= active  # (n, H) = dL/dZ1
    if dropout:
        dZ1 *= dZ1.dtype.type(1.0 / (1.0 - dropout))
    g = {"dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0), "dW2": dW2, "db2": db2}  # (D, H), (H,)
    if l2:
        for w in ("W1", "W2"):
            g[f"d{w}"] += params[w] * g[f"d{w}"].dtype.type(l2)  # d/dW of l2/2 |W|^2 = l2 W
    return g


def predict(params: Params, X: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Predicted class of each row of X: argmax of the forward pass, (n,) int, in row blocks."""
    labels = np.empty(X.shape[0], dtype=np.intp)
    for i in range(0, X.shape[0], batch):
        labels[i : i + batch] = np.argmax(forward(params, X[i : i + batch])[1], axis=1)
    return labels
