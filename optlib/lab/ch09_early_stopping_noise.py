r"""Early stopping as L2 regularization, in closed form on least squares.

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

import numpy as np

__all__ = [
    'gd_filter',
    'ridge_filter',
    'equivalent_alpha',
    'gd_iterate',
    'ridge',
]

# ====================================================================== implicit_regularization
def _check_positive(name, value):
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return arr


def _check_steps(steps):
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
    lr = float(_check_positive("lr", lr))
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
    alpha = float(_check_positive("alpha", alpha))
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
    lr = float(_check_positive("lr", lr))
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
    lr = float(_check_positive("lr", lr))
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
