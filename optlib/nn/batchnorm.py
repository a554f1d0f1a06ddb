r"""Batch normalization with a hand-written backward pass, as ``torch.nn.BatchNorm1d``.

For a mini-batch :math:`x \in \mathbb R^{B \times C}` (``B`` examples, ``C`` features),
batch normalization (Ioffe and Szegedy, 2015) standardizes every feature with the
batch's own statistics and then rescales it with learnable :math:`\gamma, \beta`:

.. math::

    \mu_j = \frac1B \sum_i x_{ij}, \qquad
    \sigma_j^2 = \frac1B \sum_i (x_{ij} - \mu_j)^2, \qquad
    \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
    y_{ij} = \gamma_j \hat x_{ij} + \beta_j .

At evaluation time there may be no batch (one example) and a prediction should not
depend on the other examples, so the layer uses running estimates of
:math:`\mu, \sigma^2` collected during training instead.

The module also holds ``NoisyShift``, the layer of Santurkar et al.'s (2018)
experiment that *adds* internal covariate shift after a batch normalization, and
``bn_mlp``, which builds the chapter's networks with or without normalization.
"""

import contextlib
import math
import numbers

import numpy as np

from optlib.nn import Linear, Module, ReLU, Sequential, init_he

__all__ = ["BatchNorm1d", "NoisyShift", "bn_mlp", "scaled_he", "batchnorm_layers", "frozen_running_stats"]


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


