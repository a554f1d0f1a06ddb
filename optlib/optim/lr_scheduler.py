r"""Learning-rate schedules: the learning rate as a function of the step, and one way to apply it.

A schedule is a small immutable object that you call with ``t``, the number of
optimizer steps already taken (``t = 0, 1, 2, …``), and that returns the learning
rate :math:`\eta` for the next step; so ``schedule(0)`` is the learning rate of
the first step. A schedule holds no state, so you can plot one with
``[schedule(t) for t in range(T)]`` and reuse it for many runs. Any callable
``t -> lr`` is a schedule (a ``lambda`` too).

A schedule only produces a number. **One** object writes it into an optimizer:
``LRScheduler(optimizer, schedule)``, which follows ``torch.optim``'s protocol (it
sets the first rate when created, and ``scheduler.step()`` after each
``optimizer.step`` sets the next). ``optlib.fit(schedule=...)``,
``optlib.run(schedule=...)`` and the ``Scheduled`` wrapper
(``optlib.optim.wrappers``, for code that only calls ``step``) all use it, so every
schedule works with every optimizer, the same way everywhere.

The schedules and their PyTorch counterparts (the formulas are written in closed
form in ``t``; ``torch.optim.lr_scheduler`` computes the same rates recursively,
one ``scheduler.step()`` per optimizer step):

* ``Constant(lr)``: no scheduler (torch's ``ConstantLR`` is a different thing, a factor
  for the first steps);
* ``StepLR(lr, step_size, gamma=0.1)``: ``StepLR(optimizer, step_size, gamma=0.1)``;
* ``ExponentialLR(lr, gamma)``: ``ExponentialLR(optimizer, gamma)``;
* ``InverseTimeLR(lr, decay)``: ``LambdaLR(optimizer, lambda t: 1 / (1 + decay * t))``;
* ``CosineAnnealingLR(lr, T_max, eta_min=0)``: ``CosineAnnealingLR(optimizer, T_max,
  eta_min=0)`` for ``t <= T_max``; after it optlib stays at ``eta_min``, torch climbs
  back up;
* ``Warmup(schedule, warmup_steps, start_factor=0)``: ``SequentialLR(optimizer,
  [LinearLR(optimizer, start_factor, total_iters=warmup_steps), ...],
  milestones=[warmup_steps])``;
* ``LRScheduler(optimizer, schedule)``: the protocol of every torch scheduler; as a class,
  ``LambdaLR`` with an absolute rate;
* ``ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, ...)``: torch's
  class of the same name, stepped with a metric (not a schedule: it reacts to the run).

The base rate ``lr`` is an argument of the schedule, where torch reads it from the
optimizer: a schedule is a function of ``t`` alone, so it can be plotted without an
optimizer. ``make_schedule`` builds the six shapes that chapter 10 compares by name.

Example
-------
``Warmup(CosineAnnealingLR(0.1, T_max=900), warmup_steps=100)`` rises linearly from 0
to 0.1 over the first 100 steps, then follows a cosine from 0.1 down to 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from optlib import checks

__all__ = [
    "Schedule",
    "Constant",
    "StepLR",
    "ExponentialLR",
    "InverseTimeLR",
    "CosineAnnealingLR",
    "Warmup",
    "LRScheduler",
    "ReduceLROnPlateau",
    "SHAPES",
    "make_schedule",
]


def _nonneg(name, value):
    return checks.real(name, value, low=0)


def _gamma(value):
    return checks.real("gamma", value, low=0, high=1, low_open=True)


def _positive_int(name, value):
    return checks.integer(name, value, low=1)


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
class StepLR(Schedule):
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
class ExponentialLR(Schedule):
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
class InverseTimeLR(Schedule):
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
class CosineAnnealingLR(Schedule):
    r"""Cosine annealing from ``lr`` down to ``eta_min`` over ``T_max`` steps.

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
    T_max : int
        :math:`T`, the step at which the rate reaches ``eta_min``, > 0.
    eta_min : float
        :math:`\eta_{\min}`, with :math:`0 \le \eta_{\min} \le \eta`.
        Default ``0.0``.
    """

    lr: float
    T_max: int
    eta_min: float = 0.0

    def __post_init__(self):
        _set(self, "lr", _nonneg("lr", self.lr))
        _set(self, "T_max", _positive_int("T_max", self.T_max))
        _set(self, "eta_min", checks.real("eta_min", self.eta_min, low=0, high=self.lr))

    def _lr(self, t):
        if t >= self.T_max:
            return self.eta_min
        cos = math.cos(math.pi * t / self.T_max)
        return self.eta_min + 0.5 * (self.lr - self.eta_min) * (1 + cos)


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
    :math:`W` steps; so there is no jump, and ``Warmup(CosineAnnealingLR(η, T), W)`` is
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
        _set(self, "start_factor", checks.real("start_factor", self.start_factor, low=0, high=1))

    def _lr(self, t):
        if t >= self.warmup_steps:
            return self.schedule(t - self.warmup_steps)
        f = self.start_factor
        return self.schedule(0) * (f + (1 - f) * t / self.warmup_steps)


# --------------------------------------------------------------------------- applying a schedule


class LRScheduler:
    """Drive an optimizer's learning rate with a schedule: the one way optlib applies one.

    On creation it sets ``optimizer.lr = schedule(0)``; call ``step()`` after each
    ``optimizer.step(...)`` to advance ``t`` by one and set
    ``optimizer.lr = schedule(t)``, as with a ``torch.optim.lr_scheduler`` scheduler::

        scheduler = LRScheduler(opt, CosineAnnealingLR(0.1, T_max=100))
        for _ in range(100):
            opt.step(params, grads)
            scheduler.step()

    ``optlib.fit(schedule=...)``, ``optlib.run(schedule=...)`` and
    ``optlib.optim.wrappers.Scheduled`` do exactly this.

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
        if not callable(schedule):
            raise TypeError(f"schedule must be a callable t -> lr, got {schedule!r}")
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have an lr attribute, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.t = 0
        self.last_lr = self._set_lr()

    def _set_lr(self):
        lr = float(self.schedule(self.t))
        self.optimizer.lr = lr
        return lr

    def step(self):
        """Advance ``t`` by one and set the optimizer's rate to ``schedule(t)``.

        Returns
        -------
        float
            The new rate.
        """
        self.t += 1
        self.last_lr = self._set_lr()
        return self.last_lr

    def state_dict(self):
        """The scheduler's state, ``{"t": t}`` (the schedule itself holds none)."""
        return {"t": self.t}

    def load_state_dict(self, state):
        """Restore ``t`` from ``state_dict()`` and set the optimizer's rate to match."""
        self.t = _step(state["t"])
        self.last_lr = self._set_lr()

    def __repr__(self):
        return f"LRScheduler(t={self.t}, last_lr={self.last_lr!r}, schedule={self.schedule!r})"


