"""``NAdam``: Adam with Nesterov momentum and a warming momentum schedule."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum and a warming momentum schedule.

    .. math::

        \mu_t &= \beta_1\,(1 - \tfrac12\, 0.96^{\,t\,\psi})
            \qquad (\psi = \text{momentum\_decay})\\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
        \theta_t &= \theta_{t-1}
            - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
            - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{\sqrt{\hat v_t}+\epsilon}

    with :math:`\hat v_t = v_t/(1-\beta_2^t)`. Dozat (2016), *Incorporating Nesterov
    momentum into Adam*, ICLR workshop; the :math:`\mu_t` schedule follows PyTorch.
    :math:`\epsilon` sits outside the square root, after bias correction.

    ``weight_decay`` :math:`\lambda` adds :math:`\lambda\theta_{t-1}` to the gradient
    (L2); with ``decoupled_weight_decay=True`` it shrinks the weights instead,
    :math:`\theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1}`, before the step (the
    "NAdamW" of PyTorch). With ``maximize=True`` the rule follows :math:`-g_t`.

    Arguments (PyTorch's names and defaults): ``lr=2e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``, ``momentum_decay=4e-3``,
    ``decoupled_weight_decay=False``, ``maximize=False``.

    Known limits: with the default :math:`\psi = 0.004`, :math:`\mu_t` starts near
    :math:`\beta_1/2` and reaches :math:`0.99\,\beta_1` only after some thousand steps, so
    early on the momentum is about half of what ``betas[0]`` says.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); ``decoupled_weight_decay`` is keyword-only (it is
    the seventh positional argument in PyTorch). The running product
    :math:`\prod_i \mu_i` (state ``mu_product``) is a Python float, float64 whatever the
    parameters' dtype; PyTorch keeps it in a tensor of its default dtype, float32, even
    for float64 parameters, so in float64 its steps carry float32 rounding (relative
    differences up to about 2e-8). optlib follows the exact arithmetic; in float32 the
    two agree to float32 rounding.
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False)

    def _validate(self, h):
        super()._validate(h)
        h["momentum_decay"] = checks.real("momentum_decay", h["momentum_decay"], low=0)

    def _init_state(self, p):
        return {"mu_product": 1.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def update(self, p, g, state):
        """One NAdam step for the array ``p``, in place, from its gradient ``g``."""
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), psi, lr = h["betas"], h["momentum_decay"], h["lr"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ, or θ ← θ(1-ηλ)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))          # μ_t
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu                           # ∏_{i≤t} μ_i
        mu_product = state["mu_product"]
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        v *= beta2
        v += (1 - beta2) * g * g                            # v_t = β2 v_{t-1} + (1-β2) g_t²
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += h["eps"]                                   # √v̂_t + ε
        _descend(p, lr * (1 - mu) / (1 - mu_product), g / denom)
        _descend(p, lr * mu_next / (1 - mu_product * mu_next), m / denom)
