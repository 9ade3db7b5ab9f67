"""Gradient-descent optimizers that update the parameters in place, and the learning-rate schedule.

Each optimizer holds its own state (velocities, moment estimates) and one scratch array per
parameter, allocated once, so a step allocates nothing (scikit-learn's ``_stochastic_optimizers``
keeps the same split). References: Sutskever et al. 2013 (momentum), Kingma & Ba 2015 (Adam,
with the bias correction folded into the step size as in Algorithm 1's last paragraph).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from mnistflow.training.network import Grads, Params

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "SGD", "Adam", "Optimizer", "learning_rate_at", "make_optimizer"]

OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("constant", "cosine")


class Optimizer(Protocol):
    def step(self, grads: Grads, lr: float) -> None:
        """Update the parameters in place from ``grads`` with step size ``lr``."""


class SGD:
    """Gradient descent with (heavy-ball) momentum: v = mu v - lr g; W += v. ``momentum=0`` is plain
    gradient descent, W -= lr g, done without a velocity array."""

    def __init__(self, params: Params, momentum: float = 0.0) -> None:
        self.params = params
        self.momentum = momentum
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()} if momentum else {}
        self.scratch = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads: Grads, lr: float) -> None:
        for name, value in self.params.items():
            step = np.multiply(grads[f"d{name}"], value.dtype.type(-lr), out=self.scratch[name])
            if self.momentum:
                v = self.velocity[name]
                v *= value.dtype.type(self.momentum)
                v += step  # v = mu v - lr g
                step = v
            value += step


class Adam:
    """Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; W -= lr_t m / (sqrt(v) + eps_t) with
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), eps_t = eps sqrt(1 - b2^t) (same as the textbook form)."""

    def __init__(
        self, params: Params, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        self.params = params
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.scratch = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads: Grads, lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction = math.sqrt(1 - b2**self.t)
        lr_t = lr * correction / (1 - b1**self.t)
        for name, value in self.params.items():
            f = value.dtype.type
            g, m, v, tmp = grads[f"d{name}"], self.m[name], self.v[name], self.scratch[name]
            m *= f(b1)
            m += np.multiply(g, f(1 - b1), out=tmp)  # m = b1 m + (1 - b1) g
            v *= f(b2)
            np.multiply(g, g, out=tmp)
            tmp *= f(1 - b2)
            v += tmp  # v = b2 v + (1 - b2) g^2
            np.sqrt(v, out=tmp)
            tmp += f(self.eps * correction)
            np.divide(m, tmp, out=tmp)
            tmp *= f(lr_t)
            value -= tmp


def make_optimizer(name: str, params: Params, momentum: float = 0.0) -> Optimizer:
    """The optimizer called ``name`` (one of :data:`OPTIMIZERS`) over ``params``."""
    if name == "sgd":
        return SGD(params, momentum)
    if name == "adam":
        return Adam(params)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def learning_rate_at(
    step: int, total: int, base: float, schedule: str = "constant", warmup: int = 0,
    final_ratio: float = 0.0,
) -> float:
    """Learning rate for optimizer step ``step`` (0-based) of ``total``.

    1. warmup: for the first ``warmup`` steps, rise linearly from base/warmup to base;
    2. then ``constant``: base; ``cosine``: from base down to ``final_ratio * base`` at the last step
       along half a cosine (Loshchilov & Hutter 2017, without restarts).
    """
    assert 0 <= final_ratio <= 1 and 0 <= step < total, (step, total, final_ratio)
    if step < warmup:  # 1
        return base * (step + 1) / warmup
    if schedule == "constant":  # 2
        return base
    if schedule == "cosine":
        progress = (step - warmup) / max(total - warmup - 1, 1)  # 0 at the first, 1 at the last step
        return base * (final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
    raise ValueError(f"unknown lr schedule {schedule!r}; choose one of {LR_SCHEDULES}")
