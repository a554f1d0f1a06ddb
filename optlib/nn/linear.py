r"""``Linear``, the fully connected layer, as ``torch.nn.Linear``.

``weight`` has shape ``(out_features, in_features)`` and the layer computes
:math:`y = x W^\top + b` on a batch ``x`` of shape ``(B, in_features)``.
"""

import numpy as np

from optlib import checks
from optlib.nn.init import initial_weight
from optlib.nn.module import Module, _check_batch, _check_dtype

__all__ = ["Linear"]


class Linear(Module):
    r"""Fully connected layer, :math:`y = x W^\top + b`.

    Backward, for a batch :math:`x \in \mathbb R^{B\times n_\text{in}}` and
    :math:`\delta = \partial L/\partial y \in \mathbb R^{B\times n_\text{out}}`:

    .. math::

        \frac{\partial L}{\partial W} = \delta^\top x,\qquad
        \frac{\partial L}{\partial b} = \sum_{i=1}^{B} \delta_i,\qquad
        \frac{\partial L}{\partial x} = \delta W.

    ``forward`` keeps a copy of ``x`` for :math:`\partial L/\partial W`, so changing
    the caller's ``x`` in place before ``backward`` does not change the gradient.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output row.
    bias : bool
        Whether to add a bias :math:`b` (initialized to zero).
    init : str or callable
        ``"he"`` (default), ``"glorot"``, ``"zeros"`` or ``"normal"`` (see ``init_he``,
        ``init_glorot``, ``init_zeros``, ``init_normal``), or a callable
        ``init(shape, seed=..., dtype=...)`` returning the weight.
    scale : float, optional
        Standard deviation for ``init="normal"`` (default 0.01); not allowed otherwise.
    seed : int or ``numpy.random.Generator``
        Source of randomness for the weights.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64`` (gradient checks).

    Attributes
    ----------
    weight, bias : ``ndarray``
        Shapes ``(out_features, in_features)`` and ``(out_features,)``.
    weight_grad, bias_grad : ``ndarray``
        Their gradients, overwritten by every ``backward``.

    Notes
    -----
    torch initializes ``weight`` and ``bias`` uniformly in
    :math:`\pm 1/\sqrt{n_\text{in}}`; optlib uses He's normal weights and zero biases,
    the initialization the book discusses (chapter 1).
    """

    def __init__(self, in_features, out_features, bias=True, init="he", scale=None,
                 seed=0, dtype=np.float32):
        self.in_features = checks.integer("in_features", in_features, low=1)
        self.out_features = checks.integer("out_features", out_features, low=1)
        bias = checks.boolean("bias", bias)
        dtype = _check_dtype(dtype)
        shape = (self.out_features, self.in_features)
        weight = initial_weight(shape, init, scale, seed=seed, dtype=dtype)
        self.weight = weight
        self.weight_grad = np.zeros_like(weight)
        self.bias = np.zeros(self.out_features, dtype=dtype) if bias else None
        self.bias_grad = np.zeros_like(self.bias) if bias else None
        self._x = None

    def forward(self, x):
        _check_batch(x, self.in_features)
        self._x = x.copy()          # our own copy: the caller may change x before backward
        out = x @ self.weight.T
        if self.bias is not None:
            out += self.bias
        return out

    def backward(self, dout, input_grad=True):
        x = self._saved(self._x)
        # out= writes into the existing gradient arrays: their identity never changes,
        # so dicts fetched once stay valid. dout.T @ x is a BLAS call with a transpose flag.
        np.matmul(dout.T, x, out=self.weight_grad)
        if self.bias is not None:
            np.add.reduce(dout, axis=0, out=self.bias_grad)   # sum over the batch
        return dout @ self.weight if input_grad else None

    def __repr__(self):
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")
