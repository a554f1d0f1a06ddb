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
* ``internal_covariate_shift`` -- Santurkar et al.'s (2018) measure of internal
  covariate shift: how much a layer's gradient changes when the layers before it
  take their step.
* ``ProbeEvery`` -- a ``fit`` callback that runs a measurement every few steps.
* ``LayerRates`` -- plain SGD with a different learning rate for some parameters.

And the chapter's networks: ``bn_mlp`` builds them with or without normalization,
``scaled_he`` scales their initialization, ``NoisyShift`` is the layer of Santurkar
et al.'s (2018) experiment that *adds* internal covariate shift after a batch
normalization; ``batchnorm_layers`` and ``frozen_running_stats`` find and protect the
``BatchNorm1d`` layers of a model.
"""
from __future__ import annotations

import contextlib

import numpy as np
from matplotlib.figure import Figure

from optlib import checks
from optlib.nn import BatchNorm1d, Linear, Module, ReLU, Sequential, init_he
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD
from optlib.train.loop import fit
from optlib.viz import explorer, plot

__all__ = [
    'NoisyShift',
    'bn_mlp',
    'scaled_he',
    'batchnorm_layers',
    'frozen_running_stats',
    'InputRecorder',
    'layer_output_std',
    'loss_along_gradient',
    'batch_dependence',
    'evaluate_train_mode',
    'internal_covariate_shift',
    'ProbeEvery',
    'LayerRates',
    'BN_COLORS',
    'batchnorm_figure',
    'batchnorm_explorer',
]

# ====================================================================== batchnorm (chapter code)
class NoisyShift(Module):
    r"""Random per-feature rescaling and shift that changes at every training step.

    In training mode, each forward pass draws for every feature :math:`j` a scale
    :math:`s_j \sim \mathcal U(1, a)` and a shift :math:`c_j \sim \mathcal U(-b, b)`,
    and returns :math:`y_{ij} = s_j x_{ij} + c_j`. Placed after a batch normalization,
    it makes the next layer's input distribution jump at every step: the opposite of
    what batch normalization is supposed to achieve by reducing "internal covariate
    shift". It is our version of the "noisy BatchNorm" experiment of Santurkar et al.
    (2018), who found that such networks train nearly as well as with plain batch
    normalization. In evaluation mode the layer applies the average transformation,
    :math:`y = \tfrac{1+a}{2} x`.

    Backward: :math:`\partial L/\partial x_{ij} = s_j\,\delta_{ij}`.

    Parameters
    ----------
    num_features : int
        Number of features :math:`C`.
    scale : float
        :math:`a \ge 1`, the largest scale.
    shift : float
        :math:`b \ge 0`, the largest shift.
    seed : int or ``numpy.random.Generator``
        Source of the noise.
    """

    def __init__(self, num_features, scale=3.0, shift=1.0, seed=0):
        self.num_features = checks.integer("num_features", num_features, low=1)
        self.scale = checks.real("scale", scale, low=1)
        self.shift = checks.real("shift", shift, low=0)
        self.rng = np.random.default_rng(seed)
        self._s = None

    def forward(self, x):
        if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (batch, {self.num_features}), got {np.shape(x)}")
        if not self.training:
            self._s = np.asarray((1 + self.scale) / 2, dtype=x.dtype)
            return x * self._s
        C = self.num_features
        self._s = self.rng.uniform(1, self.scale, C).astype(x.dtype)
        c = self.rng.uniform(-self.shift, self.shift, C).astype(x.dtype)
        return x * self._s + c

    def backward(self, dout, input_grad=True):
        return dout * self._saved(self._s) if input_grad else None

    def __repr__(self):
        return f"NoisyShift({self.num_features}, scale={self.scale:g}, shift={self.shift:g})"


def bn_mlp(sizes, batchnorm=True, noisy=False, init="he", scale=None, seed=0, dtype=np.float32,
           momentum=0.1):
    r"""A ReLU network, optionally with batch normalization after every hidden ``Linear``.

    With ``batchnorm=True`` each hidden block is ``Linear -> BatchNorm1d -> ReLU``
    (the placement of Ioffe and Szegedy, 2015); the hidden ``Linear`` layers then have
    no bias, since the normalization subtracts it again and BN's shift :math:`\delta`
    takes its role. The last ``Linear`` (the class scores) is never normalized. With
    ``batchnorm=False`` this is ``optlib.nn.MLP(sizes)``'s layout.

    Parameters
    ----------
    sizes : ``sequence`` of int
        Widths from input to output, e.g. ``(64, 64, 64, 10)``.
    batchnorm : bool
        Insert ``BatchNorm1d`` layers.
    noisy : bool
        Insert a ``NoisyShift`` after each ``BatchNorm1d`` (needs ``batchnorm``).
    init : str or callable
        Weight initializer of every ``Linear`` (see ``optlib.nn.Linear``).
    scale : float, optional
        Standard deviation for ``init="normal"``.
    seed : int or ``numpy.random.Generator``
        One generator for all weights (and the noise); the same seed gives the same
        weights with and without normalization.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64``.
    momentum : float or None
        ``BatchNorm1d``'s momentum.

    Returns
    -------
    ``optlib.nn.Sequential``
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    if noisy and not batchnorm:
        raise ValueError("noisy=True needs batchnorm=True (the noise goes after each BatchNorm1d)")
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(Linear(n_in, n_out, bias=not (hidden and batchnorm), init=init,
                             scale=scale, seed=rng, dtype=dtype))
        if hidden:
            if batchnorm:
                layers.append(BatchNorm1d(n_out, momentum=momentum, dtype=dtype))
            if noisy:
                layers.append(NoisyShift(n_out, seed=rng))
            layers.append(ReLU())
    return Sequential(*layers)


