r"""Learning-rate schedules: the learning rate as a function of the step.

A schedule is a small immutable object that you call with ``t``, the number of
optimizer steps already taken (``t = 0, 1, 2, …``), and that returns the learning
rate :math:`\eta` for the next step; so ``schedule(0)`` is the learning rate of
the first step. A schedule holds no state, so you can plot one with
``[schedule(t) for t in range(T)]`` and reuse it for many runs.

A schedule only produces a number; ``LRScheduler`` (torch-like) or ``apply``
writes it into ``optimizer.lr``. So every schedule works with every optimizer.

The formulas follow ``torch.optim.lr_scheduler`` (``StepLR``,
``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``), written in closed form
in ``t``; the differences are noted in each docstring.

Example
-------
``warmup(cosine(0.1, total_steps=900), warmup_steps=100)`` rises linearly from 0
to 0.1 over the first 100 steps, then follows a cosine from 0.1 down to 0.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "Exponential",
    "InverseTime",
    "Cosine",
    "Warmup",
    "constant",
    "step_decay",
    "exponential",
    "inverse_time",
    "cosine",
    "warmup",
    "LRScheduler",
    "apply",
]


# --------------------------------------------------------------------------- validation


def _real(name, value, rule, ok):
    """Return ``value`` as a float if it is a real number satisfying ``ok``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {rule}, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and ok(value)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def _nonneg(name, value):
    return _real(name, value, "a finite number >= 0", lambda v: v >= 0)


def _gamma(value):
    return _real("gamma", value, "a number in (0, 1]", lambda v: 0 < v <= 1)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _step(t):
    """Check that ``t`` (steps already taken) is an integer >= 0."""
    if isinstance(t, bool) or not isinstance(t, numbers.Integral):
        raise TypeError(f"t must be an integer >= 0 (steps already taken), got {t!r}")
    if t < 0:
        raise ValueError(f"t must be an integer >= 0 (steps already taken), got {t!r}")
    return int(t)


# --------------------------------------------------------------------------- schedules


class Schedule:
    """Base class: ``schedule(t)`` checks ``t`` and returns ``self._lr(t)`` as a float."""

    def __call__(self, t):
        r"""Learning rate of the step taken after ``t`` steps.

        Parameters
        ----------
        t : int
            Steps already taken, >= 0.

        Returns
        -------
        float
            :math:`\eta_t`.
        """
        return float(self._lr(_step(t)))

    def _lr(self, t):  # pragma: no cover - abstract
        raise NotImplementedError


