r"""Element-wise activations, as ``torch.nn.ReLU``, ``Tanh`` and ``Sigmoid``.

Each saves what its derivative needs in ``forward`` (a mask, or a copy of its output,
so that a caller who changes the returned array in place cannot corrupt ``backward``).
"""

import numpy as np

from optlib.nn.module import Module, _check_array

__all__ = ["ReLU", "Tanh", "Sigmoid"]


class ReLU(Module):
    r"""Rectified linear unit, :math:`y = \max(x, 0)`; :math:`\partial y/\partial x = [x > 0]`.

    The derivative at exactly 0 is taken as 0, as in PyTorch.
    """

    _mask = None      # saved by forward

    def forward(self, x):
        _check_array(x)
        out = np.maximum(x, 0)
        self._mask = out > 0
        return out

    def backward(self, dout, input_grad=True):
        mask = self._saved(self._mask)
        return dout * mask if input_grad else None

    def __repr__(self):
        return "ReLU()"


class Tanh(Module):
    r"""Hyperbolic tangent, :math:`y = \tanh x`; :math:`\partial y/\partial x = 1 - y^2`."""

    _out = None       # saved by forward

    def forward(self, x):
        _check_array(x)
        out = np.tanh(x)
        self._out = out.copy()
        return out

    def backward(self, dout, input_grad=True):
        y = self._saved(self._out)
        return dout * (1 - y * y) if input_grad else None

    def __repr__(self):
        return "Tanh()"


class Sigmoid(Module):
    r"""Logistic sigmoid, :math:`y = \sigma(x) = 1/(1 + e^{-x})`; :math:`\partial y/\partial x = y(1-y)`.

    Computed as :math:`\tfrac12 + \tfrac12\tanh(x/2)`, the same function without the
    overflow of :math:`e^{-x}` for large negative :math:`x`.
    """

    _out = None       # saved by forward

    def forward(self, x):
        _check_array(x)
        out = 0.5 + 0.5 * np.tanh(0.5 * x)
        self._out = out.copy()
        return out

    def backward(self, dout, input_grad=True):
        y = self._saved(self._out)
        return dout * (y * (1 - y)) if input_grad else None

    def __repr__(self):
        return "Sigmoid()"
