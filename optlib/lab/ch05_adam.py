r"""Tools to look inside Adam and its family: what their formulas imply, step by step.

The optimizers themselves live in :mod:`optlib.optim`; this module holds what a chapter
needs to *examine* them:

* ``replay`` runs an optimizer on a given sequence of gradients (a gradient that does
  not depend on :math:`\theta`), so a step can be read off exactly;
* ``constant_gradient_step`` gives Adam's step for a constant gradient with and without
  each bias correction (Kingma & Ba 2015, §3);
* ``adam_effective_rate`` reads the per-coordinate rate
  :math:`\eta / (\sqrt{\hat v_t} + \epsilon)` from an ``Adam`` (or ``AdamW``, AMSGrad)
  state;
* ``epsilon_hat_to_eps`` and ``AdamEpsHat``: TensorFlow/Keras's "ε-hat" form of Adam;
* ``nadam_momentum``: NAdam's momentum schedule :math:`\mu_t` (PyTorch, Keras 3);
* ``radam_rho`` and ``radam_rectifier``: RAdam's :math:`\rho_t` and :math:`r_t`
  (Liu et al. 2020).

Notation (COURSE.md §5): step :math:`t` counts from 1, :math:`\beta_1, \beta_2` are
``betas``, :math:`m_t, v_t` are ``exp_avg, exp_avg_sq``, :math:`\epsilon` is ``eps``.

Formerly ``counterexamples``: Reddi, Kale & Kumar's online convex problem on which Adam converges to the wrong point.

Formerly ``adam_explorer``: An explorer for Adam's β₁, β₂ and ε: the path, the loss, and each coordinate's rate.
"""
from __future__ import annotations

import math
import numbers
import numpy as np
from optlib.optim import Adam
from dataclasses import dataclass
from matplotlib.figure import Figure
from optlib.viz import explorer as widgets
from optlib.lab.ch03_adagrad import adam_effective_rate, run_with_rates
from optlib.viz.plot import color as optimizer_color
from optlib.viz.plot import contour, display_name, loss_curves, plot_trajectory
from optlib.surfaces import Surface

__all__ = [
    'replay',
    'constant_gradient_step',
    'epsilon_hat_to_eps',
    'AdamEpsHat',
    'nadam_momentum',
    'radam_rho',
    'radam_rectifier',
    'reddi_gradients',
    'inverse_sqrt',
    'OnlineRun',
    'projected_online',
    'run_with_adam_rates',
    'adam_figure',
    'adam_explorer',
]

# ====================================================================== adam_family
# --------------------------------------------------------------------------- checks

def _beta(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _steps(t):
    """``t`` as a float array of step numbers >= 1 (a scalar stays 0-d)."""
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 1):
        raise ValueError(f"t must hold step numbers >= 1, got {t!r}")
    return t


def _scalar_or_array(x):
    return float(x) if np.ndim(x) == 0 else x


# --------------------------------------------------------------------------- replay

