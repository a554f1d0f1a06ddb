r"""What momentum does to the noise of mini-batch gradients, measured on a network.

A mini-batch gradient is the full-batch gradient plus noise. Momentum's buffer is an
exponentially weighted sum of past mini-batch gradients, so some of that noise averages
out. :func:`buffer_noise` measures how much is left, at fixed parameters, for any
momentum :math:`\beta`, so that a chapter can compare it with the prediction
:math:`(1-\beta)/(1+\beta)`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .optim import SGD
from .train import gradient

__all__ = ["buffer_noise"]


def _count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def buffer_noise(model, loss_fn, X, y, momenta, batch_size=64, draws=1000, seed=0):
    r"""How much noise is left in momentum's buffer, at fixed parameters.

    Draws ``draws`` mini-batch gradients :math:`g_1, g_2, \dots` at the model's current
    parameters :math:`\theta` and feeds them, in order, to ``optlib.SGD(lr=0,
    momentum=β)`` (so :math:`\theta` does not move), whose buffer is
    :math:`b_t = \beta b_{t-1} + g_t = \sum_{k<t} \beta^k g_{t-k}`. Divided by the sum of
    its weights, :math:`\hat b_t = b_t\,(1-\beta)/(1-\beta^t)` is a weighted average of
    the gradients that reproduces a constant gradient exactly (the same correction as
    Adam's). For each :math:`\beta` the function returns the mean relative squared error

    .. math::

        r(\beta) = \frac{\mathbb E\,\|\hat b_t - \nabla L(\theta)\|^2}{\|\nabla L(\theta)\|^2},

    averaged over the steps after a warm-up of :math:`5/(1-\beta)` steps (when
    :math:`\beta^t < 0.01`). For independent draws the weights' squares then sum to
    :math:`(1-\beta)/(1+\beta)`, so theory predicts
    :math:`r(\beta) \approx r(0)\,(1-\beta)/(1+\beta)`: the buffer is as noisy as an
    average of :math:`(1+\beta)/(1-\beta)` gradients. During training :math:`\theta`
    moves, and the older gradients in the average are also out of date; this function
    measures the noise alone.

    Parameters
    ----------
    model : ``Module``
        Not changed.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, a batch mean.
    X, y : ``ndarray``
        Training data, :math:`N` rows.
    momenta : ``sequence`` of float
        Values of :math:`\beta \in [0, 1)`; 0 gives the noise of one mini-batch gradient.
    batch_size : int
        :math:`B`, in [1, N]; each mini-batch is drawn without replacement.
    draws : int
        Mini-batch gradients to draw; at least every warm-up plus 10.
    seed : int
        Seeds the mini-batches.

    Returns
    -------
    ``ndarray``
        :math:`r(\beta)` for each entry of ``momenta``.
    """
    n = len(X)
    batch_size = _count("batch_size", batch_size, 1)
    draws = _count("draws", draws, 2)
    if batch_size > n:
        raise ValueError(f"batch_size must be in [1, N={n}], got {batch_size}")
    try:
        momenta = [float(b) for b in momenta]
    except (TypeError, ValueError):
        raise ValueError(f"momenta must be numbers in [0, 1), got {momenta!r}") from None
    if not momenta or not all(0 <= b < 1 for b in momenta):
        raise ValueError(f"momenta must be numbers in [0, 1), got {momenta!r}")
    # 1e-9: 5 / (1 - 0.9) is 50.000000000000014 in floating point, and means 50
    warmups = [math.ceil(5 / (1 - b) - 1e-9) if b > 0 else 0 for b in momenta]
    if draws < max(warmups) + 10:
        raise ValueError(f"draws must be >= {max(warmups) + 10} for these momenta, got {draws}")
    X = np.asarray(X, dtype=next(iter(model.parameters().values())).dtype)
    full = gradient(model, loss_fn, X, y)               # ∇L(θ) over all N examples
    rng = np.random.default_rng(seed)
    samples = [gradient(model, loss_fn, X[rows], y[rows])
               for rows in (rng.choice(n, size=batch_size, replace=False) for _ in range(draws))]
    signal = full @ full
    noise = []
    for beta, warmup in zip(momenta, warmups):
        # lr = 0: the buffer fills, the parameters (here a dummy) never move
        opt, dummy, errors = SGD(lr=0.0, momentum=beta), [np.zeros_like(full)], []
        for t, g in enumerate(samples, start=1):
            opt.step(dummy, [g])
            b = opt.state[0]["momentum_buffer"] if beta > 0 else g
            if t > warmup:
                d = b * ((1 - beta) / (1 - beta**t)) - full   # b̂_t - ∇L(θ)
                errors.append(d @ d)
        noise.append(np.mean(errors) / signal)
    return np.array(noise)
