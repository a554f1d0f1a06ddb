r"""Learning problems built to show one property of an optimizer at a time.

* ``sparse_features`` -- linear regression on features that are mostly zero, some
  frequent and most rare (like words in texts): the problem AdaGrad was made for.
* ``Rescaled`` -- a test surface with its parameters measured in other units,
  :math:`L_c(\theta) = L(\theta / c)`, to check which optimizers care about units.

Every random thing takes ``seed`` (an int or a ``numpy.random.Generator``).

Formerly ``rates``: Effective per-coordinate learning rates of the adaptive optimizers.

Formerly ``rate_explorer``: An explorer that also shows the effective per-coordinate learning rate.
"""
from __future__ import annotations

import math
import numbers
import numpy as np
from optlib.data import Dataset
from optlib.surfaces import Surface
from optlib.optim import Adadelta, Adagrad, Adam, OptimizerWrapper, RMSprop
from optlib.surfaces import Surface, run
from matplotlib.figure import Figure
from optlib.viz import explorer as widgets
from optlib.viz.plot import color as optimizer_color
from optlib.viz.plot import contour, display_name, loss_curves, plot_trajectory

__all__ = [
    'adam_effective_rate',
    'zipf_frequencies',
    'sparse_features',
    'Rescaled',
    'effective_rate',
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
def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _number(name, value, ok, rule):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


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
    d = _positive_int("d", d)
    p_max = _number("p_max", p_max, lambda v: 0 < v <= 1, "a number in (0, 1]")
    exponent = _number("exponent", exponent, lambda v: v >= 0, "a finite number >= 0")
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
    n = _positive_int("n", n)
    p = zipf_frequencies(d, p_max, exponent)
    d = len(p)
    noise = _number("noise", noise, lambda v: v >= 0, "a finite number >= 0")
    n_held = max(n // 5, 1) if n_held is None else _positive_int("n_held", n_held)
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
        self.scale = _number("scale", scale, lambda v: v > 0, "a finite number > 0")
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
def adam_effective_rate(optimizer, key=0):
    r"""The per-coordinate rate :math:`\eta / (\sqrt{\hat v_t} + \epsilon)` of an Adam state.

    After step :math:`t`, :math:`\hat v_t = v_t / (1-\beta_2^t)` (with AMSGrad,
    :math:`v_t` is the running maximum ``max_exp_avg_sq``, as in PyTorch). Adam's
    step is this rate times :math:`\hat m_t`; when :math:`\epsilon \gg \sqrt{\hat v_t}`
    it tends to :math:`\eta/\epsilon`, a rate that no longer adapts.

    Parameters
    ----------
    optimizer : ``Adam`` or ``AdamW``
        An optlib optimizer that has taken at least one step.
    key : int or str
        Which parameter array: its index in the ``params`` list or its name in the
        ``params`` dict given to ``step``.

    Returns
    -------
    ``ndarray``
        Same shape as the parameter array.
    """
    if not isinstance(optimizer, Adam):
        raise TypeError(f"optimizer must be an optlib Adam or AdamW, got {type(optimizer).__name__}")
    state = optimizer.state.get(key)
    if state is None:
        known = sorted(map(str, optimizer.state)) or "none yet (no step taken)"
        raise KeyError(f"no state for key {key!r}; the optimizer has state for {known}")
    h = optimizer.hyper
    v = state["max_exp_avg_sq"] if h["amsgrad"] else state["exp_avg_sq"]
    v_hat = v / (1 - h["betas"][1] ** state["step"])
    with np.errstate(divide="ignore"):
        return h["lr"] / (np.sqrt(v_hat) + h["eps"])


def effective_rate(optimizer, key=0):
    r"""The per-coordinate learning rate that an adaptive optimizer's state implies.

    After step :math:`t` (read from ``optimizer.state[key]``):

    * ``Adagrad``: :math:`\eta_t / (\sqrt{G_t} + \epsilon)` with
      :math:`\eta_t = \eta / (1 + (t-1)\,\text{lr\_decay})`, the rate step :math:`t`
      applied to :math:`g_t`;
    * ``RMSprop``: :math:`\eta / (\sqrt{v_t} + \epsilon)` (centered:
      :math:`\sqrt{v_t - \bar g_t^2}`), the rate step :math:`t` applied to
      :math:`g_t` (with momentum, the rate at which :math:`g_t` enters the buffer);
    * ``Adadelta``: :math:`\eta\,\sqrt{u_t + \epsilon} / \sqrt{v_t + \epsilon}`, the
      rate the next step would apply to a gradient of the current RMS size;
    * ``Adam`` and its subclasses: :math:`\eta / (\sqrt{\hat v_t} + \epsilon)`
      (``optlib.adam_family.adam_effective_rate``), the rate that multiplies
      :math:`\hat m_t`.

    A coordinate that has had no gradient yet (AdaGrad's :math:`G = 0`) gets
    :math:`\eta/\epsilon`: huge, but it multiplies a zero gradient.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta`` or ``Adam``
        An optlib optimizer (``optlib.optim``).
    key : int or str
        Which parameter array: its index in the ``params`` list or its name in the
        ``params`` dict given to ``step``.

    Returns
    -------
    ``ndarray``
        Same shape as the parameter array.
    """
    if not isinstance(optimizer, (Adagrad, RMSprop, Adadelta, Adam)):
        raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                        f"got {type(optimizer).__name__}")
    state = optimizer.state.get(key)
    if state is None:
        known = sorted(map(str, optimizer.state)) or "none yet (no step taken)"
        raise KeyError(f"no state for key {key!r}; the optimizer has state for {known}")
    if isinstance(optimizer, Adam):
        return adam_effective_rate(optimizer, key)
    h = optimizer.hyper
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(optimizer, Adagrad):
            lr = h["lr"] / (1 + (state["step"] - 1) * h["lr_decay"])
            return lr / (np.sqrt(state["sum"]) + h["eps"])
        if isinstance(optimizer, RMSprop):
            v = state["square_avg"]
            if h["centered"]:
                v = v - state["grad_avg"] ** 2
            return h["lr"] / (np.sqrt(v) + h["eps"])
        u, v, eps = state["acc_delta"], state["square_avg"], h["eps"]
        return h["lr"] * np.sqrt(u + eps) / np.sqrt(v + eps)


class RateRecorder(OptimizerWrapper):
    r"""Wraps an optimizer and records its effective rate after every step.

    It behaves like the optimizer (``step`` and ``lr``), so it can be passed to
    ``optlib.fit`` or ``optlib.run``; the optimizer itself does the work.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
        The optimizer to watch.
    key : int or str
        Which parameter array to record (see ``effective_rate``).
    reduce : callable, optional
        Applied to each rate array before it is stored, e.g. ``np.median`` to keep
        one number per step instead of the whole array.
    every : int
        Record after every ``every``-th step only.
    step_sizes : bool
        Also record the (reduced) size of the step itself,
        :math:`|\theta_t - \theta_{t-1}|`, in ``sizes``.

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
    """

    def __init__(self, optimizer, key=0, reduce=None, every=1, step_sizes=False):
        if not isinstance(optimizer, (Adagrad, RMSprop, Adadelta, Adam)):
            raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                            f"got {type(optimizer).__name__}")
        if reduce is not None and not callable(reduce):
            raise TypeError(f"reduce must be a callable or None, got {reduce!r}")
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        super().__init__(optimizer)
        self.key, self.reduce, self.every = key, reduce, int(every)
        self.step_sizes = bool(step_sizes)
        self._steps, self._rates, self._sizes, self._t = [], [], [], 0

    def step(self, params, grads):
        """One step of the wrapped optimizer, then record its effective rate."""
        recording = (self._t + 1) % self.every == 0
        if recording and self.step_sizes:
            before = np.array(params[self.key], copy=True)
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