def replay(optimizer, grads, theta0=0.0, record=None):
    r"""Run an optimizer on a fixed sequence of gradients and return the path.

    Step :math:`t` calls ``optimizer.step([θ], [grads[t-1]])``. The gradients do not
    depend on :math:`\theta`, which is what the chapter needs to read a step off
    exactly: a constant gradient, a single spike after a long silence, pure noise.
    (The optimizer may still add :math:`\lambda\theta` itself, as ``weight_decay``
    does.)

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optlib optimizer (its state carries over between calls).
    grads : ``array_like``
        Shape ``(T,)`` for one parameter or ``(T, n)`` for ``n`` parameters updated
        side by side (each coordinate is independent for the Adam family).
    theta0 : float or ``array_like``
        :math:`\theta_0`, broadcast to ``n`` coordinates.
    record : callable, optional
        ``record(optimizer) -> value``, called after every step; the values are
        returned stacked (e.g. ``adam_effective_rate``).

    Returns
    -------
    path : ``ndarray``
        Shape ``(T + 1,)`` or ``(T + 1, n)``: :math:`\theta_0, \dots, \theta_T`
        (float64).
    records : ``ndarray``
        Only when ``record`` is given: the stacked values, one row per step.
    """
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim not in (1, 2):
        raise ValueError(f"grads must have shape (T,) or (T, n), got {grads.shape}")
    if record is not None and not callable(record):
        raise TypeError(f"record must be a callable optimizer -> value or None, got {record!r}")
    n = 1 if grads.ndim == 1 else grads.shape[1]
    theta = np.array(np.broadcast_to(np.asarray(theta0, dtype=np.float64), (n,)))
    path = np.empty((len(grads) + 1, n))
    path[0] = theta
    records = []
    for t, g in enumerate(grads.reshape(len(grads), n), start=1):
        optimizer.step([theta], [g.copy()])
        path[t] = theta
        if record is not None:
            records.append(np.copy(record(optimizer)))
    if grads.ndim == 1:
        path = path[:, 0]
    if record is None:
        return path
    return path, np.array(records)


# --------------------------------------------------------------------------- bias correction

def constant_gradient_step(t, betas=(0.9, 0.999), correct_m=True, correct_v=True):
    r"""Adam's step, in units of :math:`\eta`, after :math:`t` steps of a constant gradient.

    With :math:`g_t = g` for every step and :math:`m_0 = v_0 = 0`,
    :math:`m_t = (1-\beta_1^t)\,g` and :math:`v_t = (1-\beta_2^t)\,g^2`, so (with
    :math:`\epsilon = 0`) the step :math:`|\theta_t - \theta_{t-1}|/\eta` is

    .. math::

        \frac{(1-\beta_1^t)/c_1}{\sqrt{(1-\beta_2^t)/c_2}},\qquad
        c_1 = 1-\beta_1^t \text{ if } m \text{ is corrected, else } 1,\quad
        c_2 = 1-\beta_2^t \text{ if } v \text{ is corrected, else } 1.

    Both corrected (Adam, Kingma & Ba 2015, Algorithm 1): exactly 1 at every step.
    Neither: :math:`(1-\beta_1^t)/\sqrt{1-\beta_2^t}`; only :math:`v` uncorrected:
    :math:`1/\sqrt{1-\beta_2^t}` (RMSprop's start); only :math:`m` uncorrected:
    :math:`1-\beta_1^t`.

    Parameters
    ----------
    t : int or ``array_like``
        Step numbers, >= 1.
    betas : ``(float, float)``
        :math:`(\beta_1, \beta_2)`, each in [0, 1).
    correct_m, correct_v : bool
        Whether :math:`m_t` and :math:`v_t` are divided by :math:`1-\beta^t`.

    Returns
    -------
    float or ``ndarray``
    """
    t = _steps(t)
    beta1, beta2 = _beta("betas[0]", betas[0]), _beta("betas[1]", betas[1])
    m = 1 - beta1 ** t
    v = 1 - beta2 ** t
    if correct_m:
        m = m / (1 - beta1 ** t)
    if correct_v:
        v = v / (1 - beta2 ** t)
    return _scalar_or_array(m / np.sqrt(v))


# --------------------------------------------------------------------------- ε-hat

