r"""The learning-rate range test: one short run with a rising rate, read off a good rate.

Smith (2017, "Cyclical learning rates for training neural networks", WACV) proposed
to train briefly while the learning rate grows from a tiny to a huge value and to
look at how the score responds. The version used here is the common fast one
(popularized by fastai's ``lr_find``): the rate grows **exponentially** over at most
one pass through the data,

.. math::

    \eta_t = \eta_{\min}\Bigl(\frac{\eta_{\max}}{\eta_{\min}}\Bigr)^{(t-1)/(T-1)},
    \qquad t = 1, \dots, T,

so that every decade of rates gets the same number of steps. The run is an ordinary
``optlib.fit`` with the rates as its schedule: each step's mini-batch loss is recorded
and smoothed by a bias-corrected exponential moving average, and the callback
``StopOnRise`` stops the run once the smoothed loss exceeds ``diverge`` times its
minimum (a non-finite loss stops it anyway, as every ``fit``). Plotted
against :math:`\log\eta`, the smoothed loss is flat while the rate is too small to
matter, falls where the rate is useful, and shoots up where it is too large. A good
rate sits on the falling part, before the minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optlib import checks
from optlib.train.loop import fit

__all__ = ["exponential_rates", "smooth", "suggest", "StopOnRise", "RangeTest", "range_test"]

_RULES = ("steepest", "min/10")


def _positive(name, value):
    return checks.real(name, value, low=0, low_open=True)


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
    steps = checks.integer("steps", steps, low=2)
    return np.geomspace(lr_min, lr_max, steps)


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
    beta = checks.real("beta", beta, low=0, high=1, high_open=True)
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
    checks.one_of("rule", rule, _RULES)
    lrs = np.asarray(lrs, dtype=np.float64)
    loss = np.asarray(smoothed, dtype=np.float64)
    if lrs.shape != loss.shape or lrs.ndim != 1 or len(lrs) < 3:
        raise ValueError(f"lrs and smoothed must be 1-D of the same length >= 3, "
                         f"got shapes {lrs.shape} and {loss.shape}")
    skip_start = checks.real("skip_start", skip_start, low=0, high=1, high_open=True)
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


class StopOnRise:
    r"""A ``fit`` callback: stop once the smoothed mini-batch loss rises above ``factor`` times its minimum.

    After step :math:`t` it updates the bias-corrected moving average
    :math:`\hat a_t` of the mini-batch losses (as ``smooth``) and stops training when

    .. math::

        \hat a_t > \text{factor}\cdot\min_{s < t} \hat a_s ,

    the range test's sign that the rate has become too large (fastai's
    ``lr_find`` stops at 4 times the minimum too).

    Parameters
    ----------
    factor : float
        > 1.
    beta : float
        Smoothing, in :math:`[0, 1)`.

    Attributes
    ----------
    smoothed : list of float
        :math:`\hat a_1, \hat a_2, \dots`, one per step seen.
    stopped_step : int or None
        The step at which it stopped training.
    """

    def __init__(self, factor=4.0, beta=0.98):
        self.factor = checks.real("factor", factor, low=1, low_open=True)
        self.beta = checks.real("beta", beta, low=0, high=1, high_open=True)
        self.smoothed, self.stopped_step = [], None
        self._avg, self._best = 0.0, math.inf

    def on_step(self, step, loss, history, model):
        """Update the moving average; return True when it has risen too far."""
        self._avg = self.beta * self._avg + (1 - self.beta) * loss
        smoothed = self._avg / (1 - self.beta ** (len(self.smoothed) + 1))
        self.smoothed.append(smoothed)
        if smoothed > self.factor * self._best:
            self.stopped_step = step
            return True
        self._best = min(self._best, smoothed)
        return False


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

    One ``optlib.fit`` run: step :math:`t` uses the rate :math:`\eta_t` of
    ``exponential_rates`` (the run's schedule) on the next mini-batch of a random
    order (full batches only, ``drop_last=True``; a fresh order for every pass when
    ``steps`` exceeds one), and ``StopOnRise(diverge, beta)`` ends the run early.

    Parameters
    ----------
    model : ``Module``
        The network (e.g. ``optlib.nn.MLP``), as it will start real training.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and a writable ``lr``, also a wrapper
        (``optlib.optim.wrappers``).
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
    diverge : float
        Stop once the smoothed loss exceeds ``diverge`` times its minimum so far (> 1).
    rule : str
        How to pick the suggestion (see ``suggest``).
    skip_start : float
        Passed to ``suggest``.
    seed : int or ``numpy.random.Generator``
        Order of the examples.
    restore : bool
        Put the model's parameters and the optimizer's state back as they were, so
        that real training starts from the same point: every object of the chain
        ``optimizer``, ``optimizer.optimizer``, ... (a wrapper and what it wraps)
        that has ``state_dict`` is restored, and the learning rate. Default True.
        (With ``restore=False`` the learning rate is still put back.)

    Returns
    -------
    RangeTest
    """
    X = np.asarray(X)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"y must have one entry per row of X ({n}), got {len(y)}")
    batch_size = checks.integer("batch_size", batch_size, low=1, high=max(n, 1))
    if steps is None:
        steps = max(2, math.ceil(n / batch_size))
    rates = exponential_rates(lr_min, lr_max, steps)
    stop = StopOnRise(checks.real("diverge", diverge, low=1, low_open=True), beta)
    checks.one_of("rule", rule, _RULES)
    skip_start = checks.real("skip_start", skip_start, low=0, high=1, high_open=True)
    restore = checks.boolean("restore", restore)

    chain = _wrapped_chain(optimizer)
    saved_model = model.state_dict() if restore else None
    saved = [(o, o.state_dict()) for o in chain if hasattr(o, "state_dict")] if restore else []
    saved_lr = optimizer.lr
    try:
        history = fit(model, loss_fn, optimizer, X, y, epochs=math.ceil(steps / (n // batch_size)),
                      batch_size=batch_size, drop_last=True, schedule=lambda t: rates[t],
                      seed=seed, max_steps=len(rates), callbacks=[stop], progress=False)
    finally:
        if restore:
            model.load_state_dict(saved_model)
            for o, state in reversed(saved):          # the innermost first
                o.load_state_dict(state)
        optimizer.lr = saved_lr
    losses = history.loss
    stopped = history.diverged or stop.stopped_step is not None
    lrs, smoothed = rates[:len(losses)], smooth(losses, beta)
    usable = len(losses) - 1 if stopped else len(losses)     # the last point is the blow-up
    if usable - int(skip_start * usable) >= 3:
        pick = suggest(lrs[:usable], smoothed[:usable], rule, skip_start)
    else:                                                    # too few points to judge
        pick = float(lrs[0])
    return RangeTest(lrs=lrs, losses=losses, smoothed=smoothed, suggestion=pick,
                     stopped_early=stopped)


def _wrapped_chain(optimizer):
    """``[optimizer, optimizer.optimizer, ...]``: a wrapper and everything it wraps."""
    chain = [optimizer]
    while hasattr(chain[-1], "optimizer") and len(chain) < 100:
        chain.append(chain[-1].optimizer)
    return chain
