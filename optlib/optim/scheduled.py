r"""Schedule shapes by name, and an optimizer that follows a schedule by itself.

``make_schedule(shape, peak_lr, total_steps)`` builds the six shapes compared in
chapter 10 from ``optlib.schedules``, all with the same peak rate and length, so that
only the shape differs:

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

``Scheduled(optimizer, schedule)`` wraps an optimizer so that each ``step`` first sets
``lr = schedule(t)``: the schedule travels with the optimizer, which is what the
explorers need (they only ever call ``step``). In ``optlib.fit`` pass
``schedule=...`` instead.
"""

from __future__ import annotations

import math
import numbers

from optlib.optim import OptimizerWrapper
from optlib.optim.lr_scheduler import constant, cosine, exponential, inverse_time, step_decay, warmup

__all__ = ["SHAPES", "make_schedule", "Scheduled"]

#: The shapes ``make_schedule`` knows, in the order the chapter shows them.
SHAPES = ("constant", "step", "exponential", "1/t", "cosine", "warmup+cosine")


def make_schedule(shape, peak_lr, total_steps, warmup_fraction=0.1):
    """One of the chapter's schedule shapes, with peak rate ``peak_lr`` over ``total_steps``.

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
        A callable ``t -> lr`` from ``optlib.schedules``.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    if isinstance(total_steps, bool) or not isinstance(total_steps, numbers.Integral) \
            or total_steps < 10:
        raise ValueError(f"total_steps must be an integer >= 10, got {total_steps!r}")
    if not 0 < warmup_fraction < 1:
        raise ValueError(f"warmup_fraction must be in (0, 1), got {warmup_fraction!r}")
    T = int(total_steps)
    if shape == "constant":
        return constant(peak_lr)
    if shape == "step":
        return step_decay(peak_lr, step_size=math.ceil(T / 3), gamma=0.1)
    if shape == "exponential":
        return exponential(peak_lr, gamma=0.01 ** (1 / T))
    if shape == "1/t":
        return inverse_time(peak_lr, decay=10 / T)
    if shape == "cosine":
        return cosine(peak_lr, total_steps=T)
    w = max(1, round(warmup_fraction * T))
    return warmup(cosine(peak_lr, total_steps=T - w), warmup_steps=w)


class Scheduled(OptimizerWrapper):
    """An optimizer that sets its own learning rate from a schedule before every step.

    Parameters
    ----------
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and a writable ``lr``.
    schedule : callable
        ``t -> lr`` with ``t`` = steps already taken (``schedule(0)`` is the first
        step's rate), e.g. from ``make_schedule`` or ``optlib.schedules``.

    Attributes
    ----------
    t : int
        Steps taken.
    peak_lr : float
        The largest rate used so far (0 before the first step).
    """

    def __init__(self, optimizer, schedule):
        super().__init__(optimizer)
        if not callable(schedule):
            raise TypeError(f"schedule must be a callable t -> lr, got {schedule!r}")
        self.schedule = schedule
        self.t = 0
        self.peak_lr = 0.0

    @property
    def hyper(self):
        """The wrapped optimizer's hyper-parameters, with ``lr`` = the peak rate used."""
        return {**super().hyper, "lr": self.peak_lr}

    def step(self, params, grads):
        """Set ``lr = schedule(t)``, then step the wrapped optimizer."""
        lr = float(self.schedule(self.t))
        self.optimizer.lr = lr
        self.peak_lr = max(self.peak_lr, lr)
        self.t += 1
        super().step(params, grads)

    def __repr__(self):
        return f"Scheduled({self.optimizer!r}, {self.schedule!r}, t={self.t})"
