r"""Gradient checking by central finite differences.

A hand-written backward pass is only trusted once it agrees with the numerical
derivative

.. math::

    \frac{\partial f}{\partial x_j} \approx \frac{f(x + \epsilon e_j) - f(x - \epsilon e_j)}{2\epsilon},

whose error is :math:`O(\epsilon^2)`. Run checks in float64: in float32 the rounding
error of :math:`f` divided by :math:`2\epsilon` swamps the comparison.
"""

import numpy as np

__all__ = ["numerical_grad", "rel_error", "check_layer", "check_model", "check_loss"]


def _require_float64(name, array):
    if not isinstance(array, np.ndarray) or array.dtype != np.float64:
        dtype = getattr(array, "dtype", type(array).__name__)
        raise TypeError(
            f"{name} must be a float64 ndarray for a gradient check, got {dtype} "
            "(build layers with dtype=np.float64)"
        )


def numerical_grad(f, x, eps=1e-6):
    r"""Central-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``. It may ignore its argument and read ``x`` through a
        closure (e.g. when ``x`` is a layer's weight): ``x`` is perturbed **in place**,
        one entry at a time, and restored afterwards.
    x : ``ndarray``
        Float64 point at which to differentiate.
    eps : float
        Step :math:`\epsilon > 0`.

    Returns
    -------
    ``ndarray``
        :math:`\nabla f(x)`, same shape as ``x``.
    """
    _require_float64("x", x)
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for j in range(flat_x.size):
        old = flat_x[j]
        flat_x[j] = old + eps
        f_plus = float(f(x))
        flat_x[j] = old - eps
        f_minus = float(f(x))
        flat_x[j] = old
        flat_g[j] = (f_plus - f_minus) / (2 * eps)
    return grad


def rel_error(a, b):
    r"""Relative error :math:`\max_j |a_j - b_j| \,/\, \max(\max_j |a_j|, \max_j |b_j|)`.

    Returns 0 when both are zero. Values around 1e-8 or below mean agreement in
    float64; above 1e-4 something is wrong.

    Parameters
    ----------
    a, b : ``ndarray``
        Arrays of equal shape.

    Returns
    -------
    float
        The relative error.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)


def check_model(model, loss_fn, x, target, eps=1e-6):
    """Compare a model's backward pass with finite differences of ``loss_fn(model(x), target)``.

    Parameters
    ----------
    model : ``Module``
        Any layer or network from ``optlib.nn`` with float64 parameters.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, e.g. ``optlib.nn.losses.mse``.
    x : ``ndarray``
        Float64 input batch.
    target
        Whatever ``loss_fn`` takes as its second argument.
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        ``"input"`` and every parameter name -> relative error (see ``rel_error``)
        between the analytic and the numerical gradient.
    """
    _require_float64("x", x)
    params = model.parameters()
    for name, p in params.items():
        _require_float64(f"parameter {name!r}", p)

    def f(_):
        return loss_fn(model.forward(x), target)[0]

    _, dpred = loss_fn(model.forward(x), target)
    dx = model.backward(dpred)
    analytic = {name: g.copy() for name, g in model.gradients().items()}
    errors = {"input": rel_error(dx, numerical_grad(f, x, eps))}
    for name, p in params.items():
        errors[name] = rel_error(analytic[name], numerical_grad(f, p, eps))
    return errors


def check_layer(layer, x, seed=0, eps=1e-6):
    r"""Gradient check of one layer through the scalar :math:`f = \sum_{ij} y_{ij} R_{ij}`.

    A fixed random :math:`R` (so :math:`\partial f/\partial y = R`) tests every entry of
    the backward pass, which a plain sum would not.

    Parameters
    ----------
    layer : ``Module``
        The layer, float64 parameters.
    x : ``ndarray``
        Float64 input batch.
    seed : int or ``numpy.random.Generator``
        For :math:`R`.
    eps : float
        Finite-difference step.

    Returns
    -------
    dict
        ``"input"`` and every parameter name -> relative error.
    """
    _require_float64("x", x)
    R = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def projection(y, _):
        return float(np.sum(y * R)), R

    return check_model(layer, projection, x, None, eps)


def check_loss(loss_fn, pred, target, eps=1e-6):
    """Compare a loss's returned gradient with finite differences.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    pred : ``ndarray``
        Float64 predictions or logits.
    target
        Targets or labels.
    eps : float
        Finite-difference step.

    Returns
    -------
    float
        Relative error between ``dpred`` and the numerical gradient.
    """
    _require_float64("pred", pred)
    pred = pred.copy()
    _, dpred = loss_fn(pred, target)
    return rel_error(dpred, numerical_grad(lambda p: loss_fn(p, target)[0], pred, eps))