class BatchNorm1d(Module):
    r"""Batch normalization over the features of a ``(B, C)`` batch, as ``torch.nn.BatchNorm1d``.

    **Training mode** normalizes with the batch mean :math:`\mu` and the *biased*
    batch variance :math:`\sigma^2` (divided by :math:`B`), and updates the running
    statistics with the *unbiased* variance (divided by :math:`B - 1`):

    .. math::

        \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
        \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{B}{B-1}\,\sigma^2,

    with :math:`m` = ``momentum`` (PyTorch's convention: the weight of the *new*
    value, the opposite of an optimizer's :math:`\beta`). With ``momentum=None`` the
    running statistics are plain averages over all batches seen,
    :math:`m = 1/k` at the :math:`k`-th batch.

    **Evaluation mode** (``eval()``) uses :math:`\hat\mu, \hat\sigma^2` instead of the
    batch's statistics, so the layer is a fixed affine map of each example.

    Backward in training mode, with :math:`\delta = \partial L/\partial y` and
    :math:`s_j = 1/\sqrt{\sigma_j^2 + \varepsilon}`:

    .. math::

        \frac{\partial L}{\partial \beta_j} = \sum_i \delta_{ij}, \qquad
        \frac{\partial L}{\partial \gamma_j} = \sum_i \delta_{ij}\hat x_{ij}, \qquad
        \frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j s_j}{B}\Big(
            B\,\delta_{ij} - \sum_k \delta_{kj} - \hat x_{ij}\sum_k \delta_{kj}\hat x_{kj}\Big).

    The two sums subtracted are the gradient flowing through :math:`\mu` and
    :math:`\sigma^2`: each example's output depends on every other example of the batch.
    In evaluation mode :math:`\partial L/\partial x_{ij} = \gamma_j \delta_{ij} /
    \sqrt{\hat\sigma_j^2 + \varepsilon}`.

    Parameters
    ----------
    num_features : int
        :math:`C`, the number of features (columns) of the input.
    eps : float
        :math:`\varepsilon > 0`, added to the variance inside the square root.
    momentum : float or None
        :math:`m \in [0, 1]` for the running statistics, or ``None`` for a cumulative
        average.
    affine : bool
        Learn :math:`\gamma` (``weight``, initialized to 1) and :math:`\beta`
        (``bias``, initialized to 0). Without them the layer has no parameters.
    track_running_stats : bool
        Keep running statistics. Without them (``False``) the layer normalizes with
        the batch's statistics in evaluation mode too, as PyTorch does.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64`` (gradient checks).

    Attributes
    ----------
    weight, bias : ``ndarray`` or None
        :math:`\gamma` and :math:`\beta`, shape ``(C,)``; their gradients are
        ``weight_grad`` and ``bias_grad``.
    running_mean, running_var : ``ndarray`` or None
        :math:`\hat\mu` (starts at 0) and :math:`\hat\sigma^2` (starts at 1).
    num_batches_tracked : int
        Training batches seen, as PyTorch's buffer of the same name.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        if (not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool)
                or num_features < 1):
            raise ValueError(f"num_features must be an integer >= 1, got {num_features!r}")
        if (isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps)
                or eps <= 0):
            raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
                                     or not 0 <= momentum <= 1):
            raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
        dtype = _check_dtype(dtype)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        C = self.num_features
        if self.affine:
            self.weight, self.bias = np.ones(C, dtype), np.zeros(C, dtype)
            self.weight_grad, self.bias_grad = np.zeros(C, dtype), np.zeros(C, dtype)
        else:
            self.weight = self.bias = self.weight_grad = self.bias_grad = None
        if self.track_running_stats:
            self.running_mean, self.running_var = np.zeros(C, dtype), np.ones(C, dtype)
        else:
            self.running_mean = self.running_var = None
        self.num_batches_tracked = 0
        self._cache = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batch tracked (as at construction)."""
        if self.track_running_stats:
            self.running_mean.fill(0)
            self.running_var.fill(1)
        self.num_batches_tracked = 0

    def buffers(self):
        """Dict of the running statistics (live arrays): state that is not trained.

        ``parameters()`` holds only :math:`\\gamma, \\beta`, so an optimizer never
        touches the running statistics; save them with these when you save a model.
        """
        if not self.track_running_stats:
            return {}
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def _uses_batch_stats(self):
        return self.training or not self.track_running_stats

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (batch, {self.num_features}), got {np.shape(x)}")
        if not self._uses_batch_stats():
            inv_std = 1 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean) * inv_std
            self._cache = (x_hat, inv_std, False)
            return self._affine(x_hat)
        B = x.shape[0]
        if B < 2:
            raise ValueError(
                f"x must have at least 2 rows in training mode (a batch of one has no variance), "
                f"got shape {x.shape}; call eval() to use the running statistics")
        mean = x.mean(axis=0)
        centred = x - mean
        var = np.mean(centred * centred, axis=0)          # biased: divides by B
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = centred * inv_std
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, B)
        self._cache = (x_hat, inv_std, True)
        return self._affine(x_hat)

    def _affine(self, x_hat):
        return x_hat * self.weight + self.bias if self.affine else x_hat

    def _update_running_stats(self, mean, var, B):
        self.num_batches_tracked += 1
        m = 1 / self.num_batches_tracked if self.momentum is None else self.momentum
        # The running variance estimates the population variance: unbiased, B / (B - 1).
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += (m * B / (B - 1)) * var

    def backward(self, dout, input_grad=True):
        x_hat, inv_std, batch_stats = self._cache
        if self.affine:
            np.add.reduce(dout, axis=0, out=self.bias_grad)
            np.add.reduce(dout * x_hat, axis=0, out=self.weight_grad)
        if not input_grad:
            return None
        scale = inv_std * self.weight if self.affine else inv_std
        if not batch_stats:                                  # a fixed affine map
            return dout * scale
        B = dout.shape[0]
        sum_d = dout.sum(axis=0)
        sum_dx = self.weight_grad if self.affine else np.add.reduce(dout * x_hat, axis=0)
        return (scale / B) * (B * dout - sum_d - x_hat * sum_dx)

    def parameters(self):
        return {"weight": self.weight, "bias": self.bias} if self.affine else {}

    def gradients(self):
        return {"weight": self.weight_grad, "bias": self.bias_grad} if self.affine else {}

    def __repr__(self):
        return (f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")


class NoisyShift(Module):
    r"""Random per-feature rescaling and shift that changes at every training step.

    In training mode, each forward pass draws for every feature :math:`j` a scale
    :math:`s_j \sim \mathcal U(1, a)` and a shift :math:`c_j \sim \mathcal U(-b, b)`,
    and returns :math:`y_{ij} = s_j x_{ij} + c_j`. Placed after a batch normalization,
    it makes the next layer's input distribution jump at every step: the opposite of
    what batch normalization is supposed to achieve by reducing "internal covariate
    shift". It is our version of the "noisy BatchNorm" experiment of Santurkar et al.
    (2018), who found that such networks train nearly as well as with plain batch
    normalization. In evaluation mode the layer applies the average transformation,
    :math:`y = \tfrac{1+a}{2} x`.

    Backward: :math:`\partial L/\partial x_{ij} = s_j\,\delta_{ij}`.

    Parameters
    ----------
    num_features : int
        Number of features :math:`C`.
    scale : float
        :math:`a \ge 1`, the largest scale.
    shift : float
        :math:`b \ge 0`, the largest shift.
    seed : int or ``numpy.random.Generator``
        Source of the noise.
    """

    def __init__(self, num_features, scale=3.0, shift=1.0, seed=0):
        if (not isinstance(num_features, (int, np.integer)) or isinstance(num_features, bool)
                or num_features < 1):
            raise ValueError(f"num_features must be an integer >= 1, got {num_features!r}")
        if not (isinstance(scale, numbers.Real) and math.isfinite(scale) and scale >= 1):
            raise ValueError(f"scale must be a finite number >= 1, got {scale!r}")
        if not (isinstance(shift, numbers.Real) and math.isfinite(shift) and shift >= 0):
            raise ValueError(f"shift must be a finite number >= 0, got {shift!r}")
        self.num_features = int(num_features)
        self.scale, self.shift = float(scale), float(shift)
        self.rng = np.random.default_rng(seed)
        self._s = None

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"x must have shape (batch, {self.num_features}), got {np.shape(x)}")
        if not self.training:
            self._s = np.asarray((1 + self.scale) / 2, dtype=x.dtype)
            return x * self._s
        C = self.num_features
        self._s = self.rng.uniform(1, self.scale, C).astype(x.dtype)
        c = self.rng.uniform(-self.shift, self.shift, C).astype(x.dtype)
        return x * self._s + c

    def backward(self, dout, input_grad=True):
        return dout * self._s if input_grad else None

    def __repr__(self):
        return f"NoisyShift({self.num_features}, scale={self.scale:g}, shift={self.shift:g})"