def _set(obj, name, value):
    # The dataclasses are frozen (a schedule must not change); validation
    # normalises fields, so it writes through object.__setattr__.
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Constant(Schedule):
    r"""The same learning rate at every step: :math:`\eta_t = \eta`.

    Parameters
    ----------
    lr : float
        :math:`\eta`, finite and >= 0.
    """

    lr: float

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))

    def _lr(self, t):
        return self.lr


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    .. math::

        \eta_t = \eta\,\gamma^{\lfloor t / s \rfloor}

    Same as ``torch.optim.lr_scheduler.StepLR(step_size=s, gamma=γ)``: steps
    ``0 … s-1`` use :math:`\eta`, steps ``s … 2s-1`` use :math:`\gamma\eta`, …

    Parameters
    ----------
    lr : float
        :math:`\eta`, finite and >= 0.
    step_size : int
        :math:`s`, steps between decays, > 0.
    gamma : float
        :math:`\gamma \in (0, 1]`.
        Default ``0.1``.
    """

    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))
        _set(self, "step_size", _positive_int("step_size", self.step_size))
        _set(self, "gamma", _gamma(self.gamma))

    def _lr(self, t):
        return self.lr * self.gamma ** (t // self.step_size)


@dataclass(frozen=True)
class Exponential(Schedule):
    r"""Multiply the learning rate by ``gamma`` at every step.

    .. math::

        \eta_t = \eta\,\gamma^{t}

    Same as ``torch.optim.lr_scheduler.ExponentialLR(gamma=γ)``.

    Parameters
    ----------
    lr : float
        :math:`\eta`, finite and >= 0.
    gamma : float
        :math:`\gamma \in (0, 1]`.
    """

    lr: float
    gamma: float

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))
        _set(self, "gamma", _gamma(self.gamma))

    def _lr(self, t):
        return self.lr * self.gamma**t


@dataclass(frozen=True)
class InverseTime(Schedule):
    r"""Inverse-time decay, the :math:`1/t` rate of stochastic approximation.

    .. math::

        \eta_t = \frac{\eta}{1 + d\,t}

    With :math:`d > 0` the rates satisfy Robbins and Monro's conditions
    :math:`\sum_t \eta_t = \infty`, :math:`\sum_t \eta_t^2 < \infty`
    (H. Robbins and S. Monro, "A stochastic approximation method",
    *Annals of Mathematical Statistics* 22(3):400–407, 1951).
    Keras calls it ``InverseTimeDecay`` (with ``decay_steps=1``).

    Parameters
    ----------
    lr : float
        :math:`\eta`, finite and >= 0.
    decay : float
        :math:`d`, finite and >= 0; ``decay=0`` is a constant rate.
    """

    lr: float
    decay: float

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))
        _set(self, "decay", _nonneg("decay", self.decay))

    def _lr(self, t):
        return self.lr / (1 + self.decay * t)


@dataclass(frozen=True)
class Cosine(Schedule):
    r"""Cosine annealing from ``lr`` down to ``min_lr`` over ``total_steps``.

    .. math::

        \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})
                 \Bigl(1 + \cos\frac{\pi t}{T}\Bigr) \quad (t \le T),
        \qquad \eta_t = \eta_{\min} \quad (t > T).

    For :math:`t \le T` this is the closed form of
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=T, eta_min=η_min)``
    (I. Loshchilov and F. Hutter, "SGDR: Stochastic gradient descent with warm
    restarts", ICLR 2017). After :math:`T` steps torch's formula climbs back up
    the cosine; this one stays at :math:`\eta_{\min}`.

    Parameters
    ----------
    lr : float
        :math:`\eta`, the rate at ``t = 0``, finite and >= 0.
    total_steps : int
        :math:`T`, the step at which the rate reaches ``min_lr``, > 0.
    min_lr : float
        :math:`\eta_{\min}`, with :math:`0 \le \eta_{\min} \le \eta`.
        Default ``0.0``.
    """

    lr: float
    total_steps: int
    min_lr: float = 0.0

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))
        _set(self, "total_steps", _positive_int("total_steps", self.total_steps))
        _set(self, "min_lr", _real("min_lr", self.min_lr, f"a finite number in [0, lr={self.lr}]",
                                   lambda v: 0 <= v <= self.lr))

    def _lr(self, t):
        if t >= self.total_steps:
            return self.min_lr
        cos = math.cos(math.pi * t / self.total_steps)
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + cos)


@dataclass(frozen=True)
class Warmup(Schedule):
    r"""Linear warm-up, then another schedule.

    With :math:`W` = ``warmup_steps``, :math:`f` = ``start_factor`` and
    :math:`s` the wrapped schedule:

    .. math::

        \eta_t = s(0)\,\Bigl(f + (1 - f)\,\frac{t}{W}\Bigr) \quad (t < W),
        \qquad \eta_t = s(t - W) \quad (t \ge W).

    The rate rises linearly from :math:`f\,s(0)` at ``t = 0`` and reaches
    :math:`s(0)` at ``t = W``, where the wrapped schedule starts, shifted by
    :math:`W` steps; so there is no jump, and ``warmup(cosine(η, T), W)`` is
    :math:`W` steps of linear warm-up followed by a full cosine of :math:`T`
    steps. The warm-up part is ``torch.optim.lr_scheduler.LinearLR(start_factor=f,
    total_iters=W)``; the whole is what ``SequentialLR`` with a milestone at
    :math:`W` gives. Note that with ``start_factor=0`` (the default) the first
    step has rate 0 and so does not move the parameters. Warm-up was popularised
    for large mini-batches by P. Goyal et al., "Accurate, large minibatch SGD:
    Training ImageNet in 1 hour", arXiv:1706.02677, 2017.

    Parameters
    ----------
    schedule : ``callable``
        The schedule to follow after warm-up, ``t -> lr``.
    warmup_steps : int
        :math:`W`, > 0.
    start_factor : float
        :math:`f \in [0, 1]`.
        Default ``0.0``.
    """

    schedule: Callable[[int], float]
    warmup_steps: int
    start_factor: float = 0.0

    def __post_init__(self):
        if not callable(self.schedule):
            raise TypeError(f"schedule must be a callable t -> lr, got {self.schedule!r}")
        _set(self, "warmup_steps", _positive_int("warmup_steps", self.warmup_steps))
        _set(self, "start_factor", _real("start_factor", self.start_factor, "a number in [0, 1]",
                                         lambda v: 0 <= v <= 1))

    def _lr(self, t):
        if t >= self.warmup_steps:
            return self.schedule(t - self.warmup_steps)
        f = self.start_factor
        return self.schedule(0) * (f + (1 - f) * t / self.warmup_steps)


# The names the chapters use: ``cosine(0.1, total_steps=1000)`` reads like the math.
constant = Constant
step_decay = StepDecay
exponential = Exponential
inverse_time = InverseTime
cosine = Cosine
warmup = Warmup


# --------------------------------------------------------------------------- driving an optimizer


def apply(schedule, optimizer, t):
    """Set ``optimizer.lr = schedule(t)`` and return that rate.

    Parameters
    ----------
    schedule : ``callable``
        ``t -> lr``.
    optimizer : ``object``
        Anything with a writable ``lr`` attribute.
    t : int
        Steps already taken, >= 0.

    Returns
    -------
    float
        The rate that was set.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a callable t -> lr, got {schedule!r}")
    if not hasattr(optimizer, "lr"):
        raise TypeError(f"optimizer must have an lr attribute, got {type(optimizer).__name__}")
    lr = float(schedule(_step(t)))
    optimizer.lr = lr
    return lr


class LRScheduler:
    """Drive an optimizer's learning rate with a schedule, as ``torch.optim`` does.

    On creation it sets ``optimizer.lr = schedule(0)``; call ``step()`` after each
    ``optimizer.step(...)`` to advance ``t`` by one and set
    ``optimizer.lr = schedule(t)``::

        sched = LRScheduler(opt, cosine(0.1, total_steps=100))
        for _ in range(100):
            opt.step(params, grads)
            sched.step()

    Parameters
    ----------
    optimizer : ``object``
        Anything with a writable ``lr`` attribute, e.g. ``optlib.optim.Adam``.
    schedule : ``callable``
        ``t -> lr``, e.g. from this module.

    Attributes
    ----------
    t : int
        Optimizer steps taken so far (number of ``step()`` calls).
    last_lr : float
        The rate most recently set, ``schedule(t)``.
    """

    def __init__(self, optimizer, schedule):
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = 0
        self.last_lr = apply(schedule, optimizer, 0)

    def step(self):
        """Advance ``t`` by one and set the optimizer's rate to ``schedule(t)``.

        Returns
        -------
        float
            The new rate.
        """
        self.t += 1
        self.last_lr = apply(self.schedule, self.optimizer, self.t)
        return self.last_lr

    def state_dict(self):
        """The scheduler's state, ``{"t": t}`` (the schedule itself holds none)."""
        return {"t": self.t}

    def load_state_dict(self, state):
        """Restore ``t`` from ``state_dict()`` and set the optimizer's rate to match."""
        self.t = _step(state["t"])
        self.last_lr = apply(self.schedule, self.optimizer, self.t)

    def __repr__(self):
        return f"LRScheduler(t={self.t}, last_lr={self.last_lr!r}, schedule={self.schedule!r})"
