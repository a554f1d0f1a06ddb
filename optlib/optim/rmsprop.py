"""``RMSprop``: AdaGrad with an exponential moving average instead of the sum."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend, _flag

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with an exponential moving average instead of the sum.

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2\\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t,\quad
            \tilde v_t = v_t - \bar g_t^2 \quad\text{(centered only)}\\
        b_t &= \beta b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon) \quad\text{(momentum } \beta > 0)\\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad\text{or, without momentum,}\quad
        \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{\tilde v_t} + \epsilon)

    (:math:`\tilde v_t = v_t` when not centered), with :math:`g_t \leftarrow g_t +
    \lambda\theta_{t-1}` first if ``weight_decay`` :math:`\lambda \ne 0`, and
    :math:`g_t \leftarrow -g_t` before that if ``maximize=True``. Tieleman & Hinton
    (2012), Lecture 6.5 of *Neural Networks for Machine Learning*; the centered form
    from Graves (2013), *Generating sequences with recurrent neural networks*. No bias
    correction: with :math:`v_0 = 0` the first step is :math:`\eta/\sqrt{1-\alpha}` per
    coordinate (10η for the default α = 0.99). :math:`\epsilon` sits outside the square
    root. PyTorch's ``alpha`` is Keras's ``rho``.

    Arguments (PyTorch's names and defaults): ``lr=1e-2``, ``alpha=0.99``, ``eps=1e-8``,
    ``weight_decay=0``, ``momentum=0``, ``centered=False``, ``maximize=False``.

    Known limits: the first steps are large (no bias correction, see above); ``alpha``
    is accepted above 1, as in PyTorch, where :math:`1-\alpha < 0` makes :math:`v_t`
    negative and the step nan.

    Differences from torch.optim: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); none in the update rule. In float32 the centered
    :math:`v_t - \bar g_t^2` is computed in float64 and rounded once, as PyTorch's fused
    ``addcmul`` rounds it once (so a huge :math:`\bar g_t` gives inf, not inf - inf = nan).
    """

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                    centered=False, maximize=False)

    def _validate(self, h):
        super()._validate(h)
        h["alpha"] = checks.real("alpha", h["alpha"], low=0)
        h["momentum"] = checks.real("momentum", h["momentum"], low=0)
        h["centered"] = _flag("centered", h["centered"])

    def _init_state(self, p):
        state = {"square_avg": np.zeros_like(p)}
        if self.hyper["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if self.hyper["centered"]:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def update(self, p, g, state):
        """One RMSprop step for the array ``p``, in place, from its gradient ``g``."""
        h, v = self.hyper, state["square_avg"]
        alpha = h["alpha"]
        g = self.regularized_gradient(p, g)                 # -g to maximize; + λθ (L2)
        v *= alpha
        v += (1 - alpha) * g * g                            # v_t = α v_{t-1} + (1-α) g_t²
        if h["centered"]:
            gbar = state["grad_avg"]
            gbar *= alpha
            gbar += (1 - alpha) * g                         # ḡ_t = α ḡ_{t-1} + (1-α) g_t
            denom = np.sqrt(_minus_square(v, gbar))         # √(v_t - ḡ_t²)
        else:
            denom = np.sqrt(v)
        denom += h["eps"]                                   # √ṽ_t + ε
        if h["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= h["momentum"]
            b += g / denom                                  # b_t = β b_{t-1} + g_t/(√ṽ_t + ε)
            _descend(p, h["lr"], b)                         # θ_t = θ_{t-1} - η b_t
        else:
            _descend(p, h["lr"], g / denom)                 # θ_t = θ_{t-1} - η g_t/(√ṽ_t + ε)


def _minus_square(v, a):
    """``v - a*a``, rounded once in float32 (as PyTorch's fused addcmul) so ``a*a`` cannot overflow."""
    if v.dtype == np.float32:
        return (v.astype(np.float64) - np.square(a, dtype=np.float64)).astype(np.float32)
    return v - a * a