def epsilon_hat_to_eps(eps_hat, t, beta2=0.999):
    r"""The paper's :math:`\epsilon` that TensorFlow/Keras's :math:`\hat\epsilon` amounts to at step :math:`t`.

    Kingma & Ba (2015, end of §2) rewrite Algorithm 1 as
    :math:`\theta_t = \theta_{t-1} - \eta_t\, m_t / (\sqrt{v_t} + \hat\epsilon)` with
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`; TensorFlow and Keras
    implement this form. Multiplying out,

    .. math::

        \eta_t\,\frac{m_t}{\sqrt{v_t}+\hat\epsilon}
        = \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \hat\epsilon/\sqrt{1-\beta_2^t}},

    so :math:`\hat\epsilon` acts as :math:`\epsilon_t = \hat\epsilon/\sqrt{1-\beta_2^t}`:
    :math:`1/\sqrt{1-\beta_2} \approx 31.6` times larger at :math:`t = 1` for
    :math:`\beta_2 = 0.999`, and equal to :math:`\hat\epsilon` after a few thousand steps.

    Parameters
    ----------
    eps_hat : float
        :math:`\hat\epsilon \ge 0` (Keras's ``epsilon``).
    t : int or ``array_like``
        Step numbers, >= 1.
    beta2 : float
        :math:`\beta_2 \in [0, 1)`.

    Returns
    -------
    float or ``ndarray``
    """
    if isinstance(eps_hat, bool) or not isinstance(eps_hat, numbers.Real) \
            or not math.isfinite(eps_hat) or eps_hat < 0:
        raise ValueError(f"eps_hat must be a finite number >= 0, got {eps_hat!r}")
    t = _steps(t)
    beta2 = _beta("beta2", beta2)
    return _scalar_or_array(eps_hat / np.sqrt(1 - beta2 ** t))


class AdamEpsHat(Adam):
    r"""Adam in TensorFlow/Keras's "ε-hat" form: ``eps`` is :math:`\hat\epsilon`.

    .. math::

        \eta_t &= \eta\,\sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t)\\
        \theta_t &= \theta_{t-1} - \eta_t\, m_t / (\sqrt{v_t} + \hat\epsilon)

    (Kingma & Ba 2015, the formula just before §2.1; ``keras.optimizers.Adam``). This
    equals :class:`optlib.optim.Adam` with :math:`\epsilon` replaced at each step by
    :math:`\epsilon_t = \hat\epsilon/\sqrt{1-\beta_2^t}` (:func:`epsilon_hat_to_eps`),
    which is how it is computed here: Adam's own update, with that :math:`\epsilon_t`.
    Arguments and defaults are those of ``Adam`` (PyTorch's names; Keras's default
    ``epsilon`` is 1e-7). With ``amsgrad=True`` the maximum is taken over the raw
    :math:`v`, as Keras does.
    """

    def _update(self, p, g, state):
        eps_hat = self.hyper["eps"]
        self.hyper["eps"] = eps_hat / math.sqrt(1 - self.hyper["betas"][1] ** state["step"])
        try:
            super()._update(p, g, state)
        finally:
            self.hyper["eps"] = eps_hat                     # the user's ε̂ stays what it was


# --------------------------------------------------------------------------- NAdam

def nadam_momentum(t, beta1=0.9, momentum_decay=4e-3):
    r"""NAdam's momentum schedule :math:`\mu_t = \beta_1\,(1 - \tfrac12\, 0.96^{\,t\psi})`.

    PyTorch's ``NAdam`` uses :math:`\psi` = ``momentum_decay`` = 0.004, so
    :math:`\mu_t` starts near :math:`\beta_1/2` and approaches :math:`\beta_1` only
    over tens of thousands of steps; Keras 3's ``Nadam`` uses
    :math:`0.96^{\,t}`, i.e. :math:`\psi = 1`, and is within 1% of
    :math:`\beta_1` after about 100 steps.

    Parameters
    ----------
    t : int or ``array_like``
        Step numbers, >= 1.
    beta1 : float
        :math:`\beta_1 \in [0, 1)`.
    momentum_decay : float
        :math:`\psi \ge 0`.

    Returns
    -------
    float or ``ndarray``
    """
    t = _steps(t)
    beta1 = _beta("beta1", beta1)
    if isinstance(momentum_decay, bool) or not isinstance(momentum_decay, numbers.Real) \
            or not math.isfinite(momentum_decay) or momentum_decay < 0:
        raise ValueError(f"momentum_decay must be a finite number >= 0, got {momentum_decay!r}")
    return _scalar_or_array(beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)))


