r"""Chapter 9 (early stopping and gradient noise): early stopping as L2 regularization.

Early stopping as L2 regularization, in closed form on least squares
(``gd_filter``, ``ridge_filter``, ``equivalent_alpha``, ``gd_iterate``, ``ridge``).
Take the least-squares cost :math:`L(\theta) = \frac{1}{2N}\lVert X\theta - y\rVert^2`
with Hessian :math:`H = X^\top X / N = \sum_i \lambda_i u_i u_i^\top` and
:math:`r = X^\top y / N`. Gradient descent with rate :math:`\eta` from
:math:`\theta_0 = 0` and the ridge (L2-penalized) solution with strength
:math:`\alpha`, the minimizer of :math:`L(\theta) + \frac{\alpha}{2}\lVert\theta\rVert^2`,
are both the least-squares solution :math:`\theta^\star` with each eigen-direction
shrunk by a *filter factor*:

.. math::

    u_i^\top\theta_t = \bigl(1 - (1 - \eta\lambda_i)^t\bigr)\, u_i^\top\theta^\star,
    \qquad
    u_i^\top\theta_\alpha = \frac{\lambda_i}{\lambda_i + \alpha}\, u_i^\top\theta^\star .

Both filters are close to 1 where :math:`\lambda_i` is large (directions learned
early, or barely penalized) and close to 0 where it is small. Matching them gives
:math:`\alpha \approx 1/(\eta t)`: stopping after :math:`t` steps acts like an L2
penalty whose strength falls as training goes on (Goodfellow, Bengio and Courville,
*Deep Learning*, 2016, section 7.8; Bishop 1995).
"""
from __future__ import annotations

import math

import numpy as np

from optlib import checks

__all__ = [
    'gd_filter',
    'ridge_filter',
    'equivalent_alpha',
    'gd_iterate',
    'ridge',
    'noise_variance',
    'noise_spread',
    'espnet_noise_std',
    'HoldWeightSpread',
]

# ====================================================================== early stopping as L2
def _check_positive(name, value):
    """``value`` as a float64 array, all finite and > 0 (``checks.real`` for arrays)."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def _check_steps(steps):
    """``steps`` as an integer array, all >= 0 (``checks.integer`` for arrays)."""
    arr = np.asarray(steps)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"steps must be integers >= 0, got {steps!r}")
    return arr


def gd_filter(eigenvalues, lr, steps):
    r"""Filter factor of gradient descent after ``steps`` steps: :math:`1 - (1-\eta\lambda)^t`.

    Parameters
    ----------
    eigenvalues : ``array_like``
        Curvatures :math:`\lambda_i \ge 0`.
    lr : float
        :math:`\eta > 0`.
    steps : int
        :math:`t \ge 0`.

    Returns
    -------
    ``ndarray``
        One factor per eigenvalue; in :math:`[0, 1]` when :math:`\eta\lambda_i \le 1`.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    lr = checks.real("lr", lr, low=0, low_open=True)
    t = _check_steps(steps)
    return 1.0 - (1.0 - lr * lam) ** t


def ridge_filter(eigenvalues, alpha):
    r"""Filter factor of ridge regression with strength :math:`\alpha`: :math:`\lambda/(\lambda+\alpha)`.

    Parameters
    ----------
    eigenvalues : ``array_like``
        Curvatures :math:`\lambda_i \ge 0`.
    alpha : float
        Penalty strength :math:`\alpha > 0`.

    Returns
    -------
    ``ndarray``
        One factor per eigenvalue, in :math:`[0, 1)`.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    alpha = checks.real("alpha", alpha, low=0, low_open=True)
    return lam / (lam + alpha)


def equivalent_alpha(lr, steps):
    r"""The L2 strength that ``steps`` steps of gradient descent at rate ``lr`` mimic: :math:`1/(\eta t)`.

    For small :math:`\eta\lambda`, :math:`(1-\eta\lambda)^t \approx e^{-\eta\lambda t}`,
    and with :math:`x = \eta t\lambda` the two filters are :math:`1 - e^{-x}` and
    :math:`x/(x+1)`: both rise from 0 to 1 around :math:`x = 1`, that is around
    :math:`\lambda = 1/(\eta t) = \alpha`, and they never differ by more than 0.2
    (at :math:`x \approx 2.5`). So the GD filter at :math:`t` has the shape and the
    position of the ridge filter at :math:`\alpha = 1/(\eta t)`, a little sharper.

    Parameters
    ----------
    lr : float
        :math:`\eta > 0`.
    steps : int or ``array_like``
        :math:`t \ge 1`.

    Returns
    -------
    float or ``ndarray``
        :math:`\alpha = 1/(\eta t)`.
    """
    lr = checks.real("lr", lr, low=0, low_open=True)
    t = _check_steps(steps)
    if np.any(t < 1):
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    out = 1.0 / (lr * t)
    return float(out) if np.ndim(out) == 0 else out


def _spectrum(X, y):
    """Eigen-decomposition of H = XᵀX/N and the coordinates of r = Xᵀy/N in it."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(X))
    n = len(X)
    lam, U = np.linalg.eigh(X.T @ X / n)
    lam = np.clip(lam, 0.0, None)                   # round-off can make 0 slightly negative
    c = U.T @ (X.T @ y / n)                         # u_iᵀ r
    return lam, U, c


