r"""Chapter 3 (AdaGrad), also used by chapters 4 (RMSprop, AdaDelta) and 5 (Adam).

What these chapters need beyond the library, in three sections:

* **problems**: ``zipf_frequencies`` and ``sparse_features``, linear regression on
  features that are mostly zero, some frequent and most rare (like words in texts):
  the problem AdaGrad was made for; ``Rescaled``, a test surface with its parameters
  measured in other units, :math:`L_c(\theta) = L(\theta / c)`, to check which
  optimizers care about units. Every random thing takes ``seed`` (an int or a
  ``numpy.random.Generator``).
* **rates**: the effective per-coordinate learning rate of an adaptive optimizer
  (``optlib.optim.effective_rate``) recorded during training (``RateRecorder``, for
  ``optlib.fit``) or along a path on a surface (``run_with_rates``); the updates an
  optimizer makes for a given gradient sequence (``updates``); the weights, window
  and half-life of an exponential moving average (``ema_weights``, ``ema_window``,
  ``half_life``).
* **explorer**: ``rate_figure`` and ``rate_explorer``, a surface explorer that also
  shows each coordinate's effective rate.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from optlib import checks
from optlib.data import Dataset
from optlib.optim import Adadelta, OptimizerWrapper
from optlib.optim.effective_rate import ADAPTIVE, effective_rate
from optlib.surfaces import Surface, replay, run
from optlib.viz import explorer as widgets
from optlib.viz.plot import color as optimizer_color
from optlib.viz.plot import contour, display_name, loss_curves, plot_trajectory

__all__ = [
    'zipf_frequencies',
    'sparse_features',
    'Rescaled',
    'RateRecorder',
    'run_with_rates',
    'updates',
    'ema_weights',
    'ema_window',
    'half_life',
    'rate_figure',
    'rate_explorer',
]


# ====================================================================== problems
def zipf_frequencies(d, p_max=0.5, exponent=1.0):
    r"""How often each of ``d`` features is active: a power law, like word frequencies.

    .. math::

        p_j = p_{\max}\, j^{-s}, \qquad j = 1, \dots, d,

    with :math:`s` = ``exponent`` (Zipf's law has :math:`s \approx 1`): a few frequent
    features and a long tail of rare ones.

    Parameters
    ----------
    d : int
        Number of features, >= 1.
    p_max : float
        Probability that the most frequent feature is active, in (0, 1].
    exponent : float
        :math:`s >= 0`; 0 makes every feature equally frequent.

    Returns
    -------
    ``ndarray``
        Shape ``(d,)``, ``float64``, decreasing.
    """
    d = checks.integer("d", d, low=1)
    p_max = checks.real("p_max", p_max, low=0, high=1, low_open=True)
    exponent = checks.real("exponent", exponent, low=0)
    return p_max * np.arange(1, d + 1, dtype=np.float64) ** -exponent


def sparse_features(n=10_000, d=200, p_max=0.5, exponent=1.0, noise=0.5, n_held=None, seed=0):
    r"""Linear regression with rare and frequent features.

    Each example has :math:`d` features; feature :math:`j` is active with probability
    :math:`p_j` (``zipf_frequencies``) and then equals :math:`\pm 1` with a random
    sign, otherwise 0. The target is

    .. math::

        y = x^\top w^\star + \sigma\,\xi, \qquad w^\star_j \sim \mathcal N(0, 1),\;
        \xi \sim \mathcal N(0, 1),

    so every feature matters as much *when it appears*. Because the signs are random,
    :math:`E[x x^\top] = \operatorname{diag}(p)`: the curvature of the mean squared
    error along weight :math:`j` is :math:`2 p_j`, and so is (on average) the size of
    its gradient. Rare features get small, rare gradients; one learning rate cannot
    suit both ends. This is the setting of Duchi, Hazan and Singer (2011).

    Parameters
    ----------
    n : int
        Training examples.
    d : int
        Features.
    p_max, exponent : float
        Feature frequencies, see ``zipf_frequencies``.
    noise : float
        :math:`\sigma >= 0`, the standard deviation of the target noise.
    n_held : int, optional
        Size of the validation set and of the test set each; default ``n // 5``.
    seed : int or ``numpy.random.Generator``
        Draws the weights, the features and the noise.

    Returns
    -------
    Dataset
        ``float32`` features and targets. ``info`` holds ``"frequency"`` (:math:`p`),
        ``"weights"`` (:math:`w^\star`), ``"count"`` (in how many training examples
        each feature is active), ``"optimum"`` (the least-squares weights on the
        training set, the minimizer of the training loss) and ``"min_loss"`` (the
        training mean squared error there, :math:`L^\star`, as ``losses.mse``
        computes it).
    """
    n = checks.integer("n", n, low=1)
    p = zipf_frequencies(d, p_max, exponent)
    d = len(p)
    noise = checks.real("noise", noise, low=0)
    n_held = max(n // 5, 1) if n_held is None else checks.integer("n_held", n_held, low=1)
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=d)
    total = n + 2 * n_held
    active = rng.random((total, d)) < p
    X = np.where(active, rng.choice(np.array([-1.0, 1.0]), size=(total, d)), 0.0)
    y = X @ weights + noise * rng.normal(size=total)
    X_train, y_train = X[:n], y[:n]
    # The normal equations XᵀX w = Xᵀy: a d×d system, much cheaper than a least-squares
    # solve on the n×d matrix. lstsq (not solve) copes with a feature that never appears.
    optimum = np.linalg.lstsq(X_train.T @ X_train, X_train.T @ y_train, rcond=None)[0]
    min_loss = float(np.mean((X_train @ optimum - y_train) ** 2))
    parts = [a.astype(np.float32) for a in (X_train, y_train, X[n:n + n_held], y[n:n + n_held],
                                            X[n + n_held:], y[n + n_held:])]
    info = {"frequency": p, "weights": weights, "count": np.count_nonzero(X_train, axis=0),
            "optimum": optimum, "min_loss": min_loss}
    return Dataset(*parts, info=info)


class Rescaled(Surface):
    r"""A surface whose parameters are measured in other units.

    .. math::

        L_c(\theta) = L(\theta / c), \qquad \nabla L_c(\theta) = \nabla L(\theta / c) / c .

    The landscape is the same, stretched by :math:`c` in both directions: minima,
    start and plotting window are multiplied by :math:`c`, the loss values are not.
    An optimizer whose updates have the units of :math:`\theta` (Newton's method, or
    AdaDelta by Zeiler's argument) takes the same path, multiplied by :math:`c`; plain
    gradient descent's step :math:`\eta g` has units :math:`1/\theta` and does not.

    Parameters
    ----------
    surface : ``Surface``
        The original surface.
    scale : float
        :math:`c > 0`.
    """

    def __init__(self, surface, scale):
        if not isinstance(surface, Surface):
            raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
        self.surface = surface
        self.scale = checks.real("scale", scale, low=0, low_open=True)
        c = self.scale
        self.name = f"{surface.name} (θ × {c:g})"
        self.minima = np.asarray(surface.minima) * c
        self.min_value = surface.min_value
        self.start = np.asarray(surface.start) * c
        (x0, x1), (y0, y1) = surface.bounds
        self.bounds = ((x0 * c, x1 * c), (y0 * c, y1 * c))
        for array in (self.minima, self.start):
            array.flags.writeable = False

    @staticmethod
    def _points(xy):
        xy = np.asarray(xy)
        # Integers are computed in float64, like the other surfaces; a Python float
        # scale keeps float32 input float32 (NumPy 2's weak scalars).
        return xy if xy.dtype.kind == "f" else xy.astype(np.float64)

    def __call__(self, xy):
        return self.surface(self._points(xy) / self.scale)

    def grad(self, xy):
        return self.surface.grad(self._points(xy) / self.scale) / self.scale

    def __repr__(self):
        return f"Rescaled({self.surface!r}, scale={self.scale!r})"


# ====================================================================== rates
class RateRecorder(OptimizerWrapper):
    r"""Wraps an optimizer and records its effective rate after every step.

    It behaves like the optimizer (``step`` and ``lr``), so it can be passed to
    ``optlib.fit`` or ``optlib.run``; the optimizer itself does the work.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta`` or ``Adam``
        The optimizer to watch.
    key : int or str
        Which parameter array to record (see ``optlib.optim.effective_rate``).
    reduce : callable, optional
        Applied to each rate array before it is stored, e.g. ``np.median`` to keep
        one number per step instead of the whole array.
    every : int
        Record after every ``every``-th step only.
    step_sizes : bool
        Also record the (reduced) size of the step itself,
        :math:`|\theta_t - \theta_{t-1}|`, in ``sizes``.
    grad_rms : bool
        Also record the root mean square of the gradient of the recorded array,
        :math:`\sqrt{\operatorname{mean}_i g_{t,i}^2}`, in ``grad_rms`` (one number
        per recorded step, whatever ``reduce`` is).

    Attributes
    ----------
    optimizer
        The wrapped optimizer.
    steps : ``ndarray``
        The step numbers :math:`t` at which rates were recorded.
    rates : ``ndarray``
        One row per recorded step: the (reduced) rate array.
    sizes : ``ndarray``
        With ``step_sizes=True``: one row per recorded step, the (reduced)
        :math:`|\theta_t - \theta_{t-1}|`.
    grad_rms : ``ndarray``
        With ``grad_rms=True``: the gradient's RMS at each recorded step.
    """

    def __init__(self, optimizer, key=0, reduce=None, every=1, step_sizes=False, grad_rms=False):
        if not isinstance(optimizer, ADAPTIVE):
            raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                            f"got {type(optimizer).__name__}")
        if reduce is not None and not callable(reduce):
            raise TypeError(f"reduce must be a callable or None, got {reduce!r}")
        super().__init__(optimizer)
        self.key, self.reduce = key, reduce
        self.every = checks.integer("every", every, low=1)
        self.step_sizes = bool(step_sizes)
        self.record_grad_rms = bool(grad_rms)
        self._steps, self._rates, self._sizes, self._grad_rms, self._t = [], [], [], [], 0

    def step(self, params, grads):
        """One step of the wrapped optimizer, then record its effective rate."""
        recording = (self._t + 1) % self.every == 0
        if recording and self.step_sizes:
            before = np.array(params[self.key], copy=True)
        if recording and self.record_grad_rms:            # before the optimizer sees it
            g = np.asarray(grads[self.key], dtype=np.float64)
            self._grad_rms.append(math.sqrt(np.mean(g * g)))
        super().step(params, grads)
        self._t += 1
        if recording:
            rate = effective_rate(self.optimizer, self.key)
            self._rates.append(self.reduce(rate) if self.reduce else rate.copy())
            self._steps.append(self._t)
            if self.step_sizes:
                size = np.abs(params[self.key] - before)
                self._sizes.append(self.reduce(size) if self.reduce else size)

    @property
    def steps(self):
        return np.array(self._steps, dtype=np.int64)

    @property
    def rates(self):
        return np.array(self._rates)

    @property
    def sizes(self):
        return np.array(self._sizes)

    @property
    def grad_rms(self):
        return np.array(self._grad_rms)


def run_with_rates(optimizer, surface, start=None, steps=100):
    r"""``optlib.run`` that also returns the effective rate of both coordinates.

    The same as ``run(optimizer, surface, start, steps, record=effective_rate)``, with the
    records returned beside the trajectory.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta`` or ``Adam``
        A fresh optimizer.
    surface : ``Surface``
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps :math:`T`.

    Returns
    -------
    trajectory : ``Trajectory``
        As ``optlib.run`` returns it.
    rates : ``ndarray``
        Shape ``(steps, 2)``: row :math:`t-1` is the rate of step :math:`t`
        (``optlib.optim.effective_rate``).
    """
    if not isinstance(optimizer, ADAPTIVE):
        raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                        f"got {type(optimizer).__name__}")
    trajectory = run(optimizer, surface, start=start, steps=steps, record=effective_rate)
    return trajectory, trajectory.records.reshape(-1, 2)


def updates(optimizer, grads):
    r"""The updates :math:`\theta_t - \theta_{t-1}` an optimizer makes for given gradients.

    The gradients are fed in as they are, whatever :math:`\theta` does
    (``optlib.surfaces.replay`` from :math:`\theta_0 = 0`), so the result shows the
    optimizer's rule alone: how it answers a constant gradient, a sudden drop in the
    gradient's size, and so on.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optlib optimizer (any kind).
    grads : ``array_like``
        Shape ``(T,)`` for one coordinate or ``(T, d)`` for ``d`` coordinates:
        :math:`g_1, \dots, g_T`.

    Returns
    -------
    ``ndarray``
        Same shape as ``grads``, ``float64``: row :math:`t-1` is
        :math:`\theta_t - \theta_{t-1}`.
    """
    return np.diff(replay(optimizer, grads), axis=0)


def ema_weights(alpha, steps):
    r"""The weight of the gradient from :math:`k` steps ago in an exponential moving average.

    Unrolling :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2` from :math:`v_0 = 0`,

    .. math::

        v_t = \sum_{k=0}^{t-1} (1-\alpha)\,\alpha^k\, g_{t-k}^2 ,

    so the squared gradient of :math:`k` steps ago has weight
    :math:`(1-\alpha)\alpha^k`. The weights of all :math:`t` gradients sum to
    :math:`1 - \alpha^t` (the missing :math:`\alpha^t` is the weight of :math:`v_0 = 0`,
    the reason for Adam's bias correction). AdaGrad's sum gives every gradient weight 1.

    Parameters
    ----------
    alpha : float
        :math:`\alpha \in [0, 1)` (PyTorch's ``alpha``, Keras's ``rho``).
    steps : int
        Number of weights, :math:`k = 0, \dots, \text{steps}-1`.

    Returns
    -------
    ``ndarray``
        Shape ``(steps,)``.
    """
    alpha = checks.real("alpha", alpha, low=0, high=1, high_open=True)
    steps = checks.integer("steps", steps, low=0)
    return (1 - alpha) * alpha ** np.arange(steps, dtype=np.float64)


def ema_window(alpha):
    r"""The averaging window :math:`1/(1-\alpha)` of an exponential moving average, in steps.

    It is the mean age :math:`\sum_k (k+1)(1-\alpha)\alpha^k` of the gradients in the
    average: an average over "the last :math:`1/(1-\alpha)` steps" (10 for
    :math:`\alpha = 0.9`, 100 for 0.99).
    """
    return 1.0 / (1.0 - checks.real("alpha", alpha, low=0, high=1, high_open=True))


def half_life(alpha):
    r"""Steps after which a gradient's weight has halved: :math:`\ln 2 / \ln(1/\alpha)`.

    About :math:`0.69/(1-\alpha)` for :math:`\alpha` near 1 (6.6 steps for 0.9, 69
    for 0.99); 0 for :math:`\alpha = 0`, which forgets a gradient at once.
    """
    alpha = checks.real("alpha", alpha, low=0, high=1, high_open=True)
    return 0.0 if alpha == 0 else math.log(2) / math.log(1 / alpha)


# ====================================================================== explorer
def rate_figure(surface, optimizer, start=None, steps=100, label=None, color=None,
                figsize=(11.0, 3.5)):
    r"""Path, loss and effective per-coordinate rate of one adaptive optimizer on a surface.

    The rate panel shows :math:`\eta_{t,i}` of both coordinates (``run_with_rates``)
    on log axes; for the optimizers whose rate is :math:`\eta/(\sqrt{\cdot}+\epsilon)`
    (all but AdaDelta) it also marks the ceiling :math:`\eta/\epsilon` when the rates
    come near it, where the rate stops adapting.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta`` or ``Adam`` (and subclasses)
        A fresh one.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps.
    label : str, optional
        The figure's title; default: the book name with its hyper-parameters, ε
        included (``optlib.viz.explorer.run_label``).
    color : str, optional
        Default: the optimizer's colour.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot, so a notebook shows it once, as the cell's value.
    """
    trajectory, rates = run_with_rates(optimizer, surface, start=start, steps=steps)
    label = label or widgets.run_label(optimizer, eps=True)
    color = color or optimizer_color(display_name(optimizer))
    fig = Figure(figsize=figsize, layout="constrained")
    fig.suptitle(label, fontsize=10)
    ax_map, ax_loss, ax_rate = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.1])
    contour(surface, ax=ax_map)
    plot_trajectory(ax_map, trajectory, label, color=color)
    ax_map.set_title("path", fontsize=10)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(widgets.loss_title(trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    eps = optimizer.hyper["eps"]
    if not isinstance(optimizer, Adadelta) and eps > 0 and np.isfinite(rates).any():
        ceiling = optimizer.hyper["lr"] / eps
        if ceiling < 100 * np.nanmax(np.where(np.isfinite(rates), rates, np.nan)):
            ax_rate.axhline(ceiling, color="0.5", lw=1, ls=":", label="η/ε")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$",
                ylabel="effective rate $\\eta_{t,i}$")
    ax_rate.set_title("rate of each coordinate", fontsize=10)
    if len(rates):
        ax_rate.legend()
    return fig


def rate_explorer(surface, make_optimizer, sliders, steps=100, start=True):
    r"""Sliders for an adaptive optimizer on a surface, with the effective-rate panel.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer`` (AdaGrad, RMSprop, AdaDelta or Adam).
    sliders : dict
        Keyword name → slider spec, as for ``optlib.viz.explorer.explorer``.
    steps : int
        Steps per run, >= 1.
    start : bool or ``array_like``
        Add sliders for the start point :math:`\theta_0`, starting at
        ``surface.start`` (``True``) or at the given point; ``False``: no sliders.

    Returns
    -------
    ``optlib.viz.explorer.Explorer``
        The surface explorer drawing ``rate_figure``.
    """
    return widgets.surface_explorer(surface, make_optimizer, sliders, steps=steps, start=start,
                                    figure=rate_figure)
