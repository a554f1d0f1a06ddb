"""``AdamW``: Adam with decoupled weight decay."""
from __future__ import annotations

from optlib.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay.

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)\\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with :math:`\hat m_t, \hat v_t` as in :class:`~optlib.optim.adam.Adam` computed from the
    raw gradient. Loshchilov & Hutter (2019), *Decoupled weight decay regularization*,
    ICLR. With L2 (``Adam(weight_decay=λ)``) the penalty's gradient is divided by
    :math:`\sqrt{\hat v}` like every other gradient, so weights with large gradients are
    barely decayed; decoupling shrinks every weight by the same factor. Note that the
    factor is :math:`1-\eta\lambda`: the decay is tied to the learning rate (a schedule
    that lowers :math:`\eta` lowers the decay too), as in PyTorch; the paper's
    Algorithm 2 multiplies :math:`\lambda` by the schedule multiplier only, not by the
    learning rate.

    As in PyTorch 2.13, ``AdamW`` is ``Adam`` with ``decoupled_weight_decay=True``
    (``update`` is Adam's), and its default ``weight_decay`` is 0.01 rather than 0.

    Arguments (PyTorch's names and defaults): ``lr=1e-3``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=1e-2``, ``amsgrad=False``, ``maximize=False``.
    ``decoupled_weight_decay`` is not an argument (it is always ``True``), as in PyTorch.

    Differences from torch.optim: those of :class:`~optlib.optim.adam.Adam`.
    """

    defaults = dict(Adam.defaults, weight_decay=1e-2, decoupled_weight_decay=True)

    def __init__(self, **hyper):
        if "decoupled_weight_decay" in hyper:
            raise TypeError("AdamW got unexpected argument(s) ['decoupled_weight_decay']; it "
                            "always decouples the weight decay (Adam(decoupled_weight_decay=...) "
                            "chooses)")
        super().__init__(**hyper)
