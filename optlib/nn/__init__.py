r"""Tiny neural-network layers with hand-written backward passes, shaped like ``torch.nn``.

Names and weight layouts follow ``torch.nn`` so that what you learn here transfers:
``Linear`` stores ``weight`` with shape ``(out_features, in_features)`` and computes
:math:`y = x W^\top + b` on a batch ``x`` of shape ``(B, in_features)``.

=====================  ===========================================================
module                 holds
=====================  ===========================================================
``nn.module``          ``Module``, the base class (modes, parameter dicts, state)
``nn.container``       ``Sequential``
``nn.linear``          ``Linear``
``nn.activation``      ``ReLU``, ``Tanh``, ``Sigmoid``
``nn.batchnorm``       ``BatchNorm1d``
``nn.mlp``             ``MLP``, a ``Sequential`` of ``Linear`` and activations
``nn.conv``            ``Conv2d``, ``MaxPool2d``, ``Flatten``, ``Unflatten``, ``small_cnn``
``nn.init``            ``init_zeros``, ``init_normal``, ``init_he``, ``init_glorot``
``nn.losses``          ``mse``, ``softmax_cross_entropy``, ``softmax``, ``accuracy``
``nn.gradcheck``       finite-difference checks of backward passes
=====================  ===========================================================

Every module has ``forward(x)`` (also ``module(x)``), ``backward(dout)``, and
``parameters()``/``gradients()``: dicts name -> *live* array with the same keys
(``"0.weight"``, ``"0.bias"``, ... for a ``Sequential``), which plug straight into an
optimizer that updates in place::

      params, grads = model.parameters(), model.gradients()
      logits = model(x)
      loss, dlogits = softmax_cross_entropy(logits, y)
      model.backward(dlogits)
      opt.step(params, grads)

Gradients are **overwritten**, not accumulated: ``backward`` writes into the same
gradient arrays every time, so there is no need for ``zero_grad`` between steps
(unlike PyTorch, where ``.grad`` accumulates). Because the arrays are the same
objects across steps, the two dicts can be fetched once, before the training loop.
"""

from optlib.nn import gradcheck, init, losses
from optlib.nn.activation import ReLU, Sigmoid, Tanh
from optlib.nn.batchnorm import BatchNorm1d
from optlib.nn.container import Sequential
from optlib.nn.conv import Conv2d, Flatten, MaxPool2d, Unflatten, small_cnn
from optlib.nn.init import INITIALIZERS, init_glorot, init_he, init_normal, init_zeros
from optlib.nn.linear import Linear
from optlib.nn.mlp import MLP
from optlib.nn.module import Module

__all__ = [
    "Module",
    "Sequential",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "BatchNorm1d",
    "MLP",
    "Conv2d",
    "MaxPool2d",
    "Flatten",
    "Unflatten",
    "small_cnn",
    "init_zeros",
    "init_normal",
    "init_he",
    "init_glorot",
    "INITIALIZERS",
    "losses",
    "gradcheck",
    "init",
]
