r"""The per-coordinate learning rate that an adaptive optimizer's state implies.

An adaptive optimizer divides each coordinate's step by its own running measure of the
gradient's size, so each coordinate has its own **effective rate** :math:`\eta_{t,i}`:
the factor between the (averaged) gradient and the step. It is not stored anywhere;
:func:`effective_rate` reads it off the optimizer's state, after any step, for
chapters 3 to 5 (``run(..., record=effective_rate)`` records it along a path).

Use::

    from optlib.optim.effective_rate import effective_rate
    opt = Adagrad(lr=0.5)
    opt.step(params, grads)
    effective_rate(opt, key=0)          # an array shaped like params[0]
"""
from __future__ import annotations

import numpy as np

from optlib.optim.adadelta import Adadelta
from optlib.optim.adagrad import Adagrad
from optlib.optim.adam import Adam
from optlib.optim.rmsprop import RMSprop

__all__ = ["ADAPTIVE", "effective_rate"]

#: The optimizer classes whose effective rate :func:`effective_rate` reads (with subclasses).
ADAPTIVE = (Adagrad, RMSprop, Adadelta, Adam)


def effective_rate(optimizer, key=0):
    r"""The per-coordinate learning rate that an adaptive optimizer's state implies.

    After step :math:`t` (read from ``optimizer.state[key]``):

    * ``Adagrad``: :math:`\eta_t / (\sqrt{G_t} + \epsilon)` with
      :math:`\eta_t = \eta / (1 + (t-1)\,\text{lr\_decay})`, the rate step :math:`t`
      applied to :math:`g_t` (Duchi, Hazan & Singer 2011);
    * ``RMSprop``: :math:`\eta / (\sqrt{v_t} + \epsilon)` (centered:
      :math:`\sqrt{v_t - \bar g_t^2}`), the rate step :math:`t` applied to
      :math:`g_t` (with momentum, the rate at which :math:`g_t` enters the buffer);
    * ``Adadelta``: :math:`\eta\,\sqrt{u_t + \epsilon} / \sqrt{v_t + \epsilon}`, the
      rate the next step would apply to a gradient of the current RMS size
      (Zeiler 2012);
    * ``Adam`` and ``AdamW``: :math:`\eta / (\sqrt{\hat v_t} + \epsilon)` with
      :math:`\hat v_t = v_t / (1-\beta_2^t)` (with AMSGrad, :math:`v_t` is the running
      maximum ``max_exp_avg_sq``, as in PyTorch), the rate that multiplies
      :math:`\hat m_t` (Kingma & Ba 2015). When :math:`\epsilon \gg \sqrt{\hat v_t}` it
      tends to :math:`\eta/\epsilon`, a rate that no longer adapts.

    A coordinate that has had no gradient yet (AdaGrad's :math:`G = 0`) gets
    :math:`\eta/\epsilon`: huge, but it multiplies a zero gradient.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta``, ``Adam`` or ``AdamW``
        An optlib optimizer that has taken at least one step.
    key : int or str
        Which parameter array: its index in the ``params`` list or its name in the
        ``params`` dict given to ``step``.

    Returns
    -------
    ``ndarray``
        Same shape as the parameter array.
    """
    state, h = _state(optimizer, key), optimizer.hyper
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(optimizer, Adam):
            v = state["max_exp_avg_sq"] if h["amsgrad"] else state["exp_avg_sq"]
            v_hat = v / (1 - h["betas"][1] ** state["step"])
            return h["lr"] / (np.sqrt(v_hat) + h["eps"])
        if isinstance(optimizer, Adagrad):
            lr = h["lr"] / (1 + (state["step"] - 1) * h["lr_decay"])
            return lr / (np.sqrt(state["sum"]) + h["eps"])
        if isinstance(optimizer, RMSprop):
            v = state["square_avg"]
            if h["centered"]:
                v = v - state["grad_avg"] ** 2
            return h["lr"] / (np.sqrt(v) + h["eps"])
        u, v, eps = state["acc_delta"], state["square_avg"], h["eps"]       # Adadelta
        return h["lr"] * np.sqrt(u + eps) / np.sqrt(v + eps)


def _state(optimizer, key):
    """``optimizer.state[key]``, after checking that the optimizer is adaptive and has stepped."""
    if not isinstance(optimizer, ADAPTIVE):
        raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta, Adam or AdamW, "
                        f"got {type(optimizer).__name__}")
    state = optimizer.state.get(key)
    if state is None:
        known = sorted(map(str, optimizer.state)) or "none yet (no step taken)"
        raise KeyError(f"no state for key {key!r}; the optimizer has state for {known}")
    return state