# --------------------------------------------------------------------------- RAdam

def radam_rho(t, beta2=0.999):
    r"""RAdam's :math:`\rho_t`, the length of the simple average that :math:`v_t` stands for.

    .. math::

        \rho_\infty = \frac{2}{1-\beta_2} - 1,\qquad
        \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}

    (Liu et al. 2020, eq. 4). :math:`\rho_1 = 1`, :math:`\rho_t \approx t` while
    :math:`t \ll 1/(1-\beta_2)`, and :math:`\rho_t \to \rho_\infty` (1999 for
    :math:`\beta_2 = 0.999`).

    Parameters
    ----------
    t : int or ``array_like``
        Step numbers, >= 1.
    beta2 : float
        :math:`\beta_2 \in (0, 1)`.

    Returns
    -------
    float or ``ndarray``
    """
    t = _steps(t)
    beta2 = _beta("beta2", beta2)
    if beta2 == 0:
        raise ValueError("beta2 must be in (0, 1) for RAdam, got 0.0")
    rho_inf = 2 / (1 - beta2) - 1
    return _scalar_or_array(rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t))


def radam_rectifier(t, beta2=0.999, threshold=5.0):
    r"""RAdam's variance rectification term :math:`r_t`, or 0 where RAdam does not adapt.

    .. math::

        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}
                         {(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}}
        \quad (\rho_t > \text{threshold})

    (Liu et al. 2020, Algorithm 2). It is the ratio of the standard deviations of the
    adaptive rate :math:`1/\sqrt{\hat v}` at :math:`t = \infty` and at step :math:`t`
    (to first order, for i.i.d. Gaussian gradients), so :math:`r_t\,/\sqrt{\hat v_t}`
    has the spread of the long-run rate. While :math:`\rho_t` is at most the
    threshold (the paper's 4, where that variance is infinite; PyTorch and the
    authors' code use 5) RAdam takes an un-adapted momentum step instead, and this
    function returns 0.

    Parameters
    ----------
    t : int or ``array_like``
        Step numbers, >= 1.
    beta2 : float
        :math:`\beta_2 \in (0, 1)`.
    threshold : float
        :math:`\rho_t` above which the adaptive rate is used, >= 4.

    Returns
    -------
    float or ``ndarray``
        In [0, 1].
    """
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) \
            or not math.isfinite(threshold) or threshold < 4:
        raise ValueError(f"threshold must be a finite number >= 4, got {threshold!r}")
    rho = np.asarray(radam_rho(t, beta2))
    rho_inf = 2 / (1 - beta2) - 1
    on = rho > threshold
    safe = np.where(on, rho, rho_inf)                       # no sqrt of a negative number
    r = np.sqrt((safe - 4) * (safe - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe))
    return _scalar_or_array(np.where(on, r, 0.0))


# ====================================================================== counterexamples
def reddi_gradients(steps, C=3.0, period=3, small=1.0):
    r"""The gradients :math:`g_t = f_t'(x)` of Reddi et al.'s linear losses, :math:`t = 1..T`.

    :math:`g_t = C` when :math:`t \bmod \text{period} = 1` and :math:`-\text{small}`
    otherwise. The defaults are the paper's §3 example (:math:`C = 3 > 2`, every third
    step); ``C=1010, period=101, small=10`` is its §5 synthetic experiment.

    Parameters
    ----------
    steps : int
        :math:`T \ge 1`.
    C : float
        The rare large gradient, > 0.
    period : int
        A large gradient every ``period`` steps, >= 2.
    small : float
        Size of the other gradients, > 0.

    Returns
    -------
    ``ndarray``
        Shape ``(T,)``, float64.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if isinstance(period, bool) or not isinstance(period, numbers.Integral) or period < 2:
        raise ValueError(f"period must be an integer >= 2, got {period!r}")
    for name, value in (("C", C), ("small", small)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    t = np.arange(1, int(steps) + 1)
    return np.where(t % period == 1, float(C), -float(small))


def inverse_sqrt(alpha):
    r"""The step sizes :math:`\alpha_t = \alpha/\sqrt t` of Reddi et al.'s analysis, as a schedule.

    Returns a callable in optlib's schedule convention (``schedule(k)`` is the rate of
    the step taken after ``k`` steps, so step :math:`t = k + 1`).

    Parameters
    ----------
    alpha : float
        :math:`\alpha > 0`.

    Returns
    -------
    callable
        ``k -> alpha / sqrt(k + 1)``.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    alpha = float(alpha)
    return lambda k: alpha / math.sqrt(k + 1)