# --------------------------------------------------------------------------- on a plateau


class ReduceLROnPlateau:
    r"""Divide the learning rate when a monitored metric stops improving, as torch's scheduler.

    ``scheduler.step(metric)``, once per epoch with e.g. the validation loss, compares
    ``metric`` with the best value so far, :math:`b`. In ``mode="min"`` it is an
    improvement if

    .. math::

        m < b\,(1 - \tau) \quad (\texttt{threshold\_mode="rel"}), \qquad
        m < b - \tau \quad (\texttt{threshold\_mode="abs"})

    (``mode="max"``: :math:`m > b(1 + \tau)` or :math:`m > b + \tau`), with
    :math:`\tau` = ``threshold``. An improvement sets :math:`b = m` and the count of bad
    epochs to 0; otherwise the count grows by 1. During the ``cooldown`` epochs that
    follow a reduction the count is held at 0. When the count exceeds ``patience``,
    the rate becomes

    .. math::

        \eta \leftarrow \max(\gamma\,\eta,\; \eta_{\min}) \quad\text{if the change is larger than } \varepsilon,

    with :math:`\gamma` = ``factor``, :math:`\eta_{\min}` = ``min_lr``,
    :math:`\varepsilon` = ``eps``; then the cooldown starts and the count is reset.
    So with ``patience=10`` the rate falls at the 11th epoch in a row without
    improvement. A ``nan`` metric is never an improvement.

    This is ``torch.optim.lr_scheduler.ReduceLROnPlateau`` line for line: the same
    arguments, order and defaults, the same rule (including its quirks: in
    ``"rel"`` mode a negative best value must be beaten by :math:`|b|\tau` *less*),
    and the same attributes ``best``, ``num_bad_epochs``, ``cooldown_counter``,
    ``last_epoch``. Differences: optlib optimizers have one rate, so ``min_lr`` is
    a number (torch also accepts one per parameter group); and ``step`` takes no
    ``epoch`` (deprecated in torch). Unlike the schedules above, it reacts to the
    run, so it cannot be plotted in advance; it was popularised by Keras's callback
    of the same name, and chapter 9's patience (``EarlyStopping``) is the same count.

    With ``optlib.fit``, step it at the end of every epoch with the callback
    ``optlib.train.callbacks.StepOnMetric``; do not also pass a ``schedule=``
    (that would overwrite the rate at every step)::

        opt = SGD(lr=0.1, momentum=0.9)
        plateau = ReduceLROnPlateau(opt, factor=0.5, patience=5)
        history = fit(model, loss, opt, X, y, epochs=100, X_val=Xv, y_val=yv,
                      callbacks=[StepOnMetric(plateau, monitor="val_loss")])
        history.lr              # the rate of every step: a staircase

    Parameters
    ----------
    optimizer : ``object``
        Anything with a writable ``lr`` attribute, e.g. ``optlib.optim.SGD``.
    mode : str
        ``"min"`` (a loss) or ``"max"`` (an accuracy).
    factor : float
        :math:`\gamma`, the factor applied to the rate, in [0, 1).
    patience : int
        Bad epochs tolerated before a reduction, >= 0.
    threshold : float
        :math:`\tau \ge 0`, the least improvement that counts.
    threshold_mode : str
        ``"rel"`` or ``"abs"`` (see the equation).
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted, >= 0.
    min_lr : float
        :math:`\eta_{\min} \ge 0`, the floor of the rate.
    eps : float
        :math:`\varepsilon \ge 0`: a reduction smaller than this is skipped.

    Attributes
    ----------
    best : float
        The best metric so far (``inf`` in ``"min"`` mode before the first step).
    num_bad_epochs : int
        Epochs since the last improvement (held at 0 during a cooldown).
    cooldown_counter : int
        Cooldown epochs left.
    last_epoch : int
        ``step`` calls so far.
    last_lr : float
        The optimizer's rate after the last ``step`` (torch: ``get_last_lr()[0]``).
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"optimizer must have an lr attribute, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.mode = checks.one_of("mode", mode, ("min", "max"))
        self.factor = checks.real("factor", factor, low=0, high=1, high_open=True)
        self.patience = checks.integer("patience", patience, low=0)
        self.threshold = checks.real("threshold", threshold, low=0)
        self.threshold_mode = checks.one_of("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = checks.integer("cooldown", cooldown, low=0)
        self.min_lr = checks.real("min_lr", min_lr, low=0)
        self.eps = checks.real("eps", eps, low=0)
        self.last_epoch = 0
        self.last_lr = float(optimizer.lr)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    @property
    def in_cooldown(self):
        """Whether bad epochs are being ignored after a reduction."""
        return self.cooldown_counter > 0

    def is_better(self, metric, best):
        """Whether ``metric`` improves on ``best`` by more than the threshold (the rule above)."""
        if self.mode == "min":
            return metric < (best * (1 - self.threshold) if self.threshold_mode == "rel"
                             else best - self.threshold)
        return metric > (best * (1 + self.threshold) if self.threshold_mode == "rel"
                         else best + self.threshold)

    def step(self, metric):
        """Feed one epoch's metric; reduce ``optimizer.lr`` if the plateau has lasted.

        Parameters
        ----------
        metric : float
            The monitored value after this epoch (e.g. the validation loss).

        Returns
        -------
        float
            The optimizer's rate afterwards.
        """
        if isinstance(metric, bool) or not isinstance(metric, numbers.Real):
            raise TypeError(f"metric must be a real number (e.g. the validation loss), "
                            f"got {metric!r} ({type(metric).__name__})")
        current = float(metric)                  # inf and nan are allowed, as in torch
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0              # bad epochs in a cooldown do not count
        if self.num_bad_epochs > self.patience:
            old = float(self.optimizer.lr)
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self.last_lr = float(self.optimizer.lr)
        return self.last_lr

    _STATE = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch", "last_lr")

    def state_dict(self):
        """The scheduler's counters: ``best``, ``num_bad_epochs``, ``cooldown_counter``,
        ``last_epoch``, ``last_lr`` (the settings are constructor arguments)."""
        return {name: getattr(self, name) for name in self._STATE}

    def load_state_dict(self, state):
        """Restore the counters saved by ``state_dict`` (the optimizer's rate is its own)."""
        missing = sorted(set(self._STATE) - set(state))
        if missing:
            raise ValueError(f"state lacks {missing}")
        for name in self._STATE:
            setattr(self, name, state[name])

    def __repr__(self):
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, "
                f"patience={self.patience}, threshold={self.threshold}, "
                f"threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown}, "
                f"min_lr={self.min_lr}, eps={self.eps}, best={self.best}, "
                f"num_bad_epochs={self.num_bad_epochs}, last_lr={self.last_lr})")


