r"""Per-layer diagnostics of training: update-to-weight ratios, gradient norms, dead ReLUs.

Everything here is measured from the outside, without changing the layers:

* ``UpdateMonitor`` wraps an optimizer. At a recorded step it notes, for every
  parameter array :math:`\theta^{(l)}`, the gradient norm
  :math:`\lVert g^{(l)}_t\rVert`, the weight norm and the **update-to-weight ratio**

  .. math::

      r^{(l)}_t = \frac{\lVert \theta^{(l)}_t - \theta^{(l)}_{t-1} \rVert}
                       {\lVert \theta^{(l)}_{t-1} \rVert},

  then lets the optimizer step as usual. A common rule of thumb (Karpathy's CS231n
  notes) is a ratio near :math:`10^{-3}` per step for the weight matrices: much
  smaller and the layer barely learns, much larger and the step overwrites what was
  learned. It plugs into ``optlib.fit`` like an optimizer.
* ``dead_relu_fraction`` runs a batch through a ``Sequential`` layer by layer and
  counts the ReLU units that output 0 for **every** example: they pass no gradient,
  and plain SGD can never revive them. ``DeadReLUs`` records it after every epoch.

Norms are Frobenius norms of whole arrays (one number per weight matrix).
"""

from __future__ import annotations

import numbers

import numpy as np

from optlib.nn import ReLU, Sequential

from optlib.optim import OptimizerWrapper

__all__ = ["UpdateMonitor", "dead_relu_fraction", "DeadReLUs"]


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


class UpdateMonitor(OptimizerWrapper):
    r"""An optimizer wrapper that records per-array norms and update-to-weight ratios.

    Parameters
    ----------
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and ``lr``.
    every : int
        Record every ``every``-th step (1 = all), starting with step 1.

    Attributes
    ----------
    steps : list of int
        The recorded steps :math:`t`.
    grad_norm, weight_norm, update_norm, ratio : dict
        Name (the keys of ``params``, or list positions) -> list of floats, one per
        recorded step. ``ratio`` is ``update_norm / weight_norm`` with the weight norm
        taken before the step (``inf`` for an all-zero array, e.g. a fresh bias).
    t : int
        Steps taken.
    """

    def __init__(self, optimizer, every=1):
        super().__init__(optimizer)
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.every = int(every)
        self.t = 0
        self.steps = []
        self.grad_norm, self.weight_norm, self.update_norm, self.ratio = {}, {}, {}, {}

    def step(self, params, grads):
        """Step the wrapped optimizer; on a recorded step, measure around it."""
        self.t += 1
        if (self.t - 1) % self.every:
            super().step(params, grads)
            return
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        gkeyed = grads if isinstance(grads, dict) else dict(enumerate(grads))
        before = {k: p.copy() for k, p in keyed}
        super().step(params, grads)
        after = params if isinstance(params, dict) else dict(enumerate(params))
        self.steps.append(self.t)
        for k, old in before.items():
            w, u = _norm(old), _norm(after[k] - old)
            g = gkeyed.get(k)
            self.grad_norm.setdefault(k, []).append(np.nan if g is None else _norm(g))
            self.weight_norm.setdefault(k, []).append(w)
            self.update_norm.setdefault(k, []).append(u)
            self.ratio.setdefault(k, []).append(u / w if w > 0 else np.inf)

    def arrays(self, what="ratio"):
        """One recorded quantity as ``{name: ndarray}`` (``"ratio"``, ``"grad_norm"``, ...)."""
        if what not in ("ratio", "grad_norm", "weight_norm", "update_norm"):
            raise ValueError(f"what must be 'ratio', 'grad_norm', 'weight_norm' or "
                             f"'update_norm', got {what!r}")
        return {k: np.array(v) for k, v in getattr(self, what).items()}


def dead_relu_fraction(model, X):
    """Fraction of the units of each ReLU layer that are zero for every row of ``X``.

    Parameters
    ----------
    model : ``Sequential``
        E.g. ``optlib.nn.MLP``; run in evaluation mode (and put back).
    X : ``ndarray``
        A batch of inputs, ``(B, features)``; the more rows, the surer the verdict.

    Returns
    -------
    dict
        Layer index (position in the ``Sequential``) -> fraction in :math:`[0, 1]`.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (e.g. an MLP), got {type(model).__name__}")
    was_training = model.training
    model.eval()
    out = {}
    try:
        h = np.asarray(X)
        for i, layer in enumerate(model.layers):
            h = layer.forward(h)
            if isinstance(layer, ReLU):
                out[i] = float(np.mean(~np.any(h > 0, axis=0)))
    finally:
        model.train(was_training)
    return out


class DeadReLUs:
    """A ``fit`` callback: ``dead_relu_fraction(model, X)`` after every epoch.

    Parameters
    ----------
    X : ``ndarray``
        The inputs to probe with (e.g. 1,000 training examples).

    Attributes
    ----------
    fractions : list of dict
        One ``dead_relu_fraction`` result per epoch.
    """

    def __init__(self, X):
        self.X = X
        self.fractions = []

    def on_epoch_end(self, epoch, history, model):
        """Record the fractions; never stops training."""
        self.fractions.append(dead_relu_fraction(model, self.X))
        return False