def gd_iterate(X, y, lr, steps):
    r"""Gradient descent on :math:`\frac{1}{2N}\lVert X\theta-y\rVert^2` from 0, in closed form.

    .. math::

        \theta_t = \sum_i \frac{1 - (1-\eta\lambda_i)^t}{\lambda_i}\,(u_i^\top r)\, u_i ,

    which is exactly :math:`t` steps :math:`\theta_t = \theta_{t-1} - \eta\nabla L(\theta_{t-1})`
    (for :math:`\lambda_i = 0` the factor is its limit :math:`\eta t`, and there
    :math:`u_i^\top r = 0` anyway).

    Parameters
    ----------
    X : ``ndarray``
        ``(N, d)`` inputs.
    y : ``ndarray``
        ``(N,)`` or ``(N, 1)`` targets.
    lr : float
        :math:`\eta > 0`.
    steps : int or ``array_like`` of int
        :math:`t \ge 0`, one or several.

    Returns
    -------
    ``ndarray``
        ``(d,)`` for one ``steps``, ``(len(steps), d)`` for several.
    """
    lr = checks.real("lr", lr, low=0, low_open=True)
    t = _check_steps(steps)
    lam, U, c = _spectrum(X, y)
    tt = np.atleast_1d(t)[:, None].astype(np.float64)
    small = lam < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(small, lr * tt, (1.0 - (1.0 - lr * lam) ** tt) / np.where(small, 1.0, lam))
    theta = (gain * c) @ U.T
    return theta[0] if np.ndim(t) == 0 else theta


def ridge(X, y, alpha):
    r"""The ridge solution :math:`(H + \alpha I)^{-1} r`, minimizer of :math:`L + \frac{\alpha}{2}\lVert\theta\rVert^2`.

    Parameters
    ----------
    X : ``ndarray``
        ``(N, d)`` inputs.
    y : ``ndarray``
        ``(N,)`` or ``(N, 1)`` targets.
    alpha : float or ``array_like``
        :math:`\alpha > 0`, one or several.

    Returns
    -------
    ``ndarray``
        ``(d,)`` for one ``alpha``, ``(len(alpha), d)`` for several.
    """
    a = _check_positive("alpha", alpha)
    lam, U, c = _spectrum(X, y)
    theta = (c / (lam + np.atleast_1d(a)[:, None])) @ U.T
    return theta[0] if a.ndim == 0 else theta


# ====================================================================== gradient noise (formerly optim.noise)
# The annealed variance of ``optlib.optim.wrappers.GradientNoise``, and how far it moves
# the weights of plain SGD on a plateau (Neelakantan et al. 2015, arXiv:1511.06807).


def noise_variance(t, eta=0.3, gamma=0.55):
    r"""The annealed variance :math:`\sigma_t^2 = \eta / (1+t)^\gamma`.

    Parameters
    ----------
    t : int or ``ndarray``
        Step :math:`t \ge 1` (arrays allowed, for plotting the schedule).
    eta : float
        Noise scale :math:`\eta \ge 0` (the variance at :math:`t = 0`).
    gamma : float
        Decay exponent :math:`\gamma \ge 0`; 0 keeps the variance constant.

    Returns
    -------
    float or ``ndarray``
        :math:`\sigma_t^2`.
    """
    eta, gamma = checks.real("eta", eta, low=0), checks.real("gamma", gamma, low=0)
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 1):
        raise ValueError(f"t must be >= 1 (steps are counted from 1), got {t.min():g}")
    out = eta / (1.0 + t) ** gamma
    return float(out) if out.ndim == 0 else out


