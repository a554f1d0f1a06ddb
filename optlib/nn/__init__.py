r"""Tiny neural-network layers with hand-written backward passes.

Names and weight layouts follow ``torch.nn`` so that what you learn here transfers:
``Linear`` stores ``weight`` with shape ``(out_features, in_features)`` and computes
:math:`y = x W^\top + b` on a batch ``x`` of shape ``(B, in_features)``.

Every module has

* ``forward(x)`` (also ``module(x)``), which caches what the backward pass needs;
* ``backward(dout)``, which takes :math:`\partial L / \partial y` and returns
  :math:`\partial L / \partial x`, and stores the gradients of the module's parameters;
* ``parameters()`` and ``gradients()``: dicts name -> array with the same keys
  (``"0.weight"``, ``"0.bias"``, ... for a ``Sequential``, as in PyTorch's
  ``state_dict``). They hold the *live* arrays, so they plug straight into an optimizer
  that updates in place::

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

import math

import numpy as np

__all__ = [
    "Module",
    "Linear",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Sequential",
    "MLP",
    "init_zeros",
    "init_normal",
    "init_he",
    "init_glorot",
    "INITIALIZERS",
]


# --------------------------------------------------------------------------- init


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
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
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


# ------------------------------------------------------------------------- modules


class Module:
    r"""Base class: a mode flag, ``__call__`` = ``forward``, and parameter dicts.

    Subclasses implement ``forward(x)`` and ``backward(dout, input_grad=True)``.
    ``input_grad=False`` lets a layer skip computing :math:`\partial L/\partial x`
    when nobody needs it (the first layer of a network: the data are not trained);
    it then returns ``None``.
    """

    training = True

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout, input_grad=True):  # pragma: no cover - abstract
        raise NotImplementedError

    def parameters(self):
        """Dict name -> live parameter array (empty for parameter-free layers)."""
        return {}

    def gradients(self):
        """Dict with the keys of ``parameters()`` -> live gradient arrays."""
        return {}

    def buffers(self):
        """Dict name -> live state array that is not trained (BN's running statistics)."""
        return {}

    def zero_grad(self):
        """Set all gradients to zero. Not needed in a loop: ``backward`` overwrites them."""
        for g in self.gradients().values():
            g.fill(0)

    def train(self, mode=True):
        """Switch to training mode (``mode=True``) or evaluation mode; returns ``self``.

        Only layers that behave differently in the two modes (batch normalization,
        chapter 8) look at the flag.
        """
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def state_dict(self):
        """Copies of the parameters and buffers, dict name -> array (for early stopping)."""
        return {name: a.copy() for name, a in {**self.parameters(), **self.buffers()}.items()}

    def load_state_dict(self, state):
        """Copy ``state`` into the live parameter and buffer arrays (their identity is kept).

        Parameters
        ----------
        state : dict
            Name -> array with exactly the keys and shapes of ``state_dict()``.
        """
        params = {**self.parameters(), **self.buffers()}
        if set(state) != set(params):
            raise ValueError(
                f"state keys must be {sorted(params)}, got {sorted(state)}"
            )
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"state[{name!r}] must have shape {p.shape}, got {value.shape}")
            np.copyto(p, value)