def run_with_rates(optimizer, surface, start=None, steps=100):
    r"""``optlib.run`` that also returns the effective rate of both coordinates.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
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
        (``effective_rate``).
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    recorder = RateRecorder(optimizer)
    trajectory = run(recorder, surface, start=start, steps=steps)
    return trajectory, recorder.rates.reshape(-1, 2)


def updates(optimizer, grads):
    r"""The updates :math:`\theta_t - \theta_{t-1}` an optimizer makes for given gradients.

    The gradients are fed in as they are, whatever :math:`\theta` does (as if the loss
    were a straight slope whose tilt you choose at every step), so the result shows
    the optimizer's rule alone: how it answers a constant gradient, a sudden drop in the
    gradient's size, and so on. :math:`\theta_0 = 0`.

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
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim not in (1, 2) or len(grads) == 0:
        raise ValueError(f"grads must have shape (T,) or (T, d) with T >= 1, got {grads.shape}")
    rows = grads.reshape(len(grads), -1)
    theta = np.zeros(rows.shape[1])
    out = np.empty_like(rows)
    for t, g in enumerate(rows):
        before = theta.copy()
        optimizer.step([theta], [g.copy()])
        out[t] = theta - before
    return out.reshape(grads.shape)


def _decay(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not math.isfinite(alpha) or not 0 <= alpha < 1:
        raise ValueError(f"alpha must be a number in [0, 1), got {alpha!r}")
    return float(alpha)


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
    alpha = _decay(alpha)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    return (1 - alpha) * alpha ** np.arange(int(steps), dtype=np.float64)


def ema_window(alpha):
    r"""The averaging window :math:`1/(1-\alpha)` of an exponential moving average, in steps.

    It is the mean age :math:`\sum_k (k+1)(1-\alpha)\alpha^k` of the gradients in the
    average: an average over "the last :math:`1/(1-\alpha)` steps" (10 for
    :math:`\alpha = 0.9`, 100 for 0.99).
    """
    return 1.0 / (1.0 - _decay(alpha))


def half_life(alpha):
    r"""Steps after which a gradient's weight has halved: :math:`\ln 2 / \ln(1/\alpha)`.

    About :math:`0.69/(1-\alpha)` for :math:`\alpha` near 1 (6.6 steps for 0.9, 69
    for 0.99); 0 for :math:`\alpha = 0`, which forgets a gradient at once.
    """
    alpha = _decay(alpha)
    return 0.0 if alpha == 0 else math.log(2) / math.log(1 / alpha)


# ====================================================================== rate_explorer
def rate_figure(surface, optimizer, start=None, steps=100, label=None, color=None,
                figsize=(11.0, 3.4)):
    r"""Path, loss and effective per-coordinate rate of one adaptive optimizer on a surface.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
        A fresh one.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps.
    label : str, optional
        Default: the optimizer's book name and its learning rate.
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
    name = display_name(optimizer)
    if label is None:
        label = f"{name}, η = {optimizer.lr:.3g}"
    color = color or optimizer_color(name)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_map, ax_loss, ax_rate = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.1])
    contour(surface, ax=ax_map)
    plot_trajectory(ax_map, trajectory, label, color=color)
    ax_map.set_title(label, fontsize=10)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(widgets._summary(None, trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$", ylabel="effective rate $\\eta_{t,i}$")
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
        ``make_optimizer(**values) -> optimizer`` (AdaGrad, RMSprop or AdaDelta).
    sliders : dict
        Keyword name → slider spec, as for ``optlib.widgets.surface_explorer``.
    steps : int
        Steps per run, >= 1.
    start : bool or ``array_like``
        Add sliders for the start point :math:`\theta_0`, starting at
        ``surface.start`` (``True``) or at the given point; ``False``: no sliders.

    Returns
    -------
    ``optlib.widgets.Explorer``
        The surface explorer drawing ``rate_figure``.
    """
    return widgets.surface_explorer(surface, make_optimizer, sliders, steps=steps, start=start,
                                    figure=rate_figure)
