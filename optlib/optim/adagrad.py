"""``Adagrad``: a per-coordinate rate from the running sum of squared gradients."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""AdaGrad: a per-coordinate rate from the running sum of squared gradients.

    .. math::

        G_t &= G_{t-1} + g_t^2 \qquad (G_0 = \text{initial\_accumulator\_value})\\
        \tilde\eta_t &= \eta \,/\, (1 + (t-1)\,\text{lr\_decay})\\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{G_t} + \epsilon)

    with :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}` first if ``weight_decay``
    :math:`\lambda \ne 0`, and :math:`g_t \leftarrow -g_t` before that if
    ``maximize=True``. Duchi, Hazan & Singer (2011), *Adaptive subgradient methods for
    online learning and stochastic optimization*, JMLR 12. As in PyTorch,
    :math:`\epsilon` sits outside the square root and the accumulator starts at 0
    (Keras starts it at 0.1).

    Arguments (PyTorch's names and defaults): ``lr=1e-2``, ``lr_decay=0``,
    ``weight_decay=0``, ``initial_accumulator_value=0``, ``eps=1e-10``,
    ``maximize=False``.

    Known limits: :math:`G_t` only grows, so the effective rate
    :math:`\eta/\sqrt{G_t}` only shrinks and training can stall long before a minimum.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); no sparse gradients; none in the update rule.
    """

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                    eps=1e-10, maximize=False)

    def _validate(self, h):
        super()._validate(h)
        h["lr_decay"] = checks.real("lr_decay", h["lr_decay"], low=0)
        h["initial_accumulator_value"] = checks.real(
            "initial_accumulator_value", h["initial_accumulator_value"], low=0)

    def _init_state(self, p):
        return {"sum": np.full_like(p, self.hyper["initial_accumulator_value"])}

    def update(self, p, g, state):
        """One AdaGrad step for the array ``p``, in place, from its gradient ``g``."""
        h, t, G = self.hyper, state["step"], state["sum"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ (L2)
        clr = h["lr"] / (1 + (t - 1) * h["lr_decay"])       # η̃_t
        G += g * g                                          # G_t = G_{t-1} + g_t²
        _descend(p, clr, g / (np.sqrt(G) + h["eps"]))       # θ_t = θ_{t-1} - η̃_t g_t/(√G_t + ε)
