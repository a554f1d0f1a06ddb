"""``SGD``: stochastic gradient descent, with momentum and Nesterov momentum."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend, _flag

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum and Nesterov momentum.

    .. math::

        g_t &\leftarrow g_t + \lambda\theta_{t-1} \quad\text{(if weight\_decay } \lambda \ne 0)\\
        b_t &= \beta b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1)\\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad\text{or, with Nesterov,}\quad
        \theta_t = \theta_{t-1} - \eta\,(g_t + \beta b_t)

    with momentum :math:`\beta` and dampening :math:`\tau`; without momentum
    :math:`\theta_t = \theta_{t-1} - \eta g_t`. With ``maximize=True`` the rule follows
    :math:`-g_t` instead (gradient ascent). This is PyTorch's form: the buffer
    accumulates gradients and the learning rate multiplies it, which equals the
    classical velocity form :math:`v_t = \beta v_{t-1} - \eta g_t` (Polyak 1964,
    *Some methods of speeding up the convergence of iteration methods*) while
    :math:`\eta` is constant. Nesterov momentum after Sutskever et al. (2013), *On the
    importance of initialization and momentum in deep learning*, ICML.

    Arguments (PyTorch's names and defaults): ``lr=1e-3``, ``momentum=0``,
    ``dampening=0``, ``weight_decay=0``, ``nesterov=False``, ``maximize=False``.

    Known limits: the first buffer is the raw gradient, undamped (so dampening acts from
    step 2); ``momentum`` :math:`\ge 1` is accepted, as in PyTorch, and then the buffer
    never forgets (at 1) or grows (above 1): divergence, not an error.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); none in the update rule.
    """

    defaults = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                    maximize=False)

    def _validate(self, h):
        super()._validate(h)
        h["momentum"] = checks.real("momentum", h["momentum"], low=0)
        h["dampening"] = checks.real("dampening", h["dampening"])
        h["nesterov"] = _flag("nesterov", h["nesterov"])
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={h['momentum']}, dampening={h['dampening']}")

    def update(self, p, g, state):
        """One SGD step for the array ``p``, in place, from its gradient ``g``."""
        h = self.hyper
        lr, beta, tau = h["lr"], h["momentum"], h["dampening"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ (L2)
        if beta != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(g)      # b_1 = g_1 (a copy), no dampening
            else:
                b = state["momentum_buffer"]
                b *= beta
                b += (1 - tau) * g                          # b_t = β b_{t-1} + (1-τ) g_t
            b = state["momentum_buffer"]
            g = g + beta * b if h["nesterov"] else b
        _descend(p, lr, g)                                  # θ_t = θ_{t-1} - η g
