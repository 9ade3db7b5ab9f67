"""The two-layer network, in vectorised NumPy: 784 inputs -> H ReLU units -> 10 softmax outputs.

    Z1 = X W1 + b1        (n, H)
    A1 = relu(Z1)         (n, H)
    Z2 = A1 W2 + b2       (n, 10)
    P  = softmax(Z2)      (n, 10)   rows sum to 1
    L  = -1/n sum(Y * log P)        cross-entropy against one-hot targets Y

With a softmax output and cross-entropy loss the output delta is simply ``(P - Y) / n``; everything
else is the chain rule. Parameters are a plain dict of arrays; functions never keep state.
Activations are computed in place (scikit-learn's ``inplace_*`` style), so a forward pass allocates
one (n, H) and one (n, 10) array.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

__all__ = [
    "Grads",
    "Params",
    "backward",
    "forward",
    "init_params",
    "inplace_relu",
    "inplace_softmax",
    "loss",
    "predict",
]

Params: TypeAlias = dict[str, np.ndarray]  # W1 (D, H), b1 (H,), W2 (H, K), b2 (K,)
Grads: TypeAlias = dict[str, np.ndarray]  # dW1, db1, dW2, db2: same shapes as the parameters


def init_params(
    n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator, dtype: str = "float32",
    scale: float = 0.01,
) -> Params:
    """The seed's initialisation: weights ``randn * scale``, biases zero."""
    return {
        "W1": (rng.standard_normal((n_in, n_hidden)) * scale).astype(dtype),  # (D, H)
        "b1": np.zeros(n_hidden, dtype=dtype),  # (H,)
        "W2": (rng.standard_normal((n_hidden, n_out)) * scale).astype(dtype),  # (H, K)
        "b2": np.zeros(n_out, dtype=dtype),  # (K,)
    }


def inplace_relu(Z: np.ndarray) -> np.ndarray:
    """relu(Z) = max(Z, 0), written into Z."""
    np.maximum(Z, 0, out=Z)
    return Z


def inplace_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax written into Z; subtracting the row max first keeps exp() from overflowing."""
    Z -= Z.max(axis=1, keepdims=True)
    np.exp(Z, out=Z)
    Z /= Z.sum(axis=1, keepdims=True)
    return Z


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden activations A1 (n, H) and class probabilities P (n, K) for inputs X (n, D)."""
    A1 = X @ params["W1"]  # (n, H) = Z1 before the bias
    A1 += params["b1"]
    inplace_relu(A1)
    P = A1 @ params["W2"]  # (n, K) = Z2 before the bias
    P += params["b2"]
    inplace_softmax(P)
    return A1, P


def loss(P: np.ndarray, Y: np.ndarray) -> float:
    """Mean cross-entropy -1/n sum(Y log P); P is clipped to [eps, 1] so log never sees 0."""
    eps = np.finfo(P.dtype).eps
    return float(-np.sum(Y * np.log(np.clip(P, eps, 1.0))) / P.shape[0])


def backward(
    params: Params, X: np.ndarray, Y: np.ndarray, A1: np.ndarray, P: np.ndarray
) -> Grads:
    """Gradients of :func:`loss` with respect to every parameter, from one forward pass.

    ``P`` is overwritten (it becomes the output delta); ``A1`` is left as it is.
    """
    n = X.shape[0]
    dZ2 = P
    dZ2 -= Y
    dZ2 /= n  # (n, K) = dL/dZ2 = (P - Y) / n
    dW2 = A1.T @ dZ2  # (H, K)
    db2 = dZ2.sum(axis=0)  # (K,)
    dZ1 = dZ2 @ params["W2"].T  # (n, H) = dL/dA1
    dZ1 *= A1 > 0  # relu'(Z1): A1 > 0 exactly where Z1 > 0
    dW1 = X.T @ dZ1  # (D, H)
    db1 = dZ1.sum(axis=0)  # (H,)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def predict(params: Params, X: np.ndarray) -> np.ndarray:
    """Predicted class of each row of X: argmax of the forward pass, (n,) int."""
    labels: np.ndarray = np.argmax(forward(params, X)[1], axis=1)
    return labels