def scaled_he(factor):
    r"""An initializer: He's normal weights times ``factor``, :math:`\mathcal N(0, 2c^2/n_\text{in})`.

    Parameters
    ----------
    factor : float
        :math:`c > 0`; 1 is He initialization.

    Returns
    -------
    callable
        ``init(shape, seed, dtype)`` for ``optlib.nn.Linear(init=...)`` or ``bn_mlp``.
    """
    factor = checks.real("factor", factor, low=0, low_open=True)

    def init(shape, seed=0, dtype=np.float32):
        return (factor * init_he(shape, seed=seed, dtype=np.float64)).astype(dtype)

    return init


def batchnorm_layers(model):
    """Every ``BatchNorm1d`` in a model (itself, or inside ``Sequential`` containers), in order.

    Parameters
    ----------
    model : ``Module``

    Returns
    -------
    list of BatchNorm1d
    """
    if isinstance(model, BatchNorm1d):
        return [model]
    found = []
    for layer in getattr(model, "layers", ()):
        found += batchnorm_layers(layer)
    return found


@contextlib.contextmanager
def frozen_running_stats(model):
    """Context manager: forward passes inside it leave the running statistics as they were.

    A measurement that runs extra training-mode forward passes (a probe of the loss
    along the gradient, say) would otherwise move every ``BatchNorm1d``'s running
    mean and variance, and so change the model it measures.

    Parameters
    ----------
    model : ``Module``
    """
    layers = batchnorm_layers(model)
    saved = [{name: b.copy() for name, b in bn.buffers().items()} for bn in layers]
    try:
        yield model
    finally:
        for bn, state in zip(layers, saved):
            for name, buffer in bn.buffers().items():
                np.copyto(buffer, state[name])


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