# --------------------------------------------------------------------------- shapes by name

#: The shapes ``make_schedule`` knows, in the order chapter 10 shows them.
SHAPES = ("constant", "step", "exponential", "1/t", "cosine", "warmup+cosine")


def make_schedule(shape, peak_lr, total_steps, warmup_fraction=0.1):
    r"""One of six schedule shapes, with peak rate ``peak_lr`` over ``total_steps``.

    All have the same peak rate :math:`\eta` and length :math:`T`, so that only the
    shape differs (chapter 10 compares them):

    * ``"constant"``: :math:`\eta_t = \eta`;
    * ``"step"``: divide by 10 after a third and after two thirds of training (ends at
      :math:`\eta/100`);
    * ``"exponential"``: :math:`\eta\gamma^t` with :math:`\gamma^T = 0.01` (ends at
      :math:`\eta/100`);
    * ``"1/t"``: :math:`\eta/(1 + 10\,t/T)` (half the rate at :math:`T/10`, ends at
      :math:`\eta/11`);
    * ``"cosine"``: from :math:`\eta` to 0 along a half cosine;
    * ``"warmup+cosine"``: linear warm-up from 0 over the first 10% of the steps, then a
      cosine to 0.

    Parameters
    ----------
    shape : str
        One of ``SHAPES``.
    peak_lr : float
        The largest rate of the schedule, >= 0.
    total_steps : int
        :math:`T`, the length of training in steps, >= 10.
    warmup_fraction : float
        Share of the steps spent warming up in ``"warmup+cosine"``, in (0, 1).

    Returns
    -------
    ``Schedule``
        A callable ``t -> lr`` from this module.
    """
    checks.one_of("shape", shape, SHAPES)
    T = checks.integer("total_steps", total_steps, low=10)
    warmup_fraction = checks.real("warmup_fraction", warmup_fraction, low=0, high=1,
                                  low_open=True, high_open=True)
    if shape == "constant":
        return Constant(peak_lr)
    if shape == "step":
        return StepLR(peak_lr, step_size=math.ceil(T / 3), gamma=0.1)
    if shape == "exponential":
        return ExponentialLR(peak_lr, gamma=0.01 ** (1 / T))
    if shape == "1/t":
        return InverseTimeLR(peak_lr, decay=10 / T)
    if shape == "cosine":
        return CosineAnnealingLR(peak_lr, T_max=T)
    w = max(1, round(warmup_fraction * T))
    return Warmup(CosineAnnealingLR(peak_lr, T_max=T - w), warmup_steps=w)