@dataclass(frozen=True, eq=False)
class OnlineRun:
    r"""What happened in an online run on linear losses :math:`f_t(x) = g_t x`.

    Attributes
    ----------
    x : ``ndarray``
        Shape ``(T + 1,)``: :math:`x_1` (the start) then the iterate after each step;
        ``x[t-1]`` is the point at which :math:`f_t` is paid.
    losses : ``ndarray``
        Shape ``(T,)``: :math:`f_t(x_t) = g_t x_t`.
    regret : ``ndarray``
        Shape ``(T,)``: :math:`R_T = \sum_{t\le T} f_t(x_t) - \min_{x\in\mathcal F}
        \sum_{t \le T} f_t(x)` for every :math:`T`.
    """

    x: np.ndarray
    losses: np.ndarray
    regret: np.ndarray

    @property
    def average_regret(self):
        r""":math:`R_T/T` for every :math:`T`; it tends to 0 for a method that converges."""
        return self.regret / np.arange(1, len(self.regret) + 1)


def projected_online(optimizer, grads, x0=1.0, bounds=(-1.0, 1.0), schedule=None):
    r"""Online gradient steps on :math:`f_t(x) = g_t x`, each followed by projection onto ``bounds``.

    For :math:`t = 1, \dots, T`: pay :math:`f_t(x_t)`, set ``optimizer.lr =
    schedule(t - 1)`` if a schedule is given, call ``optimizer.step([x], [g_t])``, then
    clip :math:`x` to :math:`[\text{lo}, \text{hi}]` (the projection
    :math:`\Pi_{\mathcal F}`, which optlib's optimizers do not do themselves). The
    optimizer's state (:math:`m, v`) is never touched by the clip, as in the paper.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optlib optimizer, e.g. ``Adam(betas=(0.0, 0.1))``.
    grads : ``array_like``
        The gradients :math:`g_1, \dots, g_T`, e.g. from :func:`reddi_gradients`.
    x0 : float
        :math:`x_1`, inside ``bounds``. The paper's proof starts at 1.
    bounds : ``(float, float)``
        :math:`\mathcal F = [\text{lo}, \text{hi}]`, lo < hi.
    schedule : callable, optional
        ``k -> lr`` for the step after ``k`` steps, e.g. :func:`inverse_sqrt`.

    Returns
    -------
    OnlineRun
    """
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim != 1 or len(grads) == 0 or not np.all(np.isfinite(grads)):
        raise ValueError(f"grads must be a non-empty 1-D array of finite numbers, got shape {grads.shape}")
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be two finite numbers lo < hi, got {bounds!r}")
    if not lo <= x0 <= hi:
        raise ValueError(f"x0 must be inside bounds [{lo}, {hi}], got {x0!r}")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a callable k -> lr or None, got {schedule!r}")
    x = np.array([float(x0)])
    xs = np.empty(len(grads) + 1)
    xs[0] = x[0]
    for k, g in enumerate(grads):
        if schedule is not None:
            optimizer.lr = schedule(k)
        optimizer.step([x], [np.array([g])])
        np.clip(x, lo, hi, out=x)                           # x_{t+1} = Π_F(x_t - step)
        xs[k + 1] = x[0]
    losses = grads * xs[:-1]
    total = np.cumsum(grads)
    best = np.minimum(lo * total, hi * total)               # min over x in F of x·Σ g_t
    return OnlineRun(x=xs, losses=losses, regret=np.cumsum(losses) - best)


