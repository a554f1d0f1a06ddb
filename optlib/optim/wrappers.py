r"""Optimizer wrappers: objects that stand in for an optimizer and add something around its step.

A wrapper holds an optimizer, forwards ``lr`` and ``hyper`` to it and extends
``step``, so it plugs into ``optlib.fit``, ``optlib.run`` and the explorers like an
optimizer (base class ``optlib.optim.OptimizerWrapper``). Each has ``state_dict`` /
``load_state_dict``, which include the wrapped optimizer's state, so a checkpoint or
``range_test(restore=True)`` puts back the inner optimizer too.

* ``GradientNoise`` -- annealed Gaussian noise added to every gradient
  (Neelakantan et al. 2015, "Adding gradient noise improves learning for very deep
  networks", arXiv:1511.06807):

  .. math::

      \tilde g_t = g_t + \xi_t,\qquad \xi_t \sim \mathcal N(0, \sigma_t^2 I),\qquad
      \sigma_t^2 = \frac{\eta}{(1 + t)^{\gamma}},

  with :math:`\eta \in \{0.01, 0.3, 1.0\}` and :math:`\gamma = 0.55` in the paper.
  The paper's :math:`\eta` is the noise scale, **not** the learning rate; the
  chapters write it :math:`\nu` to keep :math:`\eta` for the learning rate, and the
  code keeps the paper's name ``eta``. The step counter :math:`t` starts at 1, as
  everywhere in the course, so the first step's variance is :math:`\eta/2^{\gamma}`.
  The optimizer treats :math:`\tilde g_t` as the gradient: Adam's moments, for
  example, average the noise.
* ``UpdateMonitor`` -- records, at a recorded step, for every parameter array
  :math:`\theta^{(l)}` the gradient norm :math:`\lVert g^{(l)}_t\rVert`, the weight
  norm and the **update-to-weight ratio**

  .. math::

      r^{(l)}_t = \frac{\lVert \theta^{(l)}_t - \theta^{(l)}_{t-1} \rVert}
                       {\lVert \theta^{(l)}_{t-1} \rVert}.

  A common rule of thumb (Karpathy's CS231n notes) is a ratio near :math:`10^{-3}`
  per step for the weight matrices: much smaller and the layer barely learns, much
  larger and the step overwrites what was learned. Norms are Frobenius norms of whole
  arrays (one number per weight matrix).
* ``Scheduled`` -- an optimizer that follows a learning-rate schedule by itself
  (through ``optlib.optim.lr_scheduler.LRScheduler``), for code that only ever calls
  ``step`` (the explorers). In ``optlib.fit`` and ``optlib.run`` pass
  ``schedule=...`` instead.
"""

from __future__ import annotations

import math

import numpy as np

from optlib import checks
from optlib.optim.lr_scheduler import LRScheduler
from optlib.optim.optimizer import OptimizerWrapper

__all__ = ["GradientNoise", "UpdateMonitor", "Scheduled"]

_RECORDS = ("ratio", "grad_norm", "weight_norm", "update_norm")


def _inner_state(optimizer):
    return optimizer.state_dict() if hasattr(optimizer, "state_dict") else None


def _load_inner(optimizer, state):
    if state is not None:
        optimizer.load_state_dict(state)


