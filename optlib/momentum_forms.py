r"""Momentum as the papers write it: the classical velocity form and Nesterov's look-ahead.

``optlib.SGD`` follows PyTorch, which stores a buffer of accumulated *gradients*
:math:`b_t` and multiplies it by the learning rate at each step. The papers store a
*velocity* :math:`v_t`, a step already scaled by :math:`\eta`:

* heavy ball (Polyak 1964):
  :math:`v_t = \beta v_{t-1} - \eta_t g_t,\ \theta_t = \theta_{t-1} + v_t`;
* Nesterov's accelerated gradient in the form of Sutskever et al. (2013): the same,
  with the gradient taken at the look-ahead point,
  :math:`g_t = \nabla L(\theta_{t-1} + \beta v_{t-1})`.

These reference versions exist so that a chapter can check, number for number, that
PyTorch's forms are the same algorithms (:math:`v_t = -\eta b_t` while :math:`\eta` is
constant; PyTorch's Nesterov iterates are the look-ahead points
:math:`\theta_t + \beta v_t`). They take a gradient *function*, not a gradient,
because the look-ahead form needs the gradient at a point other than the parameters:
the reason frameworks, whose ``step`` only sees the gradient at the parameters, use
the change of variables instead.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["VelocityRun", "heavy_ball", "nesterov_lookahead"]


@dataclass(frozen=True, eq=False)
class VelocityRun:
    r"""The iterates of a velocity-form run.

    Attributes
    ----------
    path : ``ndarray``
        Shape ``(steps + 1, d)``: :math:`\theta_0, \theta_1, \dots, \theta_T`.
    velocity : ``ndarray``
        Shape ``(steps + 1, d)``: :math:`v_0 = 0, v_1, \dots, v_T`.
    """

    path: np.ndarray
    velocity: np.ndarray


def _check(theta0, lr, momentum, steps, grad):
    if not callable(grad):
        raise TypeError(f"grad must be a callable theta -> gradient, got {grad!r}")
    theta = np.array(theta0, dtype=np.float64).reshape(-1)
    if theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta0 must be finite numbers, got {theta0!r}")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
            or not 0 <= momentum < 1:
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if callable(lr):
        rate = lr
    elif isinstance(lr, numbers.Real) and not isinstance(lr, bool) \
            and math.isfinite(lr) and lr >= 0:
        rate = lambda t: lr                                   # noqa: E731
    else:
        raise ValueError(f"lr must be a finite number >= 0 or a callable t -> lr, got {lr!r}")
    return theta, rate, float(momentum), int(steps)


def _velocity_run(grad, theta0, lr, momentum, steps, lookahead):
    theta, rate, beta, steps = _check(theta0, lr, momentum, steps, grad)
    path = np.empty((steps + 1, theta.size))
    velocity = np.zeros((steps + 1, theta.size))
    path[0] = theta
    v = np.zeros_like(theta)                                  # v_0 = 0: start at rest
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            eta = rate(t)                                     # like a schedule: rate(0) first
            at = theta + beta * v if lookahead else theta     # where the gradient is taken
            v = beta * v - eta * np.asarray(grad(at), dtype=np.float64)   # v_t = βv_{t-1} - η g_t
            theta = theta + v                                 # θ_t = θ_{t-1} + v_t
            path[t + 1], velocity[t + 1] = theta, v
    return VelocityRun(path=path, velocity=velocity)


def heavy_ball(grad, theta0, lr, momentum, steps):
    r"""Polyak's heavy ball in the classical velocity form.

    .. math::

        v_t = \beta v_{t-1} - \eta_t\,\nabla L(\theta_{t-1}), \qquad
        \theta_t = \theta_{t-1} + v_t, \qquad v_0 = 0 .

    B. T. Polyak, "Some methods of speeding up the convergence of iteration methods",
    *USSR Computational Mathematics and Mathematical Physics* 4(5):1–17, 1964.

    Parameters
    ----------
    grad : ``callable``
        :math:`\theta \mapsto \nabla L(\theta)`, e.g. ``surface.grad``.
    theta0 : ``array_like``
        :math:`\theta_0`.
    lr : float or ``callable``
        :math:`\eta`, or a schedule ``t -> lr`` (``t`` = steps already taken).
    momentum : float
        :math:`\beta \in [0, 1)`.
    steps : int
        Number of steps :math:`T`.

    Returns
    -------
    ``VelocityRun``
    """
    return _velocity_run(grad, theta0, lr, momentum, steps, lookahead=False)


def nesterov_lookahead(grad, theta0, lr, momentum, steps):
    r"""Nesterov's accelerated gradient with the look-ahead gradient (Sutskever et al. form).

    .. math::

        v_t = \beta v_{t-1} - \eta_t\,\nabla L(\theta_{t-1} + \beta v_{t-1}), \qquad
        \theta_t = \theta_{t-1} + v_t, \qquad v_0 = 0 .

    The gradient is read where the momentum is about to carry the parameters, so a
    step that would overshoot is corrected before it is taken.

    Y. Nesterov, "A method for solving the convex programming problem with convergence
    rate :math:`O(1/k^2)`", *Soviet Mathematics Doklady* 27:372–376, 1983;
    I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization
    and momentum in deep learning", ICML 2013.

    Parameters
    ----------
    grad : ``callable``
        :math:`\theta \mapsto \nabla L(\theta)`.
    theta0 : ``array_like``
    lr : float or ``callable``
        :math:`\eta`, or a schedule ``t -> lr``.
    momentum : float
        :math:`\beta \in [0, 1)`.
    steps : int

    Returns
    -------
    ``VelocityRun``
    """
    return _velocity_run(grad, theta0, lr, momentum, steps, lookahead=True)