# ====================================================================== adam_explorer
def run_with_adam_rates(optimizer, surface, start=None, steps=100):
    r"""``optlib.run`` for an Adam-type optimizer that also returns both coordinates' rates.

    Parameters
    ----------
    optimizer : ``Adam`` or ``AdamW``
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
        Shape ``(steps, 2)``: row :math:`t-1` is :math:`\eta/(\sqrt{\hat v_t}+\epsilon)`
        after step :math:`t`.
    """
    if not isinstance(optimizer, Adam):
        raise TypeError(f"optimizer must be an optlib Adam or AdamW, got {type(optimizer).__name__}")
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    return run_with_rates(optimizer, surface, start=start, steps=steps)


def _label(optimizer):
    h = optimizer.hyper
    b1, b2 = h["betas"]
    return (f"{display_name(optimizer)}, η = {h['lr']:.3g}, β₁ = {b1:.3g}, β₂ = {b2:.4g}, "
            f"ε = {h['eps']:.0e}")


def adam_figure(surface, optimizer, start=None, steps=100, label=None, color=None,
                figsize=(11.0, 3.5)):
    r"""Path, loss and per-coordinate rate :math:`\eta/(\sqrt{\hat v_t}+\epsilon)` of an Adam run.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Adam`` or ``AdamW``
        A fresh one.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps.
    label : str, optional
        Default: the optimizer's book name with η, β₁, β₂ and ε.
    color : str, optional
        Default: the optimizer's colour.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot, so a notebook shows it once, as the cell's value.
    """
    trajectory, rates = run_with_adam_rates(optimizer, surface, start=start, steps=steps)
    label = label or _label(optimizer)
    color = color or optimizer_color(display_name(optimizer))
    fig = Figure(figsize=figsize, layout="constrained")
    fig.suptitle(label, fontsize=10)
    ax_map, ax_loss, ax_rate = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.1])
    contour(surface, ax=ax_map)
    plot_trajectory(ax_map, trajectory, label, color=color)
    ax_map.set_title("path", fontsize=10)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(widgets._summary(None, trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    ceiling = optimizer.lr / optimizer.hyper["eps"] if optimizer.hyper["eps"] > 0 else np.inf
    top = np.nanmax(np.where(np.isfinite(rates), rates, np.nan)) if np.isfinite(rates).any() else 1.0
    if np.isfinite(ceiling) and ceiling < 100 * top:
        ax_rate.axhline(ceiling, color="0.5", lw=1, ls=":", label="η/ε")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$",
                ylabel=r"rate $\eta/(\sqrt{\hat v_{t,i}}+\epsilon)$")
    ax_rate.set_title("rate of each coordinate", fontsize=10)
    if len(rates):
        ax_rate.legend()
    return fig


def adam_explorer(surface, make_optimizer, sliders, steps=100, start=True):
    r"""Sliders for Adam's hyper-parameters on a surface, with the per-coordinate rate panel.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer`` (``Adam`` or ``AdamW``).
    sliders : dict
        Keyword name → slider spec, as for ``optlib.widgets.surface_explorer``.
    steps : int
        Steps per run, >= 1.
    start : bool
        Add sliders for the start point :math:`\theta_0`, starting at ``surface.start``.

    Returns
    -------
    ``optlib.widgets.Explorer``
        The surface explorer drawing :func:`adam_figure`.
    """
    return widgets.surface_explorer(surface, make_optimizer, sliders, steps=steps, start=start,
                                    figure=adam_figure)
