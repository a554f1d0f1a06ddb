"""``Adadelta``: the step's own RMS replaces the learning rate."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""AdaDelta: the step's own RMS replaces the learning rate.

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2\\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\
        u_t &= \rho u_{t-1} + (1-\rho) \Delta_t^2\\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    with :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` first if ``weight_decay``
    :math:`\lambda \ne 0`, and :math:`g_t \leftarrow -g_t` before that if
    ``maximize=True``. Zeiler (2012), *ADADELTA: an adaptive learning rate method*,
    arXiv:1212.5701. The paper has no :math:`\eta` (it is 1, PyTorch's default);
    :math:`u` is ``acc_delta``, the running average of squared updates, which gives the
    step its units. :math:`\epsilon` sits inside both square roots.

    Arguments (PyTorch's names and defaults): ``lr=1.0``, ``rho=0.9``, ``eps=1e-6``,
    ``weight_decay=0``, ``maximize=False``.

    Known limits: with :math:`u_0 = 0` the first steps are of size about
    :math:`\sqrt\epsilon`, so ``eps`` sets how fast it starts; ``rho=1`` (accepted, as
    in PyTorch) freezes both averages at 0 and every step is
    :math:`\eta\,g_t\sqrt{\epsilon/\epsilon} = \eta g_t`.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); none in the update rule.
    """

    defaults = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)

    def _validate(self, h):
        super()._validate(h)
        h["rho"] = checks.real("rho", h["rho"], low=0, high=1)

    def _init_state(self, p):
        return {"square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def update(self, p, g, state):
        """One AdaDelta step for the array ``p``, in place, from its gradient ``g``."""
        h, v, u = self.hyper, state["square_avg"], state["acc_delta"]
        rho, eps = h["rho"], h["eps"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ (L2)
        v *= rho
        v += (1 - rho) * g * g                              # v_t = ρ v_{t-1} + (1-ρ) g_t²
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g     # Δ_t = √(u_{t-1}+ε)/√(v_t+ε) g_t
        u *= rho
        u += (1 - rho) * delta * delta                      # u_t = ρ u_{t-1} + (1-ρ) Δ_t²
        _descend(p, h["lr"], delta)                         # θ_t = θ_{t-1} - η Δ_t
