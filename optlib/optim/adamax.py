"""``Adamax``: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""AdaMax: Adam with the infinity norm in place of the second moment.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t\\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon)\\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, m_t / u_t

    with :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` first if ``weight_decay``
    :math:`\lambda \ne 0`, and :math:`g_t \leftarrow -g_t` before that if
    ``maximize=True``. Kingma & Ba (2015), *Adam: a method for stochastic
    optimization*, ICLR, §7.1. :math:`u` needs no bias correction. PyTorch adds
    :math:`\epsilon` to :math:`|g_t|` inside the max (the paper has no :math:`\epsilon`).

    Arguments (PyTorch's names and defaults): ``lr=2e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``, ``maximize=False``.

    Known limits: one huge gradient sets :math:`u` for the next
    :math:`\sim 1/(1-\beta_2)` steps, which then are tiny.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); none in the update rule.
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False)

    def _init_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def update(self, p, g, state):
        """One AdaMax step for the array ``p``, in place, from its gradient ``g``."""
        h, t, m, u = self.hyper, state["step"], state["exp_avg"], state["exp_inf"]
        beta1, beta2 = h["betas"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ (L2)
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        u *= beta2
        np.maximum(u, np.abs(g) + h["eps"], out=u)          # u_t = max(β2 u_{t-1}, |g_t| + ε)
        _descend(p, h["lr"] / (1 - beta1 ** t), m / u)      # θ_t = θ_{t-1} - η/(1-β1^t) m_t/u_t
