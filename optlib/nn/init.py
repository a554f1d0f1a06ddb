r"""Weight initializers, as in ``torch.nn.init``.

Each is ``init_<name>(shape, ..., seed=0, dtype=np.float32) -> ndarray`` for a weight of
shape ``(out_features, in_features)`` (the layout of ``torch.nn.Linear``, so
:math:`n_\text{in}` = ``shape[1]``). ``Linear(init=...)`` accepts their names
(``"zeros"``, ``"normal"``, ``"he"``, ``"glorot"``) or any callable with this signature.

=================  =====================================================================
optlib             torch
=================  =====================================================================
``init_zeros``     ``torch.nn.init.zeros_``
``init_normal``    ``torch.nn.init.normal_(w, std=scale)``
``init_he``        ``torch.nn.init.kaiming_normal_(w, nonlinearity="relu")``
``init_glorot``    ``torch.nn.init.xavier_uniform_``
=================  =====================================================================

Unlike torch's functions, which fill a tensor in place, these return a new array
drawn from ``numpy.random.default_rng(seed)``: the same seed gives the same weights.
"""

import math

import numpy as np

from optlib import checks

__all__ = ["init_zeros", "init_normal", "init_he", "init_glorot", "INITIALIZERS", "initial_weight"]


def _check_shape(shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (out_features, in_features) with both >= 1, got {shape}")
    return shape


def init_zeros(shape, seed=None, dtype=np.float32):
    r"""All-zero weights, :math:`W = 0`.

    With hidden units this never learns: every unit of a layer computes the same
    function and receives the same gradient, so the symmetry is never broken.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)``.
    seed : ``None``
        Ignored (accepted so that all initializers share one signature).
    dtype : ``dtype``
        Floating dtype of the result.

    Returns
    -------
    ``ndarray``
        Zeros of the given shape.
    """
    return np.zeros(_check_shape(shape), dtype=dtype)


def init_normal(shape, scale=0.01, seed=0, dtype=np.float32):
    r"""Gaussian weights with a fixed scale, :math:`W_{ij} \sim \mathcal N(0, s^2)`.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)``.
    scale : float
        Standard deviation :math:`s > 0`.
    seed : int or ``numpy.random.Generator``
        Source of randomness.
    dtype : ``dtype``
        Floating dtype of the result.

    Returns
    -------
    ``ndarray``
        The weights.
    """
    scale = checks.real("scale", scale, low=0, low_open=True)
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal(_check_shape(shape))).astype(dtype)


def init_he(shape, seed=0, dtype=np.float32):
    r"""He (Kaiming) normal initialization for ReLU layers.

    .. math::

        W_{ij} \sim \mathcal N\!\left(0, \frac{2}{n_\text{in}}\right)

    keeps the variance of the activations constant from layer to layer when half of
    the units are switched off by the ReLU (He et al., 2015, "Delving deep into
    rectifiers"). Same as ``torch.nn.init.kaiming_normal_(w, nonlinearity="relu")``.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)``; :math:`n_\text{in}` = ``in_features``.
    seed : int or ``numpy.random.Generator``
        Source of randomness.
    dtype : ``dtype``
        Floating dtype of the result.

    Returns
    -------
    ``ndarray``
        The weights.
    """
    shape = _check_shape(shape)
    rng = np.random.default_rng(seed)
    return (math.sqrt(2.0 / shape[1]) * rng.standard_normal(shape)).astype(dtype)


def init_glorot(shape, seed=0, dtype=np.float32):
    r"""Glorot (Xavier) uniform initialization, for tanh and sigmoid layers.

    .. math::

        W_{ij} \sim \mathcal U(-a, a), \qquad a = \sqrt{\frac{6}{n_\text{in} + n_\text{out}}}

    balances the variance of activations (forward) and of gradients (backward)
    (Glorot and Bengio, 2010). Same as ``torch.nn.init.xavier_uniform_``.

    Parameters
    ----------
    shape : tuple of int
        ``(out_features, in_features)``.
    seed : int or ``numpy.random.Generator``
        Source of randomness.
    dtype : ``dtype``
        Floating dtype of the result.

    Returns
    -------
    ``ndarray``
        The weights.
    """
    shape = _check_shape(shape)
    rng = np.random.default_rng(seed)
    a = math.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-a, a, size=shape).astype(dtype)


#: Initializers by the name ``Linear(init=...)`` accepts.
INITIALIZERS = {"zeros": init_zeros, "normal": init_normal, "he": init_he, "glorot": init_glorot}


def initial_weight(shape, init="he", scale=None, seed=0, dtype=np.float32):
    """A layer's starting weight matrix of ``shape`` ``(out, in)``, as its ``init`` says.

    ``init`` is a name of :data:`INITIALIZERS` or a callable ``init(shape, seed=, dtype=)``;
    ``scale`` is the standard deviation of ``"normal"`` (default 0.01) and may not be
    given with another ``init``. Returns a C-contiguous array of ``dtype`` and ``shape``.
    """
    if callable(init):
        weight = init(shape, seed=seed, dtype=dtype)
    elif init in INITIALIZERS:
        if init == "normal":
            weight = init_normal(shape, 0.01 if scale is None else scale, seed=seed, dtype=dtype)
        elif scale is not None:
            raise ValueError(f"scale is only used with init='normal', got init={init!r} and scale={scale!r}")
        else:
            weight = INITIALIZERS[init](shape, seed=seed, dtype=dtype)
    else:
        raise ValueError(f"init must be one of {sorted(INITIALIZERS)} or a callable, got {init!r}")
    weight = np.ascontiguousarray(weight, dtype=dtype)
    if weight.shape != tuple(shape):
        raise ValueError(f"init must return shape {tuple(shape)}, got {weight.shape}")
    return weight
