r"""Gradient noise: annealed Gaussian noise added to every gradient, for any optimizer.

Neelakantan et al. (2015, "Adding gradient noise improves learning for very deep
networks", arXiv:1511.06807) add fresh Gaussian noise to the gradient at every step
and shrink its variance over time:

.. math::

    \tilde g_t = g_t + \xi_t,\qquad \xi_t \sim \mathcal N(0, \sigma_t^2 I),\qquad
    \sigma_t^2 = \frac{\eta}{(1 + t)^{\gamma}},

with :math:`\eta \in \{0.01, 0.3, 1.0\}` and :math:`\gamma = 0.55` in the paper.
The paper's :math:`\eta` is the noise scale, **not** the learning rate; the chapter
writes it :math:`\nu` to keep :math:`\eta` for the learning rate, and the code keeps
the paper's name ``eta``. The step counter :math:`t` starts at 1, as everywhere in
the course, so the first step's variance is :math:`\eta/2^{\gamma}`.

The noise is a *gradient transform*: ``GradientNoise`` wraps any optimizer (SGD,
Adam, ...), perturbs the gradients and hands them on, so it plugs into
``optlib.fit`` (or ``optlib.run``) like an optimizer. The optimizer then treats
:math:`\tilde g_t` as the gradient: Adam's moments, for example, average the noise.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from optlib.optim import OptimizerWrapper

__all__ = ["noise_variance", "noise_spread", "GradientNoise"]


def _check_nonneg(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


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
    eta, gamma = _check_nonneg("eta", eta), _check_nonneg("gamma", gamma)
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
    lr = _check_nonneg("lr", lr)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if steps == 0:
        return 0.0
    total = float(np.sum(noise_variance(np.arange(1, int(steps) + 1), eta, gamma)))
    return lr * math.sqrt(total)


class GradientNoise(OptimizerWrapper):
    r"""Wrap an optimizer so that every gradient gets annealed Gaussian noise first.

    Step :math:`t` draws :math:`\xi_t \sim \mathcal N(0, \sigma_t^2 I)` with
    :math:`\sigma_t^2 = \eta/(1+t)^\gamma` (one independent draw per coordinate of
    every array), and calls ``optimizer.step(params, g + ξ)``. The caller's
    gradient arrays are never modified.

    Parameters
    ----------
    optimizer : ``Optimizer``
        Any object with ``step(params, grads)`` and ``lr``, e.g. ``optlib.SGD``.
    eta : float
        Noise scale :math:`\eta \ge 0` (the paper tries 0.01, 0.3 and 1.0);
        ``eta=0`` adds nothing and leaves the wrapped optimizer's steps unchanged.
    gamma : float
        Decay exponent :math:`\gamma \ge 0` (paper: 0.55); 0 gives constant noise.
    seed : int or ``numpy.random.Generator``
        Source of the noise; the same seed gives the same noise sequence.

    Attributes
    ----------
    optimizer : ``Optimizer``
        The wrapped optimizer.
    t : int
        Steps taken so far.

    The ``lr`` property reads and writes the wrapped optimizer's learning rate, so
    schedules and ``optlib.fit`` work unchanged.

    Examples
    --------
    ``fit(model, loss, GradientNoise(SGD(lr=0.05), eta=0.3), X, y)``.
    """

    def __init__(self, optimizer, eta=0.3, gamma=0.55, seed=0):
        super().__init__(optimizer)
        self.eta = _check_nonneg("eta", eta)
        self.gamma = _check_nonneg("gamma", gamma)
        self.rng = np.random.default_rng(seed)
        self.t = 0

    def sigma(self, t=None):
        r"""Standard deviation :math:`\sigma_t` of the noise at step ``t`` (default: the next)."""
        return math.sqrt(noise_variance(self.t + 1 if t is None else t, self.eta, self.gamma))

    def step(self, params, grads):
        """Add noise to ``grads`` (new arrays) and step the wrapped optimizer."""
        self.t += 1
        sigma = self.sigma(self.t)
        if isinstance(grads, dict):
            noisy = {k: self._perturb(g, sigma) for k, g in grads.items()}
        else:
            noisy = [self._perturb(g, sigma) for g in grads]
        super().step(params, noisy)

    def _perturb(self, g, sigma):
        if g is None or sigma == 0.0:
            return g
        g = np.asarray(g)
        dtype = g.dtype if g.dtype in (np.float32, np.float64) else np.float64
        # Drawn in the gradient's own precision: float32 stays float32 (and is faster).
        return g + sigma * self.rng.standard_normal(g.shape, dtype=dtype)

    def state_dict(self):
        """The step count, the noise generator's state and the wrapped optimizer's state."""
        inner = self.optimizer.state_dict() if hasattr(self.optimizer, "state_dict") else None
        return {"t": self.t, "eta": self.eta, "gamma": self.gamma,
                "rng": self.rng.bit_generator.state, "optimizer": inner}

    def load_state_dict(self, state):
        """Restore ``state_dict()``: the noise sequence and the steps continue exactly."""
        self.t = int(state["t"])
        self.eta = _check_nonneg("eta", state["eta"])
        self.gamma = _check_nonneg("gamma", state["gamma"])
        self.rng.bit_generator.state = state["rng"]
        if state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])

    def __repr__(self):
        return (f"GradientNoise({self.optimizer!r}, eta={self.eta!r}, gamma={self.gamma!r}, "
                f"t={self.t})")
