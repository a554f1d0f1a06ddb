r"""The learning-rate range test: one short run with a rising rate, read off a good rate.

Smith (2017, "Cyclical learning rates for training neural networks", WACV) proposed
to train briefly while the learning rate grows from a tiny to a huge value and to
look at how the score responds. The version used here is the common fast one
(popularized by fastai's ``lr_find``): the rate grows **exponentially** over at most
one pass through the data,

.. math::

    \eta_t = \eta_{\min}\Bigl(\frac{\eta_{\max}}{\eta_{\min}}\Bigr)^{(t-1)/(T-1)},
    \qquad t = 1, \dots, T,

so that every decade of rates gets the same number of steps. Each step's mini-batch
loss is recorded and smoothed by a bias-corrected exponential moving average; the run
stops early once the smoothed loss exceeds ``diverge`` times its minimum. Plotted
against :math:`\log\eta`, the smoothed loss is flat while the rate is too small to
matter, falls where the rate is useful, and shoots up where it is too large. A good
rate sits on the falling part, before the minimum.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["exponential_rates", "smooth", "suggest", "RangeTest", "range_test"]

_RULES = ("steepest", "min/10")


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def exponential_rates(lr_min, lr_max, steps):
    r"""Rates growing geometrically from ``lr_min`` to ``lr_max`` in ``steps`` steps.

    Parameters
    ----------
    lr_min, lr_max : float
        :math:`0 < \eta_{\min} < \eta_{\max}`.
    steps : int
        :math:`T \ge 2`.

    Returns
    -------
    ``ndarray``
        :math:`\eta_1 = \eta_{\min}, \dots, \eta_T = \eta_{\max}`, equally spaced in
        :math:`\log\eta`.
    """
    lr_min, lr_max = _positive("lr_min", lr_min), _positive("lr_max", lr_max)
    if not lr_min < lr_max:
        raise ValueError(f"lr_min must be < lr_max, got {lr_min} and {lr_max}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    return np.geomspace(lr_min, lr_max, int(steps))


def smooth(values, beta=0.98):
    r"""Bias-corrected exponential moving average, as Adam corrects its moments.

    .. math::

        a_t = \beta a_{t-1} + (1-\beta)\,x_t,\quad a_0 = 0,\qquad
        \hat a_t = \frac{a_t}{1 - \beta^t}.

    Parameters
    ----------
    values : ``array_like``
        :math:`x_1, \dots, x_T`.
    beta : float
        :math:`\beta \in [0, 1)`; 0 returns the values unchanged.

    Returns
    -------
    ``ndarray``
        :math:`\hat a_1, \dots, \hat a_T` (so :math:`\hat a_1 = x_1`).
    """
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    x = np.asarray(values, dtype=np.float64)
    out = np.empty_like(x)
    a = 0.0
    for t, v in enumerate(x, start=1):
        a = beta * a + (1 - beta) * v
        out[t - 1] = a / (1 - beta**t)
    return out


def suggest(lrs, smoothed, rule="steepest", skip_start=0.1):
    r"""Pick a learning rate from a range test's smoothed loss curve.

    Rules (both used by fastai's ``lr_find``):

    * ``"steepest"``: the rate where the smoothed loss falls fastest per decade,
      :math:`\arg\min_t \, d\hat L / d\log\eta`, looking only before the minimum
      (the slope is measured across 5% of the points on each side);
    * ``"min/10"``: a tenth of the rate at which the smoothed loss is lowest (at the
      minimum itself the rate is already about to be too large).

    Parameters
    ----------
    lrs, smoothed : ``array_like``
        The rates and the smoothed losses of a range test, same length >= 3.
    rule : str
        ``"steepest"`` or ``"min/10"``.
    skip_start : float
        Fraction of the first points to ignore, in :math:`[0, 1)`: there the moving
        average rests on a few noisy losses, and a chance dip would look steep (fastai
        skips the first 10% too). Default 0.1.

    Returns
    -------
    float
        The suggested rate.
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    lrs = np.asarray(lrs, dtype=np.float64)
    loss = np.asarray(smoothed, dtype=np.float64)
    if lrs.shape != loss.shape or lrs.ndim != 1 or len(lrs) < 3:
        raise ValueError(f"lrs and smoothed must be 1-D of the same length >= 3, "
                         f"got shapes {lrs.shape} and {loss.shape}")
    if isinstance(skip_start, bool) or not isinstance(skip_start, numbers.Real) \
            or not 0 <= skip_start < 1:
        raise ValueError(f"skip_start must be in [0, 1), got {skip_start!r}")
    first = int(skip_start * len(lrs))
    lrs, loss = lrs[first:], loss[first:]
    finite = np.isfinite(loss)
    if not finite.any():
        raise ValueError("smoothed has no finite value after skip_start")
    lowest = int(np.nanargmin(np.where(finite, loss, np.nan)))
    if rule == "min/10":
        return float(lrs[lowest] / 10)
    if lowest < 2:                       # nothing falls before the minimum
        return float(lrs[0])
    # Slope per unit of log(rate) over a window of 5% of the points on each side: a
    # two-point slope would follow the wiggles that the moving average leaves.
    w = max(1, round(0.05 * len(lrs)))
    idx = np.arange(lowest + 1)
    lo, hi = np.maximum(idx - w, 0), np.minimum(idx + w, lowest)
    slope = (loss[hi] - loss[lo]) / (np.log(lrs[hi]) - np.log(lrs[lo]))
    return float(lrs[int(np.argmin(slope))])


@dataclass(frozen=True, eq=False)
class RangeTest:
    """The record of a learning-rate range test.

    Attributes
    ----------
    lrs : ``ndarray``
        The rate of each step taken.
    losses : ``ndarray``
        The mini-batch loss of each step (before its update).
    smoothed : ``ndarray``
        ``smooth(losses, beta)``.
    suggestion : float
        ``suggest(lrs, smoothed, rule)``.
    stopped_early : bool
        True if the smoothed loss blew past ``diverge`` times its minimum (or became
        non-finite) before the last planned rate.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    stopped_early: bool


def range_test(model, loss_fn, optimizer, X, y, lr_min=1e-5, lr_max=10.0, steps=None,
               batch_size=32, beta=0.98, diverge=4.0, rule="steepest", skip_start=0.1, seed=0,
               restore=True):
    r"""Run the learning-rate range test on a model, then put the model back.

    Step :math:`t` draws the next mini-batch (a fresh random order, cycled if
    ``steps`` exceeds one pass), sets ``optimizer.lr`` to :math:`\eta_t` of
    ``exponential_rates``, records the loss and takes one training step.

    Parameters
    ----------
    model : ``Module``
        The network (e.g. ``optlib.nn.MLP``), as it will start real training.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and a writable ``lr``.
    X, y : ``ndarray``
        Training data.
    lr_min, lr_max : float
        The range of rates, :math:`0 < \eta_{\min} < \eta_{\max}`.
    steps : int, optional
        :math:`T`; default one pass, :math:`\lceil N/B \rceil` (at least 2).
    batch_size : int
        :math:`B`.
    beta : float
        Smoothing of the recorded losses (see ``smooth``).
    skip_start : float
        Passed to ``suggest``.
    diverge : float
        Stop once the smoothed loss exceeds ``diverge`` times its minimum so far (> 1).
    rule : str
        How to pick the suggestion (see ``suggest``).
    seed : int or ``numpy.random.Generator``
        Order of the examples.
    restore : bool
        Put the model's parameters and the optimizer's state (if it has
        ``state_dict``) back as they were, so that real training starts from the
        same point. Default True.

    Returns
    -------
    RangeTest
    """
    X = np.asarray(X)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"y must have one entry per row of X ({n}), got {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
            or not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in [1, N={n}], got {batch_size!r}")
    if steps is None:
        steps = max(2, math.ceil(n / batch_size))
    rates = exponential_rates(lr_min, lr_max, steps)
    diverge = _positive("diverge", diverge)
    if diverge <= 1:
        raise ValueError(f"diverge must be > 1, got {diverge}")
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    smooth([], beta)                                         # checks beta before the run

    saved_model = model.state_dict() if restore else None
    saved_opt = optimizer.state_dict() if restore and hasattr(optimizer, "state_dict") else None
    saved_lr = optimizer.lr
    try:
        losses, stopped = _ramp(model, loss_fn, optimizer, X, y, rates, batch_size, beta,
                                diverge, np.random.default_rng(seed))
    finally:
        if restore:
            model.load_state_dict(saved_model)
            if saved_opt is not None:
                optimizer.load_state_dict(saved_opt)
        optimizer.lr = saved_lr
    lrs, smoothed = rates[:len(losses)], smooth(losses, beta)
    usable = len(losses) - 1 if stopped else len(losses)     # the last point is the blow-up
    if usable - int(skip_start * usable) >= 3:
        pick = suggest(lrs[:usable], smoothed[:usable], rule, skip_start)
    else:                                                    # too few points to judge
        pick = float(lrs[0])
    return RangeTest(lrs=lrs, losses=losses, smoothed=smoothed, suggestion=pick,
                     stopped_early=stopped)


def _ramp(model, loss_fn, optimizer, X, y, rates, batch_size, beta, diverge, rng):
    """The range test's loop: at step t set the rate, record the loss, take a step.

    Mini-batches come from a random order of the examples (a new one once a pass is
    used up). Stops early when the smoothed loss exceeds ``diverge`` times its
    minimum or is not finite. Returns the recorded losses and whether it stopped.
    """
    params, grads = model.parameters(), model.gradients()
    X = X.astype(next(iter(params.values())).dtype, copy=False)
    n = len(X)
    order, position = rng.permutation(n), 0
    losses, avg, best = [], 0.0, math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        for t, lr in enumerate(rates, start=1):
            if position + batch_size > n:                    # a pass is used up: new order
                order, position = rng.permutation(n), 0
            batch = order[position:position + batch_size]
            position += batch_size
            optimizer.lr = float(lr)
            loss, dout = loss_fn(model.forward(X[batch]), y[batch])
            losses.append(loss)
            avg = beta * avg + (1 - beta) * loss             # the smoothed loss, as in smooth()
            smoothed = avg / (1 - beta**t)
            if not math.isfinite(smoothed) or smoothed > diverge * best:
                return np.array(losses, dtype=np.float64), True
            best = min(best, smoothed)
            model.backward(dout, input_grad=False)
            optimizer.step(params, grads)
    return np.array(losses, dtype=np.float64), False