def noise_spread(lr, steps, eta=0.3, gamma=0.55):
    r"""How far the noise alone moves each parameter of plain SGD: a random walk.

    With no gradient (a plateau) and constant rate ``lr``, plain SGD
    moves each parameter by :math:`-\text{lr}\cdot\xi_t` per step, independent
    Gaussian steps, so after :math:`T` steps the parameter has spread by

    .. math::

        s_T = \text{lr}\,\sqrt{\textstyle\sum_{t=1}^{T} \sigma_t^2} .

    A weight that started with standard deviation :math:`s_0` then has
    :math:`\sqrt{s_0^2 + s_T^2}`: noise on a plateau makes the weights larger.
    (With momentum :math:`\beta` each step is amplified by about
    :math:`1/(1-\beta)`; this function is for plain SGD.)

    Parameters
    ----------
    lr : float
        Learning rate, >= 0.
    steps : int
        :math:`T \ge 0`.
    eta, gamma : float
        Noise scale and decay exponent, as in ``noise_variance``.

    Returns
    -------
    float
        :math:`s_T`.
    """
    lr = checks.real("lr", lr, low=0)
    steps = checks.integer("steps", steps, low=0)
    if steps == 0:
        return 0.0
    total = float(np.sum(noise_variance(np.arange(1, int(steps) + 1), eta, gamma)))
    return lr * math.sqrt(total)


def espnet_noise_std(t, eta=1.0, duration=100, scale_factor=0.55):
    r"""Standard deviation of ESPnet's gradient noise at iteration ``t``.

    ESPnet's ``add_gradient_noise(model, iteration, duration=100, eta=1.0,
    scale_factor=0.55)`` adds Gaussian noise of standard deviation

    .. math::

        \sigma^{\text{ESPnet}}_t = \frac{\eta}{(1 + \lfloor t/\text{duration} \rfloor)^{\text{scale\_factor}}},

    so its ``eta`` is a standard deviation, and the decay is in steps of ``duration``
    iterations, with exponent 0.55 on the standard deviation. The paper's (and
    ``GradientNoise``'s) standard deviation is :math:`\sqrt{\eta}/(1+t)^{0.275}`: the two
    agree up to the factor :math:`\sqrt\eta` only near :math:`t = 0`.

    Parameters
    ----------
    t : int or ``array_like``
        Iteration count, >= 0.
    eta : float
        ESPnet's ``eta`` (>= 0).
    duration : int
        Iterations per decay step, >= 1.
    scale_factor : float
        Decay exponent of the standard deviation, >= 0.

    Returns
    -------
    float or ``ndarray``
    """
    eta = checks.real("eta", eta, low=0)
    duration = checks.integer("duration", duration, low=1)
    scale_factor = checks.real("scale_factor", scale_factor, low=0)
    t = np.asarray(t)
    if t.dtype.kind not in "iu" or np.any(t < 0):
        raise ValueError(f"t must hold integers >= 0, got {t!r}")
    out = eta / (1.0 + t // duration) ** scale_factor
    return float(out) if np.ndim(out) == 0 else out


class HoldWeightSpread:
    r"""A ``fit`` callback that keeps each weight matrix at its starting spread.

    After every update it rescales each parameter whose name ends in ``"weight"``
    back to the standard deviation it had when the callback was made,
    :math:`W \leftarrow W\, s_0 / \operatorname{std}(W)`. The direction of the update
    is kept, its growth of the weights is removed: chapter 9's control for "gradient
    noise helped by making the weights bigger" (noise kicks without the growth).

    Parameters
    ----------
    model : optlib.nn module
        The model about to be trained; its weights' spreads are read now.
    """

    def __init__(self, model):
        self.spread = {name: float(w.std()) for name, w in model.parameters().items()
                       if name.endswith("weight")}

    def on_step(self, step, loss, history, model):
        for name, w in model.parameters().items():
            if name in self.spread:
                w *= self.spread[name] / w.std()
        return False
