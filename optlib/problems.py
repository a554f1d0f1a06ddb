r"""Learning problems built to show one property of an optimizer at a time.

* ``sparse_features`` -- linear regression on features that are mostly zero, some
  frequent and most rare (like words in texts): the problem AdaGrad was made for.
* ``Rescaled`` -- a test surface with its parameters measured in other units,
  :math:`L_c(\theta) = L(\theta / c)`, to check which optimizers care about units.

Every random thing takes ``seed`` (an int or a ``numpy.random.Generator``).
"""

import math
import numbers

import numpy as np

from .data import Dataset
from .surfaces import Surface

__all__ = ["zipf_frequencies", "sparse_features", "Rescaled"]


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _number(name, value, ok, rule):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def zipf_frequencies(d, p_max=0.5, exponent=1.0):
    r"""How often each of ``d`` features is active: a power law, like word frequencies.

    .. math::

        p_j = p_{\max}\, j^{-s}, \qquad j = 1, \dots, d,

    with :math:`s` = ``exponent`` (Zipf's law has :math:`s \approx 1`): a few frequent
    features and a long tail of rare ones.

    Parameters
    ----------
    d : int
        Number of features, >= 1.
    p_max : float
        Probability that the most frequent feature is active, in (0, 1].
    exponent : float
        :math:`s >= 0`; 0 makes every feature equally frequent.

    Returns
    -------
    ``ndarray``
        Shape ``(d,)``, ``float64``, decreasing.
    """
    d = _positive_int("d", d)
    p_max = _number("p_max", p_max, lambda v: 0 < v <= 1, "a number in (0, 1]")
    exponent = _number("exponent", exponent, lambda v: v >= 0, "a finite number >= 0")
    return p_max * np.arange(1, d + 1, dtype=np.float64) ** -exponent


def sparse_features(n=10_000, d=200, p_max=0.5, exponent=1.0, noise=0.5, n_held=None, seed=0):
    r"""Linear regression with rare and frequent features.

    Each example has :math:`d` features; feature :math:`j` is active with probability
    :math:`p_j` (``zipf_frequencies``) and then equals :math:`\pm 1` with a random
    sign, otherwise 0. The target is

    .. math::

        y = x^\top w^\star + \sigma\,\xi, \qquad w^\star_j \sim \mathcal N(0, 1),\;
        \xi \sim \mathcal N(0, 1),

    so every feature matters as much *when it appears*. Because the signs are random,
    :math:`E[x x^\top] = \operatorname{diag}(p)`: the curvature of the mean squared
    error along weight :math:`j` is :math:`2 p_j`, and so is (on average) the size of
    its gradient. Rare features get small, rare gradients; one learning rate cannot
    suit both ends. This is the setting of Duchi, Hazan and Singer (2011).

    Parameters
    ----------
    n : int
        Training examples.
    d : int
        Features.
    p_max, exponent : float
        Feature frequencies, see ``zipf_frequencies``.
    noise : float
        :math:`\sigma >= 0`, the standard deviation of the target noise.
    n_held : int, optional
        Size of the validation set and of the test set each; default ``n // 5``.
    seed : int or ``numpy.random.Generator``
        Draws the weights, the features and the noise.

    Returns
    -------
    Dataset
        ``float32`` features and targets. ``info`` holds ``"frequency"`` (:math:`p`),
        ``"weights"`` (:math:`w^\star`), ``"count"`` (in how many training examples
        each feature is active), ``"optimum"`` (the least-squares weights on the
        training set, the minimizer of the training loss) and ``"min_loss"`` (the
        training mean squared error there, :math:`L^\star`, as ``losses.mse``
        computes it).
    """
    n = _positive_int("n", n)
    p = zipf_frequencies(d, p_max, exponent)
    d = len(p)
    noise = _number("noise", noise, lambda v: v >= 0, "a finite number >= 0")
    n_held = max(n // 5, 1) if n_held is None else _positive_int("n_held", n_held)
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=d)
    total = n + 2 * n_held
    active = rng.random((total, d)) < p
    X = np.where(active, rng.choice(np.array([-1.0, 1.0]), size=(total, d)), 0.0)
    y = X @ weights + noise * rng.normal(size=total)
    X_train, y_train = X[:n], y[:n]
    # The normal equations XᵀX w = Xᵀy: a d×d system, much cheaper than a least-squares
    # solve on the n×d matrix. lstsq (not solve) copes with a feature that never appears.
    optimum = np.linalg.lstsq(X_train.T @ X_train, X_train.T @ y_train, rcond=None)[0]
    min_loss = float(np.mean((X_train @ optimum - y_train) ** 2))
    parts = [a.astype(np.float32) for a in (X_train, y_train, X[n:n + n_held], y[n:n + n_held],
                                            X[n + n_held:], y[n + n_held:])]
    info = {"frequency": p, "weights": weights, "count": np.count_nonzero(X_train, axis=0),
            "optimum": optimum, "min_loss": min_loss}
    return Dataset(*parts, info=info)


class Rescaled(Surface):
    r"""A surface whose parameters are measured in other units.

    .. math::

        L_c(\theta) = L(\theta / c), \qquad \nabla L_c(\theta) = \nabla L(\theta / c) / c .

    The landscape is the same, stretched by :math:`c` in both directions: minima,
    start and plotting window are multiplied by :math:`c`, the loss values are not.
    An optimizer whose updates have the units of :math:`\theta` (Newton's method, or
    AdaDelta by Zeiler's argument) takes the same path, multiplied by :math:`c`; plain
    gradient descent's step :math:`\eta g` has units :math:`1/\theta` and does not.

    Parameters
    ----------
    surface : ``Surface``
        The original surface.
    scale : float
        :math:`c > 0`.
    """

    def __init__(self, surface, scale):
        if not isinstance(surface, Surface):
            raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
        self.surface = surface
        self.scale = _number("scale", scale, lambda v: v > 0, "a finite number > 0")
        c = self.scale
        self.name = f"{surface.name} (θ × {c:g})"
        self.minima = np.asarray(surface.minima) * c
        self.min_value = surface.min_value
        self.start = np.asarray(surface.start) * c
        (x0, x1), (y0, y1) = surface.bounds
        self.bounds = ((x0 * c, x1 * c), (y0 * c, y1 * c))
        for array in (self.minima, self.start):
            array.flags.writeable = False

    @staticmethod
    def _points(xy):
        xy = np.asarray(xy)
        # Integers are computed in float64, like the other surfaces; a Python float
        # scale keeps float32 input float32 (NumPy 2's weak scalars).
        return xy if xy.dtype.kind == "f" else xy.astype(np.float64)

    def __call__(self, xy):
        return self.surface(self._points(xy) / self.scale)

    def grad(self, xy):
        return self.surface.grad(self._points(xy) / self.scale) / self.scale

    def __repr__(self):
        return f"Rescaled({self.surface!r}, scale={self.scale!r})"
