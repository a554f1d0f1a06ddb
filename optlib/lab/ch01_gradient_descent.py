r"""Chapter 1 (gradient descent): evaluating runs of very different lengths on one step grid.

Batch gradient descent takes one update per epoch, SGD :math:`N`. To compare them *per
update*, every run must be evaluated at the same update counts, and since the counts
span several decades, the grid is log-spaced (``log_steps``). ``EvaluateAt`` is an
``optlib.fit`` callback that measures the training loss on the whole training set at
those steps, and also the training time up to each of them with its own evaluations
left out, so the same records serve the per-epoch, per-update and per-second views.
"""
from __future__ import annotations

import time

import numpy as np

from optlib import checks
from optlib.train.loop import evaluate

__all__ = ["log_steps", "EvaluateAt"]


def log_steps(last, points=30):
    r"""About ``points`` update counts from 1 to ``last``, evenly spaced on a log axis.

    The counts are the integers nearest to :math:`\text{last}^{k/(\text{points}-1)}`,
    :math:`k = 0, \dots, \text{points}-1`, without repeats (so fewer than ``points``
    near 1, where the integers are sparse); the first is 1 and the last is ``last``.

    Parameters
    ----------
    last : int
        The largest count, >= 1.
    points : int
        Counts wanted, >= 2.

    Returns
    -------
    ``ndarray`` of int
        Increasing.
    """
    last = checks.integer("last", last, low=1)
    points = checks.integer("points", points, low=2)
    return np.unique(np.rint(np.geomspace(1, last, points)).astype(np.int64))


class EvaluateAt:
    r"""An ``optlib.fit`` callback: the training loss at chosen update counts.

    After the update numbered ``t`` (``t`` in ``steps``) it evaluates the loss on the
    whole ``(X, y)`` (a forward pass, ``optlib.train.evaluate``). ``fit``'s clock runs
    during callbacks, so the callback also times its own evaluations and subtracts them:
    ``time`` is the training time up to each record, evaluations excluded, as in
    ``History.epoch_time``.

    Parameters
    ----------
    steps : ``array_like`` of int
        Update counts (>= 1) after which to evaluate, e.g. ``log_steps(...)``.
    X, y : ``ndarray``
        The training set.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, as for ``fit``.

    Attributes
    ----------
    step, loss, time : ``ndarray``
        One entry per record, in order; call ``start(model)`` before ``fit`` to record
        step 0 (the starting point, at time 0).
    """

    def __init__(self, steps, X, y, loss_fn):
        steps = np.asarray(steps)
        if steps.ndim != 1 or steps.dtype.kind not in "iu" or np.any(steps < 1):
            raise ValueError(f"steps must be a 1-D array of integers >= 1, got {steps!r}")
        if len(X) != len(y):
            raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
        self._wanted = set(int(s) for s in steps)
        self.X, self.y, self.loss_fn = X, y, loss_fn
        self._step, self._loss, self._time = [], [], []
        self._spent = 0.0                       # seconds spent in this callback so far

    def start(self, model):
        """Record the loss before training (step 0, time 0). Returns ``self``."""
        self._step, self._loss, self._time, self._spent = [0], [self._evaluate(model)], [0.0], 0.0
        return self

    def _evaluate(self, model):
        return evaluate(model, self.loss_fn, self.X, self.y)[0]

    def on_step(self, step, loss, history, model):
        if step in self._wanted:
            begin = time.perf_counter()
            trained = history.time[-1] - self._spent     # the clock includes earlier evaluations
            self._step.append(step)
            self._loss.append(self._evaluate(model))
            self._time.append(trained)
            self._spent += time.perf_counter() - begin
        return False

    @property
    def step(self):
        return np.array(self._step, dtype=np.int64)

    @property
    def loss(self):
        return np.array(self._loss, dtype=np.float64)

    @property
    def time(self):
        return np.array(self._time, dtype=np.float64)
