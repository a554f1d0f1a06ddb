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
"""
import math
import numbers

import numpy as np

from .optim import Adam

__all__ = ["replay", "constant_gradient_step", "adam_effective_rate", "epsilon_hat_to_eps",
           "AdamEpsHat", "nadam_momentum", "radam_rho", "radam_rectifier"]


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