class Linear(Module):
    r"""Fully connected layer, :math:`y = x W^\top + b`.

    Backward, for a batch :math:`x \in \mathbb R^{B\times n_\text{in}}` and
    :math:`\delta = \partial L/\partial y \in \mathbb R^{B\times n_\text{out}}`:

    .. math::

        \frac{\partial L}{\partial W} = \delta^\top x,\qquad
        \frac{\partial L}{\partial b} = \sum_{i=1}^{B} \delta_i,\qquad
        \frac{\partial L}{\partial x} = \delta W.

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
    """

    def __init__(self, in_features, out_features, bias=True, init="he", scale=None,
                 seed=0, dtype=np.float32):
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dtype}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        shape = (self.out_features, self.in_features)
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
        if weight.shape != shape:
            raise ValueError(f"init must return shape {shape}, got {weight.shape}")
        self.weight = weight
        self.weight_grad = np.zeros_like(weight)
        self.bias = np.zeros(self.out_features, dtype=dtype) if bias else None
        self.bias_grad = np.zeros_like(self.bias) if bias else None
        self._x = None

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(
                f"x must have shape (batch, {self.in_features}), got {np.shape(x)}"
            )
        self._x = x
        out = x @ self.weight.T
        if self.bias is not None:
            out += self.bias
        return out

    def backward(self, dout, input_grad=True):
        # out= writes into the existing gradient arrays: their identity never changes,
        # so dicts fetched once stay valid. dout.T @ x is a BLAS call with a transpose flag.
        np.matmul(dout.T, self._x, out=self.weight_grad)
        if self.bias is not None:
            np.add.reduce(dout, axis=0, out=self.bias_grad)   # sum over the batch
        return dout @ self.weight if input_grad else None

    def parameters(self):
        if self.bias is None:
            return {"weight": self.weight}
        return {"weight": self.weight, "bias": self.bias}

    def gradients(self):
        if self.bias is None:
            return {"weight": self.weight_grad}
        return {"weight": self.weight_grad, "bias": self.bias_grad}

    def __repr__(self):
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


class ReLU(Module):
    r"""Rectified linear unit, :math:`y = \max(x, 0)`; :math:`\partial y/\partial x = [x > 0]`.

    The derivative at exactly 0 is taken as 0, as in PyTorch.
    """

    def forward(self, x):
        out = np.maximum(x, 0)
        self._mask = out > 0
        return out

    def backward(self, dout, input_grad=True):
        return dout * self._mask if input_grad else None

    def __repr__(self):
        return "ReLU()"


class Tanh(Module):
    r"""Hyperbolic tangent, :math:`y = \tanh x`; :math:`\partial y/\partial x = 1 - y^2`."""

    def forward(self, x):
        self._out = np.tanh(x)
        return self._out

    def backward(self, dout, input_grad=True):
        return dout * (1 - self._out * self._out) if input_grad else None

    def __repr__(self):
        return "Tanh()"


class Sigmoid(Module):
    r"""Logistic sigmoid, :math:`y = \sigma(x) = 1/(1 + e^{-x})`; :math:`\partial y/\partial x = y(1-y)`.

    Computed as :math:`\tfrac12 + \tfrac12\tanh(x/2)`, the same function without the
    overflow of :math:`e^{-x}` for large negative :math:`x`.
    """

    def forward(self, x):
        self._out = 0.5 + 0.5 * np.tanh(0.5 * x)
        return self._out

    def backward(self, dout, input_grad=True):
        return dout * (self._out * (1 - self._out)) if input_grad else None

    def __repr__(self):
        return "Sigmoid()"


class Sequential(Module):
    """A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    Parameter names are ``"<index>.<name>"`` (``"0.weight"``, ``"0.bias"``,
    ``"2.weight"``, ...), as in PyTorch's ``Sequential.state_dict()``.

    Parameters
    ----------
    *layers : ``Module``
        The modules, first to last.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers must be Module instances, got {type(layer).__name__} at position {i}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, input_grad=True):
        for i in range(len(self.layers) - 1, 0, -1):
            dout = self.layers[i].backward(dout)
        # The first layer's input gradient is only computed when asked for: for a
        # network's input (the data) it is never used, and it costs as much as the
        # first layer's forward matrix product.
        return self.layers[0].backward(dout, input_grad=input_grad) if self.layers else dout

    def parameters(self):
        return {f"{i}.{name}": p for i, layer in enumerate(self.layers)
                for name, p in layer.parameters().items()}

    def gradients(self):
        return {f"{i}.{name}": g for i, layer in enumerate(self.layers)
                for name, g in layer.gradients().items()}

    def buffers(self):
        return {f"{i}.{name}": b for i, layer in enumerate(self.layers)
                for name, b in layer.buffers().items()}

    def train(self, mode=True):
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


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
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
    init = _DEFAULT_INIT[activation] if init is None else init
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, bias=bias, init=init, scale=scale, seed=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(_ACTIVATIONS[activation]())
    return Sequential(*layers)


# Batch normalization lives in its own module (chapter 8) and is re-exported here under
# the name torch.nn gives it. Imported last: batchnorm.py builds on the classes above.
from optlib.nn.batchnorm import BatchNorm1d  # noqa: E402,F401
