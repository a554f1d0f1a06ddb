r"""Chapter 5 (Adam and its family): what Adam's formulas imply, step by step.

The optimizers themselves live in :mod:`optlib.optim`, the per-coordinate rate
:math:`\eta / (\sqrt{\hat v_t} + \epsilon)` in :mod:`optlib.optim.effective_rate`, and
the replay of a gradient sequence in ``optlib.surfaces.replay``; this module holds what
the chapter needs to *examine* them, in three sections:

* **Adam's formulas**: ``constant_gradient_step`` gives Adam's step for a constant
  gradient with and without each bias correction (Kingma & Ba 2015, §3);
  ``epsilon_hat_to_eps`` and ``AdamEpsHat``: TensorFlow/Keras's "ε-hat" form of Adam;
  ``nadam_momentum``: NAdam's momentum schedule :math:`\mu_t` (PyTorch, Keras 3);
  ``radam_rho`` and ``radam_rectifier``: RAdam's :math:`\rho_t` and :math:`r_t`
  (Liu et al. 2020).
* **counterexample**: Reddi, Kale & Kumar's (2018) online convex problem on which Adam
  converges to the wrong point (``reddi_gradients``, ``inverse_sqrt``,
  ``projected_online``, ``OnlineRun``).

The chapter's explorer (path, loss and each coordinate's rate) is chapter 3's
``rate_figure`` and ``rate_explorer``, which cover Adam.

Notation (COURSE.md §5): step :math:`t` counts from 1, :math:`\beta_1, \beta_2` are
``betas``, :math:`m_t, v_t` are ``exp_avg, exp_avg_sq``, :math:`\epsilon` is ``eps``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optlib import checks
from optlib.optim import Adam
from optlib.surfaces import replay

__all__ = [
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
]


# ====================================================================== Adam's formulas
def _beta(name, value):
    return checks.real(name, value, low=0, high=1, high_open=True)


def _steps(t):
    """``t`` as a float array of step numbers >= 1 (a scalar stays 0-d)."""
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 1):
        raise ValueError(f"t must hold step numbers >= 1, got {t!r}")
    return t


def _scalar_or_array(x):
    return float(x) if np.ndim(x) == 0 else x


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
    eps_hat = checks.real("eps_hat", eps_hat, low=0)
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

    def update(self, p, g, state):
        eps_hat = self.hyper["eps"]
        self.hyper["eps"] = eps_hat / math.sqrt(1 - self.hyper["betas"][1] ** state["step"])
        try:
            super().update(p, g, state)
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
    momentum_decay = checks.real("momentum_decay", momentum_decay, low=0)
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
    threshold = checks.real("threshold", threshold, low=4)
    rho = np.asarray(radam_rho(t, beta2))
    rho_inf = 2 / (1 - beta2) - 1
    on = rho > threshold
    safe = np.where(on, rho, rho_inf)                       # no sqrt of a negative number
    r = np.sqrt((safe - 4) * (safe - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * safe))
    return _scalar_or_array(np.where(on, r, 0.0))


# ====================================================================== counterexample
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
    steps = checks.integer("steps", steps, low=1)
    period = checks.integer("period", period, low=2)
    C = checks.real("C", C, low=0, low_open=True)
    small = checks.real("small", small, low=0, low_open=True)
    t = np.arange(1, steps + 1)
    return np.where(t % period == 1, C, -small)


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
    alpha = checks.real("alpha", alpha, low=0, low_open=True)
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
    x = replay(optimizer, grads, theta0=x0, schedule=schedule, bounds=bounds)
    losses = grads * x[:-1]                                 # f_t(x_t), paid before step t
    lo, hi = bounds
    total = np.cumsum(grads)
    best = np.minimum(lo * total, hi * total)               # min over x in F of x·Σ g_t
    return OnlineRun(x=x, losses=losses, regret=np.cumsum(losses) - best)
