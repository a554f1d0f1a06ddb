"""``Adam``: momentum's first moment, RMSprop's second moment, and bias correction."""
from __future__ import annotations

import math

import numpy as np

from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam: momentum's first moment, RMSprop's second moment, and bias correction.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t\\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
        \hat m_t &= m_t / (1-\beta_1^t),\qquad \hat v_t = v_t / (1-\beta_2^t)\\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Kingma & Ba (2015), *Adam: a method for stochastic optimization*, ICLR, Algorithm 1.
    :math:`\epsilon` is added outside the square root, after bias correction (paper and
    PyTorch; Keras/TensorFlow use the paper's "ε-hat" form). With ``amsgrad=True``
    (Reddi, Kale & Kumar 2018, *On the convergence of Adam and beyond*) the denominator
    uses :math:`v^{max}_t = \max(v^{max}_{t-1}, v_t)`, the maximum of the raw :math:`v`,
    bias-corrected afterwards, as in PyTorch.

    ``weight_decay`` :math:`\lambda` adds :math:`\lambda\theta_{t-1}` to the gradient
    (L2), so the penalty is divided by :math:`\sqrt{\hat v_t}` like the rest of it; with
    ``decoupled_weight_decay=True`` it shrinks the weights instead,
    :math:`\theta_{t-1} \leftarrow (1-\eta\lambda)\,\theta_{t-1}`, before the step
    (Loshchilov & Hutter 2019; that is :class:`~optlib.optim.adamw.AdamW`). With
    ``maximize=True`` the rule follows :math:`-g_t` (the decay still shrinks the weights).

    Arguments (PyTorch's names and defaults): ``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``, ``amsgrad=False``, ``maximize=False``,
    ``decoupled_weight_decay=False``.

    Known limits: the first step is about :math:`\eta` per coordinate whatever the
    gradient's size (:math:`\hat m_1/\sqrt{\hat v_1} = \pm 1`); where :math:`|g|` is
    comparable to :math:`\epsilon` the step shrinks; Adam need not converge on some
    convex problems (Reddi et al.'s counterexample; ``amsgrad`` fixes that one).

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); ``betas`` may be any two real numbers in
    [0, 1), integers included (PyTorch's ``Adam`` wants two floats or two tensors, and
    rejects ``betas=(0, 0.9)``); none in the update rule.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                    maximize=False, decoupled_weight_decay=False)

    def _init_state(self, p):
        state = {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if self.hyper["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def update(self, p, g, state):
        """One Adam step for the array ``p``, in place, from its gradient ``g``."""
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), lr = h["betas"], h["lr"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ, or θ ← θ(1-ηλ)
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        v *= beta2
        v += (1 - beta2) * g * g                            # v_t = β2 v_{t-1} + (1-β2) g_t²
        if h["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        denom = np.sqrt(v)
        denom /= math.sqrt(bias_correction2)
        denom += h["eps"]                                   # √v̂_t + ε
        _descend(p, lr / bias_correction1, m / denom)       # θ_t = θ_{t-1} - η m̂_t/(√v̂_t + ε)
