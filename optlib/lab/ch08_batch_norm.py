r"""Measurements that explain batch normalization: layer-input statistics, the loss landscape, batch noise.

* ``InputRecorder`` -- an identity layer that records the statistics of what flows
  through it at every training step: the "internal covariate shift" of Ioffe and
  Szegedy (2015) made visible.
* ``loss_along_gradient`` -- the loss and the gradient at :math:`\theta - s\,g` for a
  range of step lengths :math:`s`: how far the gradient can be trusted, the
  smoothness measurements of Santurkar et al. (2018).
* ``layer_output_std`` -- the size of the signal after each layer of a network.
* ``batch_dependence`` -- how much a batch-normalized network's output for one
  example changes with the other examples in its batch.
"""
from __future__ import annotations

import numpy as np
from optlib.nn.batchnorm import frozen_running_stats
from optlib.nn import Linear, Module

__all__ = [
    'InputRecorder',
    'layer_output_std',
    'loss_along_gradient',
    'batch_dependence',
    'evaluate_train_mode',
]

# ====================================================================== bn_probes
class InputRecorder(Module):
    r"""Identity layer that records, at each training-mode forward, the statistics of its input.

    For a batch :math:`x \in \mathbb R^{B \times C}` it appends to ``mean``, ``std``
    and ``quantiles`` the per-feature batch mean, standard deviation and the
    quantiles ``q`` over the batch. Insert it into a ``Sequential`` (its
    ``layers`` list) where you want to watch the distribution that the next layer
    receives. Evaluation-mode passes (``optlib.evaluate``) are not recorded.

    Parameters
    ----------
    q : ``sequence`` of float
        Quantiles to record, in [0, 1] (default the 15th, 50th and 85th
        percentiles, as in Ioffe and Szegedy's figure).
    every : int
        Record every ``every``-th training step only (keeps memory small).

    Attributes
    ----------
    steps : list of int
        Training forward passes (1, 2, ...) at which a record was taken.
    mean, std : list of ``ndarray``
        One array of shape ``(C,)`` per record.
    quantiles : list of ``ndarray``
        One array of shape ``(len(q), C)`` per record.
    """

    def __init__(self, q=(0.15, 0.5, 0.85), every=1):
        q = tuple(float(v) for v in q)
        if not q or any(not 0 <= v <= 1 for v in q):
            raise ValueError(f"q must be a non-empty sequence of numbers in [0, 1], got {q!r}")
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.q, self.every = q, int(every)
        self.calls = 0
        self.steps, self.mean, self.std, self.quantiles = [], [], [], []

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls % self.every == 0:
                self.steps.append(self.calls)
                self.mean.append(x.mean(axis=0))
                self.std.append(x.std(axis=0))
                self.quantiles.append(np.quantile(x, self.q, axis=0))
        return x

    def backward(self, dout, input_grad=True):
        return dout if input_grad else None

    def arrays(self):
        """The records as arrays: ``steps (T,)``, ``mean (T, C)``, ``std (T, C)``, ``quantiles (T, len(q), C)``."""
        return (np.asarray(self.steps), np.asarray(self.mean), np.asarray(self.std),
                np.asarray(self.quantiles))

    def __repr__(self):
        return f"InputRecorder(q={self.q}, every={self.every})"


def layer_output_std(model, X, kind=Linear):
    r"""Standard deviation of the output of every layer of type ``kind`` in a ``Sequential``.

    One forward pass of ``X`` through ``model.layers``, in the model's current mode
    (running statistics left unchanged). For a ReLU network without biases every
    weight matrix scaled by :math:`c` multiplies the signal after layer :math:`k` by
    :math:`c^k`: the exploding or vanishing signal of a badly initialized deep network.

    Parameters
    ----------
    model : ``optlib.nn.Sequential``
    X : ``ndarray``
        Input batch.
    kind : type
        Layer class whose outputs are measured (default ``optlib.nn.Linear``).

    Returns
    -------
    ``ndarray``
        One standard deviation (over the batch and the units) per such layer.
    """
    stds = []
    with frozen_running_stats(model):
        out = X
        for layer in model.layers:
            out = layer.forward(out)
            if isinstance(layer, kind):
                stds.append(float(np.std(out, dtype=np.float64)))
    return np.array(stds)


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays]).astype(np.float64)