class GradientNoise(OptimizerWrapper):
    r"""Wrap an optimizer so that every gradient gets annealed Gaussian noise first.

    Step :math:`t` draws :math:`\xi_t \sim \mathcal N(0, \sigma_t^2 I)` with
    :math:`\sigma_t^2 = \eta/(1+t)^\gamma` (one independent draw per coordinate of
    every array), and calls ``optimizer.step(params, g + ξ)``. The caller's
    gradient arrays are never modified.

    Parameters
    ----------
    optimizer : ``Optimizer``
        Any object with ``step(params, grads)`` and ``lr``, e.g. ``optlib.optim.SGD``.
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
        self.eta = checks.real("eta", eta, low=0)
        self.gamma = checks.real("gamma", gamma, low=0)
        self.rng = np.random.default_rng(seed)
        self.t = 0

    def sigma(self, t=None):
        r"""Standard deviation :math:`\sigma_t` of the noise at step ``t`` (default: the next)."""
        t = self.t + 1 if t is None else checks.integer("t", t, low=1)
        return math.sqrt(self.eta / (1.0 + t) ** self.gamma)

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
        return {"t": self.t, "eta": self.eta, "gamma": self.gamma,
                "rng": self.rng.bit_generator.state, "optimizer": _inner_state(self.optimizer)}

    def load_state_dict(self, state):
        """Restore ``state_dict()``: the noise sequence and the steps continue exactly."""
        self.t = int(state["t"])
        self.eta = checks.real("eta", state["eta"], low=0)
        self.gamma = checks.real("gamma", state["gamma"], low=0)
        self.rng.bit_generator.state = state["rng"]
        _load_inner(self.optimizer, state["optimizer"])

    def __repr__(self):
        return (f"GradientNoise({self.optimizer!r}, eta={self.eta!r}, gamma={self.gamma!r}, "
                f"t={self.t})")


def _norm(a):
    return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))


class UpdateMonitor(OptimizerWrapper):
    r"""An optimizer wrapper that records per-array norms and update-to-weight ratios.

    Parameters
    ----------
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and ``lr``.
    every : int
        Record every ``every``-th step (1 = all), starting with step 1.

    Attributes
    ----------
    steps : list of int
        The recorded steps :math:`t`.
    grad_norm, weight_norm, update_norm, ratio : dict
        Name (the keys of ``params``, or list positions) -> list of floats, one per
        recorded step. ``ratio`` is ``update_norm / weight_norm`` with the weight norm
        taken before the step (``inf`` for an all-zero array, e.g. a fresh bias).
    t : int
        Steps taken.
    """

    def __init__(self, optimizer, every=1):
        super().__init__(optimizer)
        self.every = checks.integer("every", every, low=1)
        self.t = 0
        self.steps = []
        self.grad_norm, self.weight_norm, self.update_norm, self.ratio = {}, {}, {}, {}

    def step(self, params, grads):
        """Step the wrapped optimizer; on a recorded step, measure around it."""
        self.t += 1
        if (self.t - 1) % self.every:
            super().step(params, grads)
            return
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        gkeyed = grads if isinstance(grads, dict) else dict(enumerate(grads))
        before = {k: p.copy() for k, p in keyed}
        super().step(params, grads)
        after = params if isinstance(params, dict) else dict(enumerate(params))
        self.steps.append(self.t)
        for k, old in before.items():
            w, u = _norm(old), _norm(after[k] - old)
            g = gkeyed.get(k)
            self.grad_norm.setdefault(k, []).append(np.nan if g is None else _norm(g))
            self.weight_norm.setdefault(k, []).append(w)
            self.update_norm.setdefault(k, []).append(u)
            self.ratio.setdefault(k, []).append(u / w if w > 0 else np.inf)

    def arrays(self, what="ratio"):
        """One recorded quantity as ``{name: ndarray}`` (``"ratio"``, ``"grad_norm"``, ...)."""
        checks.one_of("what", what, _RECORDS)
        return {k: np.array(v) for k, v in getattr(self, what).items()}

    def state_dict(self):
        """The step count, the records and the wrapped optimizer's state (copies)."""
        return {"t": self.t, "steps": list(self.steps),
                "records": {what: {k: list(v) for k, v in getattr(self, what).items()}
                            for what in _RECORDS},
                "optimizer": _inner_state(self.optimizer)}

    def load_state_dict(self, state):
        """Restore ``state_dict()``: the wrapped optimizer and the records as they were."""
        self.t, self.steps = int(state["t"]), list(state["steps"])
        for what in _RECORDS:
            setattr(self, what, {k: list(v) for k, v in state["records"][what].items()})
        _load_inner(self.optimizer, state["optimizer"])


class Scheduled(OptimizerWrapper):
    """An optimizer that sets its own learning rate from a schedule at every step.

    ``Scheduled(opt, schedule)`` is ``opt`` driven by
    ``optlib.optim.lr_scheduler.LRScheduler(opt, schedule)``: the rate of the step
    taken after ``t`` steps is ``schedule(t)``. The schedule travels with the
    optimizer, which is what the explorers need (they only ever call ``step``).

    Parameters
    ----------
    optimizer : ``Optimizer``
        Anything with ``step(params, grads)`` and a writable ``lr``.
    schedule : callable
        ``t -> lr`` with ``t`` = steps already taken, e.g. from
        ``optlib.optim.lr_scheduler.make_schedule``.

    Attributes
    ----------
    scheduler : ``LRScheduler``
        What sets the rate.
    t : int
        Steps taken.
    peak_lr : float
        The largest rate used so far (0 before the first step).
    """

    def __init__(self, optimizer, schedule):
        super().__init__(optimizer)
        self.scheduler = LRScheduler(optimizer, schedule)
        self.t = 0
        self.peak_lr = 0.0

    @property
    def schedule(self):
        """The schedule ``t -> lr``."""
        return self.scheduler.schedule

    @property
    def hyper(self):
        """The wrapped optimizer's hyper-parameters, with ``lr`` = the peak rate used."""
        return {**super().hyper, "lr": self.peak_lr}

    def step(self, params, grads):
        """Set the rate to ``schedule(t)``, ``t`` = steps taken, and step the wrapped optimizer."""
        if self.scheduler.t < self.t:
            self.scheduler.step()
        self.peak_lr = max(self.peak_lr, self.optimizer.lr)
        super().step(params, grads)
        self.t += 1

    def state_dict(self):
        """The step count, the peak rate and the wrapped optimizer's state."""
        return {"t": self.t, "scheduler": self.scheduler.state_dict(), "peak_lr": self.peak_lr,
                "optimizer": _inner_state(self.optimizer)}

    def load_state_dict(self, state):
        """Restore ``state_dict()``; the rate is set to what it was."""
        _load_inner(self.optimizer, state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.t, self.peak_lr = int(state["t"]), float(state["peak_lr"])

    def __repr__(self):
        return f"Scheduled({self.optimizer!r}, {self.schedule!r}, t={self.t})"
