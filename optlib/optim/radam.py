"""``RAdam``: Adam whose adaptive rate is switched on only once its variance is finite."""
from __future__ import annotations

import math

import numpy as np

from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive rate is switched on only once its variance is finite.

    .. math::

        \rho_\infty &= \frac{2}{1-\beta_2} - 1,\qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}\\
        \theta_t &= \theta_{t-1} - \eta\,\hat m_t \cdot
        \begin{cases}
            r_t \,\sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5\\
            1 & \text{otherwise (momentum SGD)}
        \end{cases}\\
        r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    with :math:`m_t, v_t, \hat m_t` as in :class:`~optlib.optim.adam.Adam`. Liu et al.
    (2020), *On the variance of the adaptive learning rate and beyond*, ICLR. The
    rectifier :math:`r_t` acts as an automatic warm-up. PyTorch adds :math:`\epsilon`
    to :math:`\sqrt{v_t}` before the bias correction (so it weighs
    :math:`1/\sqrt{1-\beta_2^t}` times more than Adam's early on). The switch happens at
    :math:`\rho_t > 5`, as in PyTorch and the authors' code (the paper's Algorithm 2
    writes :math:`\rho_t > 4`); with the default :math:`\beta_2` the first adaptive step
    is :math:`t = 6`.

    ``weight_decay`` :math:`\lambda` adds :math:`\lambda\theta_{t-1}` to the gradient
    (L2); with ``decoupled_weight_decay=True`` it shrinks the weights instead,
    :math:`\theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1}`, before the step (the
    "RAdamW" of PyTorch). With ``maximize=True`` the rule follows :math:`-g_t`.

    Arguments (PyTorch's names and defaults): ``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``, ``decoupled_weight_decay=False``,
    ``maximize=False``.

    Known limits: the first steps (five with the default :math:`\beta_2`) are momentum
    SGD with rate :math:`\eta`, not normalised, so a large gradient then gives a large
    step; with :math:`\beta_2 \le 2/3`, :math:`\rho_\infty \le 5` and the adaptive
    rate never switches on.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); ``decoupled_weight_decay`` is keyword-only (it is
    the sixth positional argument in PyTorch); none in the update rule.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    decoupled_weight_decay=False, maximize=False)

    def _init_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def update(self, p, g, state):
        """One RAdam step for the array ``p``, in place, from its gradient ``g``."""
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), lr = h["betas"], h["lr"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ, or θ ← θ(1-ηλ)
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        v *= beta2
        v += (1 - beta2) * g * g                            # v_t = β2 v_{t-1} + (1-β2) g_t²
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bias_correction2) / (np.sqrt(v) + h["eps"])
            _descend(p, lr * rect / bias_correction1, m * adaptive)
        else:
            _descend(p, lr / bias_correction1, m)           # no adaptive rate yet: momentum SGD
