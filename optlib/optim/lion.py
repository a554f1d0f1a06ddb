"""``Lion``: the sign of an interpolation of momentum and gradient."""
from __future__ import annotations

import numpy as np

from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion (EvoLved Sign Momentum): every coordinate moves by exactly :math:`\pm\eta` (or 0).

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)\\
        \theta_t &= \theta_{t-1} - \eta\,\mathrm{sign}\big(\beta_1 m_{t-1} + (1-\beta_1) g_t\big)\\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    Chen et al. (2023), *Symbolic discovery of optimization algorithms*, NeurIPS,
    Algorithm 2; found by a program search. The direction interpolates the momentum
    :math:`m_{t-1}` and the new gradient with :math:`\beta_1` (0.9), while the momentum
    itself is averaged with the slower :math:`\beta_2` (0.99); the sign then makes the
    step the same size, :math:`\eta`, in every coordinate (:math:`\mathrm{sign}(0) = 0`).
    There is no :math:`\epsilon` and no second moment: one state array, ``exp_avg``
    :math:`m`, against Adam's two. The first step is :math:`-\eta\,\mathrm{sign}(g_1)`
    whatever :math:`\beta_1` (:math:`m_0 = 0`). The weight decay is decoupled, scaled by
    :math:`\eta` as in AdamW.

    Because every coordinate moves by :math:`\eta`, the update's norm is larger than
    Adam's for the same :math:`\eta`; the paper uses a learning rate 3-10 times smaller
    than AdamW's and a weight decay 3-10 times larger (so that :math:`\eta\lambda` stays).

    Arguments (the names and defaults of the authors' reference implementation, the
    ``lion-pytorch`` package's ``Lion``): ``lr=1e-4``, ``betas=(0.9, 0.99)``,
    ``weight_decay=0.0``.

    Known limits: a sign update does not shrink near a minimum, so with a constant
    :math:`\eta` the parameters keep oscillating by about :math:`\eta` around it (a decaying
    schedule, or the momentum averaging the signs out, is what stops them); the
    uniform step size ignores the curvature of each coordinate.

    Differences from ``lion_pytorch.Lion``: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); the reference's ``use_triton`` (a GPU
    kernel) and ``decoupled_weight_decay`` (which divides ``weight_decay`` by the initial
    learning rate) are not arguments; ``lr = 0`` is accepted (the reference asserts
    ``lr > 0``) and each beta must be in [0, 1) (the reference also accepts 1).
    """

    defaults = dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0)

    def _init_state(self, p):
        return {"exp_avg": np.zeros_like(p)}

    def update(self, p, g, state):
        """One Lion step for the array ``p``, in place, from its gradient ``g``."""
        h, m = self.hyper, state["exp_avg"]
        (beta1, beta2), lr, wd = h["betas"], h["lr"], h["weight_decay"]
        if wd != 0:
            p *= 1 - lr * wd                                # θ ← θ(1 - ηλ)
        direction = m.copy()                                # an array, also for 0-d m
        direction *= beta1
        direction += (1 - beta1) * g                        # c_t = β1 m + (1-β1) g
        _descend(p, lr, np.sign(direction, out=direction))  # θ_t = θ - η sign(c_t)
        m *= beta2
        m += (1 - beta2) * g                                # m_t = β2 m + (1-β2) g
