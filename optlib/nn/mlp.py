"""``MLP``: a multilayer perceptron built from ``Linear`` and an activation.

torch has no ``MLP`` in ``torch.nn`` (``torchvision.ops.MLP`` is the nearest); this
builds the ``Sequential`` a reader would write by hand.
"""

import numpy as np

from optlib import checks
from optlib.nn.activation import ReLU, Sigmoid, Tanh
from optlib.nn.container import Sequential
from optlib.nn.linear import Linear

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_DEFAULT_INIT = {"relu": "he", "tanh": "glorot", "sigmoid": "glorot"}


def MLP(sizes, activation="relu", init=None, scale=None, bias=True, seed=0, dtype=np.float32):
    """A multilayer perceptron: ``Linear``, activation, ..., ``Linear`` (no final activation).

    Parameters
    ----------
    sizes : ``sequence`` of int
        Layer widths from input to output, e.g. ``(64, 32, 10)``.
    activation : str
        ``"relu"``, ``"tanh"`` or ``"sigmoid"``, between the linear layers.
    init : str or callable, optional
        Weight initializer for every ``Linear``; default ``"he"`` for ReLU and
        ``"glorot"`` for tanh and sigmoid.
    scale : float, optional
        Standard deviation for ``init="normal"``.
    bias : bool
        Whether the linear layers have biases.
    seed : int or ``numpy.random.Generator``
        One generator is made from it and shared by the layers, so layers differ.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64``.

    Returns
    -------
    Sequential
        The network; parameter names ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    checks.one_of("activation", activation, sorted(_ACTIVATIONS))
    init = _DEFAULT_INIT[activation] if init is None else init
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, bias=bias, init=init, scale=scale, seed=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return Sequential(*layers)