def loss_along_gradient(model, loss_fn, X, y, step_sizes):
    r"""Loss and gradient change along the negative gradient, for several step lengths.

    With :math:`g = \nabla L(\theta)` on the batch ``(X, y)`` and each step length
    :math:`s` in ``step_sizes``, computes

    .. math::

        L(\theta - s g), \qquad
        \Delta_s = \lVert \nabla L(\theta - s g) - g \rVert, \qquad
        \beta_s = \frac{\Delta_s}{s\,\lVert g \rVert},

    the loss one would reach with a step of length :math:`s`, how much the gradient
    changes over that step ("gradient predictiveness") and the effective
    smoothness :math:`\beta` along it (Santurkar et al., 2018). All evaluations run
    in the model's current mode on the same batch; the parameters and any batch
    normalization running statistics are restored afterwards.

    Parameters
    ----------
    model : ``Module``
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    X, y : ``ndarray``
        The batch.
    step_sizes : ``sequence`` of float
        Step lengths :math:`s > 0`.

    Returns
    -------
    dict
        ``"loss0"`` (float, :math:`L(\theta)`), ``"grad_norm"`` (float,
        :math:`\lVert g\rVert`), and arrays over ``step_sizes``: ``"loss"``,
        ``"grad_change"`` (:math:`\Delta_s`), ``"smoothness"`` (:math:`\beta_s`).
    """
    steps = np.asarray(step_sizes, dtype=np.float64)
    if steps.ndim != 1 or len(steps) == 0 or not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise ValueError("step_sizes must be a non-empty 1-D sequence of finite numbers > 0")
    params, grads = model.parameters(), model.gradients()
    saved = {k: p.copy() for k, p in params.items()}

    def loss_and_grad():
        loss, dout = loss_fn(model.forward(X), y)
        model.backward(dout, input_grad=False)
        return float(loss), _flat(grads.values())

    losses, changes = np.empty(len(steps)), np.empty(len(steps))
    with frozen_running_stats(model):
        loss0, g = loss_and_grad()
        g_parts = {k: v.copy() for k, v in grads.items()}
        try:
            for i, s in enumerate(steps):
                for k, p in params.items():
                    np.copyto(p, saved[k] - s * g_parts[k])
                losses[i], g_s = loss_and_grad()
                changes[i] = np.linalg.norm(g_s - g)
        finally:
            # Back to θ, with the gradients of θ, as after an ordinary backward pass.
            for k, p in params.items():
                np.copyto(p, saved[k])
                np.copyto(grads[k], g_parts[k])
    norm = float(np.linalg.norm(g))
    with np.errstate(divide="ignore", invalid="ignore"):
        smooth = changes / (steps * norm)
    return {"loss0": loss0, "grad_norm": norm, "loss": losses, "grad_change": changes,
            "smoothness": smooth}


def batch_dependence(model, X, index, batch_size, draws=100, seed=0):
    r"""A training-mode network's output for example ``index`` in ``draws`` random batches.

    Each draw puts example ``index`` in a batch with ``batch_size - 1`` other examples
    chosen at random (without replacement) from ``X`` and records the model's output
    row for it. Without batch normalization every draw gives the same output; with
    it, the output depends on the batch through the batch mean and variance, and
    the spread across draws is the noise batch normalization adds. Running
    statistics are left unchanged.

    Parameters
    ----------
    model : ``Module``
        Run in training mode (and put back in its mode).
    X : ``ndarray``
        Pool of examples.
    index : int
        The example followed.
    batch_size : int
        :math:`B \ge 2`.
    draws : int
        Number of random batches.
    seed : int or ``numpy.random.Generator``
        For the batches.

    Returns
    -------
    ``ndarray``
        Shape ``(draws, outputs)``.
    """
    n = len(X)
    if not 0 <= index < n:
        raise ValueError(f"index must be in [0, {n}), got {index!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 2 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in [2, {n}], got {batch_size!r}")
    rng = np.random.default_rng(seed)
    others = np.delete(np.arange(n), index)
    rows = []
    was_training = model.training
    model.train()
    try:
        with frozen_running_stats(model):
            for _ in range(int(draws)):
                batch = np.concatenate([[index], rng.choice(others, batch_size - 1, replace=False)])
                rows.append(model.forward(X[batch])[0])
    finally:
        model.train(was_training)
    return np.asarray(rows)


def evaluate_train_mode(model, loss_fn, X, y, batch_size, seed=0):
    r"""Loss and accuracy of a model evaluated in **training** mode, in random batches of ``batch_size``.

    This is what a batch-normalized network computes if you forget ``model.eval()``:
    every prediction is normalized with the statistics of the batch it happens to be
    in. The last batch is dropped if it is smaller than ``batch_size``. Running
    statistics are left unchanged, and the model is put back in its mode.

    Parameters
    ----------
    model : ``Module``
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    X, y : ``ndarray``
        Data; ``y`` integer labels.
    batch_size : int
        :math:`B \ge 2`.
    seed : int or ``numpy.random.Generator``
        For the random batches.

    Returns
    -------
    loss : float
    acc : float
    """
    n = len(X)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 2 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in [2, {n}], got {batch_size!r}")
    order = np.random.default_rng(seed).permutation(n)
    total, correct, count = 0.0, 0, 0
    was_training = model.training
    model.train()
    try:
        with frozen_running_stats(model):
            for start in range(0, n - batch_size + 1, batch_size):
                idx = order[start:start + batch_size]
                out = model.forward(X[idx])
                total += loss_fn(out, y[idx])[0] * batch_size
                correct += int(np.sum(out.argmax(axis=1) == y[idx]))
                count += batch_size
    finally:
        model.train(was_training)
    return total / count, correct / count