def internal_covariate_shift(model, loss_fn, X, y, lr, layers=None):
    r"""Santurkar et al.'s internal covariate shift: a layer's gradient before and after the earlier layers step.

    For a ``Sequential`` ``model`` with parameters :math:`W_1, \dots, W_k` (grouped
    by the position of their module) and the batch ``(X, y)``, the internal
    covariate shift of the layer at position :math:`i` is (Santurkar et al., 2018,
    *How does batch normalization help optimization?*, Definition 2.1)

    .. math::

        G_i = \nabla_{W_i} L(W_1, \dots, W_k), \qquad
        G'_i = \nabla_{W_i} L(W'_1, \dots, W'_{i-1}, W_i, \dots, W_k),

    with :math:`W'_j = W_j - \eta\,\nabla_{W_j} L` the SGD step of every earlier
    layer on the same batch: how much the problem that layer :math:`i` solves
    changes because the layers before it moved. This returns
    :math:`\lVert G_i - G'_i\rVert`, the same relative to :math:`\lVert G_i\rVert`,
    and the cosine between :math:`G_i` and :math:`G'_i` (1: the same direction).
    :math:`W_i` is the weight of a ``Linear`` layer. All passes run in the model's
    current mode; the parameters, gradients and running statistics are restored.

    Parameters
    ----------
    model : ``optlib.nn.Sequential``
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    X, y : ``ndarray``
        The batch.
    lr : float
        :math:`\eta`, the step of the earlier layers.
    layers : ``sequence`` of int, optional
        Positions in ``model.layers`` of the ``Linear`` layers to measure; default
        every ``Linear`` but the first (which has no earlier layer).

    Returns
    -------
    dict
        ``"layers"`` (the positions), and arrays over them: ``"l2"``
        (:math:`\lVert G_i - G'_i\rVert`), ``"relative"``
        (:math:`\lVert G_i - G'_i\rVert / \lVert G_i\rVert`) and ``"cosine"``.
    """
    lr = checks.real("lr", lr, low=0, low_open=True)
    linear = [i for i, layer in enumerate(model.layers) if isinstance(layer, Linear)]
    layers = linear[1:] if layers is None else [int(i) for i in layers]
    if not layers or any(i not in linear for i in layers):
        raise ValueError(f"layers must be positions of Linear layers among {linear}, got {layers}")
    params, grads = model.parameters(), model.gradients()
    saved = {k: p.copy() for k, p in params.items()}

    def position(key):
        return int(key.split(".", 1)[0])

    def gradients():
        _, dout = loss_fn(model.forward(X), y)
        model.backward(dout, input_grad=False)
        return {k: g.astype(np.float64) for k, g in grads.items()}

    l2, rel, cos = [], [], []
    with frozen_running_stats(model):
        g = gradients()
        try:
            for i in layers:
                for k, p in params.items():
                    np.copyto(p, saved[k] - lr * g[k] if position(k) < i else saved[k])
                key = f"{i}.weight"
                a, b = g[key].ravel(), gradients()[key].ravel()
                l2.append(np.linalg.norm(a - b))
                rel.append(l2[-1] / np.linalg.norm(a))
                cos.append(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
        finally:
            for k, p in params.items():
                np.copyto(p, saved[k])
                np.copyto(grads[k], g[k])
    return {"layers": np.array(layers), "l2": np.array(l2), "relative": np.array(rel),
            "cosine": np.array(cos)}


class ProbeEvery:
    """A ``fit`` callback: ``probe(step, model)`` after every ``every``-th update.

    The values are kept in ``values``, the steps in ``steps``. A probe that runs
    forward passes in training mode should leave the running statistics alone
    (``loss_along_gradient`` and ``internal_covariate_shift`` do).

    Parameters
    ----------
    every : int
        Updates between two probes.
    probe : callable
        ``probe(step, model) -> value``.
    """

    def __init__(self, every, probe):
        self.every = checks.integer("every", every, low=1)
        if not callable(probe):
            raise TypeError(f"probe must be callable, got {type(probe).__name__}")
        self.probe, self.steps, self.values = probe, [], []

    def on_step(self, step, loss, history, model):
        if step % self.every == 0:
            self.steps.append(step)
            self.values.append(self.probe(step, model))


class LayerRates:
    r"""Plain SGD where some parameters learn at a multiple of the rate: :math:`\theta_k \leftarrow \theta_k - f_k\,\eta\,g_k`.

    One ``optlib.optim.SGD`` per distinct factor :math:`f_k` (1 for parameters not
    listed). Chapter 8 uses it to give the layers before a batch normalization the
    rate :math:`c^2\eta` when their weights start :math:`c` times too large.

    Parameters
    ----------
    lr : float
        :math:`\eta`.
    factors : dict
        Parameter name (as in ``model.parameters()``) -> factor :math:`f_k > 0`.
    """

    def __init__(self, lr, factors):
        self.lr = checks.real("lr", lr, low=0)
        self.factors = {str(k): checks.real(f"factors[{k!r}]", f, low=0, low_open=True)
                        for k, f in dict(factors).items()}
        self._sgd = {}

    def step(self, params, grads):
        groups = {}
        for k in params:
            groups.setdefault(self.factors.get(k, 1.0), []).append(k)
        for f, keys in groups.items():
            sgd = self._sgd.setdefault(f, SGD(lr=self.lr * f))
            sgd.lr = self.lr * f
            sgd.step({k: params[k] for k in keys}, {k: grads[k] for k in keys})

    def __repr__(self):
        return f"LayerRates(lr={self.lr:g}, factors={self.factors})"


# ====================================================================== explorer
#: Colours of the networks of chapter 8 (none is an optimizer's colour).
BN_COLORS = {"without BN": plot.BASELINE, "with BN": plot.PALETTE["pink"],
             "BN + noise": plot.PALETTE["gold"]}


def batchnorm_figure(data, lr=0.3, init_scale=1.0, depth=8, width=64, epochs=2, batch_size=64,
                     seed=0, figsize=(9.0, 3.2)):
    r"""The same network trained with and without batch normalization: mini-batch loss per step.

    Both are ``bn_mlp`` networks (``depth`` hidden layers of ``width`` ReLU units)
    started from the same weights, :math:`c` times He's scale (``scaled_he``),
    trained by SGD with rate :math:`\eta`. A run whose loss becomes non-finite stops
    and is marked as diverged.

    Parameters
    ----------
    data : ``Dataset``
        Training data (``X_train``, ``y_train``).
    lr : float
        :math:`\eta`.
    init_scale : float
        :math:`c`.
    depth, width : int
        Hidden layers and their width.
    epochs, batch_size, seed
        The training runs.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    X, y = data.X_train, data.y_train
    sizes = [X.shape[1]] + [width] * depth + [int(y.max()) + 1]
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    notes = []
    cap = 30.0            # the loss of a sane start is a few units; above this, off the chart
    for label, bn in (("without BN", False), ("with BN", True)):
        model = bn_mlp(sizes, batchnorm=bn, init=scaled_he(init_scale), seed=seed)
        # Divergence is a result here, drawn in the figure (fit stops and records it).
        with np.errstate(all="ignore"):
            h = fit(model, softmax_cross_entropy, SGD(lr=lr), X, y, epochs=epochs,
                    batch_size=batch_size, seed=seed, progress=False)
        loss = h.loss
        t = np.arange(1, len(loss) + 1) / h.steps_per_epoch
        # A diverging run is drawn up to the top of the frame and marked with a cross.
        shown = np.minimum(np.where(np.isfinite(loss), loss, np.inf), cap)
        ax.plot(t, shown, color=BN_COLORS[label], lw=1, label=label)
        if h.diverged or np.any(loss >= cap):
            first = int(np.argmax(~(loss < cap)))
            ax.plot(t[first], cap, "x", color=BN_COLORS[label], ms=9, mew=2, clip_on=False)
        if h.diverged:
            notes.append(f"{label}: diverged at step {h.diverged_at}")
        else:
            notes.append(f"{label}: last-epoch loss {loss[-h.steps_per_epoch:].mean():.2f}")
    ax.set(yscale="log", ylim=(None, cap), xlabel="epoch", ylabel="mini-batch loss",
           title=f"η = {lr:.3g}, init scale {init_scale:.3g} × He;  " + ";  ".join(notes))
    ax.title.set_fontsize(9)
    ax.legend(loc="upper right")
    return fig


def batchnorm_explorer(data, depth=8, width=64, epochs=2, seed=0):
    """Sliders for the learning rate and the initialization scale of ``batchnorm_figure``.

    Parameters
    ----------
    data : ``Dataset``
    depth, width, epochs, seed : int
        Fixed for every run.

    Returns
    -------
    ``optlib.viz.explorer.Explorer``
    """
    def draw(lr, init_scale):
        return batchnorm_figure(data, lr=lr, init_scale=init_scale, depth=depth, width=width,
                                epochs=epochs, seed=seed)

    return explorer.explorer(draw, {
        "lr": explorer.log_slider("η (lr)", 0.01, 10.0, 0.3),
        "init_scale": explorer.log_slider("init scale c", 0.05, 20.0, 1.0),
    })
