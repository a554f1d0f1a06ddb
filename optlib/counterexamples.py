r"""Reddi, Kale & Kumar's online convex problem on which Adam converges to the wrong point.

Reddi, Kale & Kumar (2018), *On the convergence of Adam and beyond*, ICLR, §3: on the
feasible set :math:`\mathcal F = [-1, 1]` a player picks :math:`x_t`, then sees the
linear loss

.. math::

    f_t(x) = \begin{cases} C\,x & t \bmod 3 = 1\\ -x & \text{otherwise,}\end{cases}
    \qquad C > 2 .

Over three steps the losses add up to :math:`(C-2)\,x`, so the best fixed point is
:math:`x = -1`. With :math:`\beta_1 = 0`, :math:`\beta_2 = 1/(1+C^2)` and
:math:`\alpha_t = \alpha/\sqrt t`, Adam goes to :math:`x = +1` instead (their
Theorem 1): the rare large gradient :math:`C` is divided by a :math:`\sqrt{v_t}` that it
has just inflated, while the two small gradients :math:`-1` are divided by a
:math:`\sqrt{v_t}` that has already forgotten it. AMSGrad's
:math:`\max(v^{max}_{t-1}, v_t)` remembers the large gradient and converges to
:math:`-1`.

The paper's algorithms project every iterate back onto :math:`\mathcal F`
(:math:`x_{t+1} = \Pi_{\mathcal F}(\cdot)`). optlib's optimizers are unconstrained,
so :func:`projected_online` runs the online loop itself: it calls the optimizer's
``step`` and then clips :math:`x` to :math:`[-1, 1]`, which in one dimension is exactly
the paper's projection (its weighted projection :math:`\Pi_{\mathcal F,\sqrt{\hat V_t}}`
is the same clip in 1-D).
"""
import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["reddi_gradients", "inverse_sqrt", "OnlineRun", "projected_online"]


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