def bn_mlp(sizes, batchnorm=True, noisy=False, init="he", scale=None, seed=0, dtype=np.float32,
           momentum=0.1):
    r"""A ReLU network, optionally with batch normalization after every hidden ``Linear``.

    With ``batchnorm=True`` each hidden block is ``Linear -> BatchNorm1d -> ReLU``
    (the placement of Ioffe and Szegedy, 2015); the hidden ``Linear`` layers then have
    no bias, since the normalization subtracts it again and :math:`\beta` takes its
    role. The last ``Linear`` (the class scores) is never normalized. With
    ``batchnorm=False`` this is ``optlib.nn.MLP(sizes)``'s layout.

    Parameters
    ----------
    sizes : ``sequence`` of int
        Widths from input to output, e.g. ``(64, 64, 64, 10)``.
    batchnorm : bool
        Insert ``BatchNorm1d`` layers.
    noisy : bool
        Insert a ``NoisyShift`` after each ``BatchNorm1d`` (needs ``batchnorm``).
    init : str or callable
        Weight initializer of every ``Linear`` (see ``optlib.nn.Linear``).
    scale : float, optional
        Standard deviation for ``init="normal"``.
    seed : int or ``numpy.random.Generator``
        One generator for all weights (and the noise); the same seed gives the same
        weights with and without normalization.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64``.
    momentum : float or None
        ``BatchNorm1d``'s momentum.

    Returns
    -------
    ``optlib.nn.Sequential``
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    if noisy and not batchnorm:
        raise ValueError("noisy=True needs batchnorm=True (the noise goes after each BatchNorm1d)")
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        layers.append(Linear(n_in, n_out, bias=not (hidden and batchnorm), init=init,
                             scale=scale, seed=rng, dtype=dtype))
        if hidden:
            if batchnorm:
                layers.append(BatchNorm1d(n_out, momentum=momentum, dtype=dtype))
            if noisy:
                layers.append(NoisyShift(n_out, seed=rng))
            layers.append(ReLU())
    return Sequential(*layers)


def scaled_he(factor):
    r"""An initializer: He's normal weights times ``factor``, :math:`\mathcal N(0, 2c^2/n_\text{in})`.

    Parameters
    ----------
    factor : float
        :math:`c > 0`; 1 is He initialization.

    Returns
    -------
    callable
        ``init(shape, seed, dtype)`` for ``optlib.nn.Linear(init=...)`` or ``bn_mlp``.
    """
    if isinstance(factor, bool) or not (isinstance(factor, numbers.Real) and math.isfinite(factor)
                                        and factor > 0):
        raise ValueError(f"factor must be a finite number > 0, got {factor!r}")

    def init(shape, seed=0, dtype=np.float32):
        return (factor * init_he(shape, seed=seed, dtype=np.float64)).astype(dtype)

    return init


def batchnorm_layers(model):
    """Every ``BatchNorm1d`` in a model (itself, or inside ``Sequential`` containers), in order.

    Parameters
    ----------
    model : ``Module``

    Returns
    -------
    list of BatchNorm1d
    """
    if isinstance(model, BatchNorm1d):
        return [model]
    found = []
    for layer in getattr(model, "layers", ()):
        found += batchnorm_layers(layer)
    return found


@contextlib.contextmanager
def frozen_running_stats(model):
    """Context manager: forward passes inside it leave the running statistics as they were.

    A measurement that runs extra training-mode forward passes (a probe of the loss
    along the gradient, say) would otherwise move every ``BatchNorm1d``'s running
    mean and variance, and so change the model it measures.

    Parameters
    ----------
    model : ``Module``
    """
    layers = batchnorm_layers(model)
    saved = [({k: v.copy() for k, v in bn.buffers().items()}, bn.num_batches_tracked)
             for bn in layers]
    try:
        yield model
    finally:
        for bn, (buffers, tracked) in zip(layers, saved):
            for k, v in buffers.items():
                np.copyto(bn.buffers()[k], v)
            bn.num_batches_tracked = tracked
