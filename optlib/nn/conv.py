r"""Convolutional layers, as ``torch.nn.Conv2d``, ``MaxPool2d``, ``Flatten`` and ``Unflatten``.

Images are batches in PyTorch's ``NCHW`` layout: ``x`` has shape
``(batch, channels, height, width)``. A ``Conv2d`` weight has torch's shape
``(out_channels, in_channels, kernel_height, kernel_width)``.

**im2col.** A convolution is a matrix product in disguise (Chellapilla, Puri and
Simard, 2006, "High performance convolutional neural networks for document
processing"): copy every :math:`k_h \times k_w` window of the (padded) input, all
channels, into one row of a matrix :math:`X_\text{col}` with
:math:`N H_\text{out} W_\text{out}` rows and :math:`C k_h k_w` columns; then

.. math::

    Y_\text{col} = X_\text{col} W_\text{mat}^\top + b, \qquad
    W_\text{mat} = W.\text{reshape}(C_\text{out},\, C k_h k_w),

which is ``Linear`` applied to every window at once. The windows are read with
``numpy.lib.stride_tricks.sliding_window_view`` (no Python loop over positions), and
the backward pass is ``Linear``'s, followed by *col2im*: the gradient of every window
is added back to the pixels it was copied from (:math:`k_h k_w` strided additions).

``small_cnn`` builds the course's convolutional network for the 8x8 digits
(``optlib.data.load_digits``), which ``optlib.fit`` trains like an ``MLP``: its first
layer, ``Unflatten``, turns the rows of 64 pixels into ``(1, 8, 8)`` images.
"""

import numpy as np

from optlib import checks
from optlib.nn.activation import ReLU
from optlib.nn.container import Sequential
from optlib.nn.init import initial_weight
from optlib.nn.linear import Linear
from optlib.nn.module import Module, _check_array, _check_dtype

__all__ = ["Conv2d", "MaxPool2d", "Flatten", "Unflatten", "small_cnn"]


def _pair(name, value, low):
    """An int or a pair of ints -> a pair of ints, each >= ``low`` (as torch's ``_pair``)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an integer >= {low} or a pair of them, got {value!r}")
        return tuple(checks.integer(name, v, low=low) for v in value)
    v = checks.integer(name, value, low=low)
    return (v, v)


def _check_images(x, channels, name="x"):
    """Refuse anything but an ``(N, channels, H, W)`` ndarray, naming the argument."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (batch, {channels}, height, width), "
                        f"got {type(x).__name__}")
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        c = "channels" if channels is None else channels
        raise ValueError(f"{name} must have shape (batch, {c}, height, width), got {x.shape}")


def _windows(x, kernel, stride):
    """View of shape ``(N, C, H_out, W_out, kh, kw)``: every window of ``x`` (no copy)."""
    view = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def _out_size(size, kernel, stride, what):
    if size < kernel:
        raise ValueError(f"x is too small for the kernel: {what} {size} < kernel size {kernel}")
    return (size - kernel) // stride + 1


class Conv2d(Module):
    r"""2-D convolution (cross-correlation, as in every deep-learning library), as ``torch.nn.Conv2d``.

    For an input :math:`x` of shape :math:`(N, C_\text{in}, H, W)`, zero-padded by
    :math:`p` on each side, and a weight :math:`W` of shape
    :math:`(C_\text{out}, C_\text{in}, k_h, k_w)`:

    .. math::

        y_{n,o,i,j} = b_o + \sum_{c=1}^{C_\text{in}} \sum_{u=0}^{k_h-1} \sum_{v=0}^{k_w-1}
            W_{o,c,u,v}\; x_{n,c,\,s i + u,\, s j + v},
        \qquad
        H_\text{out} = \Big\lfloor \frac{H + 2p - k_h}{s} \Big\rfloor + 1

    (and the same for the width), with stride :math:`s`. Weight sharing across
    positions and local receptive fields are the two ideas of LeCun et al. (1989,
    "Backpropagation applied to handwritten zip code recognition"; 1998,
    "Gradient-based learning applied to document recognition").

    Computed by im2col (see the module docstring): with :math:`X_\text{col}` the
    :math:`(N H_\text{out} W_\text{out}) \times (C_\text{in} k_h k_w)` matrix of windows
    and :math:`\Delta` the :math:`(N H_\text{out} W_\text{out}) \times C_\text{out}`
    matrix of :math:`\partial L/\partial y`, the backward pass is ``Linear``'s,

    .. math::

        \frac{\partial L}{\partial W_\text{mat}} = \Delta^\top X_\text{col},\qquad
        \frac{\partial L}{\partial b_o} = \sum_{n,i,j} \frac{\partial L}{\partial y_{n,o,i,j}},\qquad
        \frac{\partial L}{\partial X_\text{col}} = \Delta\, W_\text{mat},

    and col2im adds each row of :math:`\partial L/\partial X_\text{col}` back onto the
    pixels of its window (overlapping windows add up), then drops the padding.

    ``forward`` keeps the window matrix (a copy), so changing the caller's ``x`` in
    place before ``backward`` does not change the gradient.

    Parameters
    ----------
    in_channels, out_channels : int
        :math:`C_\text{in}` and :math:`C_\text{out}`.
    kernel_size : int or tuple of int
        :math:`k` or :math:`(k_h, k_w)`.
    stride : int or tuple of int
        :math:`s` (default 1).
    padding : int or tuple of int
        Zeros added on each side of the height and width (default 0).
    bias : bool
        Whether to add a bias :math:`b` per output channel (initialized to zero).
    init : str or callable
        As for ``Linear`` (``"he"``, ``"glorot"``, ``"zeros"``, ``"normal"`` or a callable
        ``init(shape, seed=..., dtype=...)``), applied to the weight seen as the
        matrix :math:`W_\text{mat}` of shape ``(out_channels, in_channels * kh * kw)``:
        so He's initialization uses the fan-in :math:`C_\text{in} k_h k_w`, as torch's
        ``kaiming_normal_`` does (Glorot's fan-out is :math:`C_\text{out}` here,
        :math:`C_\text{out} k_h k_w` in torch).
    scale : float, optional
        Standard deviation for ``init="normal"`` (default 0.01); not allowed otherwise.
    seed : int or ``numpy.random.Generator``
        Source of randomness for the weights.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64`` (gradient checks).

    Attributes
    ----------
    weight, bias : ``ndarray``
        Shapes ``(out_channels, in_channels, kh, kw)`` and ``(out_channels,)``.
    weight_grad, bias_grad : ``ndarray``
        Their gradients, overwritten by every ``backward``.

    Notes
    -----
    torch also offers ``dilation``, ``groups``, ``padding="same"`` and padding modes
    other than zeros; this layer does not. torch initializes the weight uniformly in
    :math:`\pm 1/\sqrt{C_\text{in} k_h k_w}`; optlib uses He's normal weights and zero
    biases, as for ``Linear``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 init="he", scale=None, seed=0, dtype=np.float32):
        self.in_channels = checks.integer("in_channels", in_channels, low=1)
        self.out_channels = checks.integer("out_channels", out_channels, low=1)
        self.kernel_size = _pair("kernel_size", kernel_size, low=1)
        self.stride = _pair("stride", stride, low=1)
        self.padding = _pair("padding", padding, low=0)
        bias = checks.boolean("bias", bias)
        dtype = _check_dtype(dtype)
        kh, kw = self.kernel_size
        matrix = (self.out_channels, self.in_channels * kh * kw)
        weight = initial_weight(matrix, init, scale, seed=seed, dtype=dtype)
        self.weight = weight.reshape(self.out_channels, self.in_channels, kh, kw)
        self.weight_grad = np.zeros_like(self.weight)
        self.bias = np.zeros(self.out_channels, dtype=dtype) if bias else None
        self.bias_grad = np.zeros_like(self.bias) if bias else None
        self._cache = None

    def forward(self, x):
        _check_images(x, self.in_channels)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        N, C, H, W = x.shape
        Ho = _out_size(H + 2 * ph, kh, sh, "padded height")
        Wo = _out_size(W + 2 * pw, kw, sw, "padded width")
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
        # (N, C, Ho, Wo, kh, kw) -> (N, Ho, Wo, C, kh, kw): one window per row. The
        # reshape copies, which is the copy that protects backward from changes to x.
        cols = _windows(xp, (kh, kw), (sh, sw)).transpose(0, 2, 3, 1, 4, 5)
        cols = cols.reshape(N * Ho * Wo, C * kh * kw)
        if np.may_share_memory(cols, x):     # a view (1x1 kernel, one channel): copy it
            cols = cols.copy()
        out = cols @ self.weight.reshape(self.out_channels, -1).T      # (N Ho Wo, C_out)
        if self.bias is not None:
            out += self.bias
        self._cache = (cols, x.shape)
        return out.reshape(N, Ho, Wo, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, dout, input_grad=True):
        cols, (N, C, H, W) = self._saved(self._cache)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        O = self.out_channels
        _, _, Ho, Wo = dout.shape
        delta = dout.transpose(0, 2, 3, 1).reshape(N * Ho * Wo, O)
        np.matmul(delta.T, cols, out=self.weight_grad.reshape(O, -1))
        if self.bias is not None:
            np.add.reduce(delta, axis=0, out=self.bias_grad)
        if not input_grad:
            return None
        dcols = (delta @ self.weight.reshape(O, -1)).reshape(N, Ho, Wo, C, kh, kw)
        dcols = dcols.transpose(0, 3, 1, 2, 4, 5)                      # (N, C, Ho, Wo, kh, kw)
        dx = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dcols.dtype)
        for u in range(kh):                                            # col2im
            for v in range(kw):
                dx[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += dcols[..., u, v]
        return dx[:, :, ph:ph + H, pw:pw + W] if ph or pw else dx

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})")


def _pick(windows, where):
    """Entry ``where`` of every window: ``windows[n, c, i, j, where[n, c, i, j]]``."""
    return np.take_along_axis(windows, where[..., None], axis=-1)[..., 0]


def _pool_at(layer, x, where):
    """``layer``'s pooling of ``x`` with the window positions ``where`` held fixed.

    Used by ``optlib.train.curvature`` to take the loss's curvature inside one piece of
    the piecewise-smooth network (the argmax pattern of a reference input).
    """
    N, C = x.shape[:2]
    windows = _windows(x, layer.kernel_size, layer.stride)
    return _pick(windows.reshape(N, C, *where.shape[2:], -1), where)


class MaxPool2d(Module):
    r"""Max pooling over :math:`k_h \times k_w` windows, as ``torch.nn.MaxPool2d``.

    .. math::

        y_{n,c,i,j} = \max_{0 \le u < k_h,\; 0 \le v < k_w} x_{n,c,\,s_h i + u,\, s_w j + v},
        \qquad H_\text{out} = \Big\lfloor \frac{H - k_h}{s_h} \Big\rfloor + 1 .

    The gradient flows to the position of each window's maximum only:
    :math:`\partial L/\partial x` is :math:`\partial L/\partial y_{n,c,i,j}` at the
    argmax of window :math:`(i, j)`, 0 elsewhere, summed where windows overlap
    (:math:`s < k`). Ties go to the first maximum in row-major order, and a ``nan``
    in a window is its maximum, as in torch. Pooling gives a little invariance to
    small shifts (Ranzato et al., 2007; Scherer, Müller and Behnke, 2010, "Evaluation
    of pooling operations in convolutional architectures").

    Parameters
    ----------
    kernel_size : int or tuple of int
        :math:`k` or :math:`(k_h, k_w)`.
    stride : int, tuple of int, or None
        :math:`s`; ``None`` (default) means ``kernel_size`` (non-overlapping windows).

    Notes
    -----
    torch's ``padding``, ``dilation``, ``return_indices`` and ``ceil_mode`` are not
    offered; rows and columns that do not fill a window are dropped, as in torch's
    default ``ceil_mode=False``.
    """

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair("kernel_size", kernel_size, low=1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, low=1)
        self._cache = None

    def forward(self, x):
        _check_images(x, None)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        N, C, H, W = x.shape
        Ho = _out_size(H, kh, sh, "height")
        Wo = _out_size(W, kw, sw, "width")
        windows = _windows(x, (kh, kw), (sh, sw)).reshape(N, C, Ho, Wo, kh * kw)   # a copy
        where = windows.argmax(axis=-1)
        self._cache = (where, x.shape, x.dtype)
        return _pick(windows, where)

    def backward(self, dout, input_grad=True):
        where, shape, dtype = self._saved(self._cache)
        if not input_grad:
            return None
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        Ho, Wo = where.shape[2:]
        dx = np.zeros(shape, dtype=np.result_type(dout.dtype, dtype))
        for u in range(kh):                   # route each window's gradient to its maximum
            for v in range(kw):
                dx[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += np.where(where == u * kw + v, dout, 0)
        return dx

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"


def _dim(name, dim, ndim):
    d = checks.integer(name, dim)
    d = d + ndim if d < 0 else d
    if not 0 <= d < ndim:
        raise ValueError(f"{name}={dim} is out of range for an input with {ndim} dimensions")
    return d


class Flatten(Module):
    r"""Flatten dimensions ``start_dim`` to ``end_dim`` into one, as ``torch.nn.Flatten``.

    The default (``start_dim=1``) turns ``(N, C, H, W)`` feature maps into
    ``(N, C*H*W)`` rows for a ``Linear`` layer, in C order (channel, then row, then
    column), as torch does. ``backward`` reshapes the gradient back.

    Parameters
    ----------
    start_dim, end_dim : int
        First and last dimension to flatten (negative counts from the end).
    """

    def __init__(self, start_dim=1, end_dim=-1):
        self.start_dim = checks.integer("start_dim", start_dim)
        self.end_dim = checks.integer("end_dim", end_dim)
        self._shape = None

    def forward(self, x):
        _check_array(x)
        start = _dim("start_dim", self.start_dim, max(x.ndim, 1))
        end = _dim("end_dim", self.end_dim, max(x.ndim, 1))
        if start > end:
            raise ValueError(f"start_dim ({self.start_dim}) must not come after end_dim "
                             f"({self.end_dim}) for an input with {x.ndim} dimensions")
        self._shape = x.shape
        if x.ndim == 0:
            return x.reshape(1)                # as torch: a 0-d tensor becomes shape (1,)
        merged = int(np.prod(x.shape[start:end + 1]))  # explicit: -1 fails on empty batches
        return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])

    def backward(self, dout, input_grad=True):
        shape = self._saved(self._shape)
        return dout.reshape(shape) if input_grad else None

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


class Unflatten(Module):
    r"""Split dimension ``dim`` into ``unflattened_size``, as ``torch.nn.Unflatten``.

    ``Unflatten(1, (1, 8, 8))`` turns rows of 64 pixels (the layout ``optlib.data``
    and ``optlib.fit`` use) into ``(N, 1, 8, 8)`` images for a ``Conv2d``. The inverse
    of ``Flatten``.

    Parameters
    ----------
    dim : int
        The dimension to split (negative counts from the end).
    unflattened_size : tuple of int
        Its new shape; the product must equal the size of ``dim``.
    """

    def __init__(self, dim, unflattened_size):
        self.dim = checks.integer("dim", dim)
        if not isinstance(unflattened_size, (tuple, list)) or not unflattened_size:
            raise TypeError(f"unflattened_size must be a non-empty tuple of integers >= 1, "
                            f"got {unflattened_size!r}")
        self.unflattened_size = tuple(checks.integer("unflattened_size", s, low=1)
                                      for s in unflattened_size)
        self._shape = None

    def forward(self, x):
        _check_array(x)
        d = _dim("dim", self.dim, x.ndim)
        size = int(np.prod(self.unflattened_size))
        if x.shape[d] != size:
            raise ValueError(f"x must have size {size} (= product of unflattened_size "
                             f"{self.unflattened_size}) in dimension {self.dim}, got shape {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def backward(self, dout, input_grad=True):
        shape = self._saved(self._shape)
        return dout.reshape(shape) if input_grad else None

    def __repr__(self):
        return f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size})"


def small_cnn(seed=0, channels=(8, 16), size=8, n_classes=10, dtype=np.float32):
    r"""The course's small convolutional network for the 8x8 digits.

    ``Unflatten(1, (1, 8, 8))``, ``Conv2d(1, 8, 3)``, ``ReLU``, ``MaxPool2d(2)``,
    ``Conv2d(8, 16, 3)``, ``ReLU``, ``Flatten``, ``Linear(16, 10)``: on an 8x8 image the
    first convolution gives 6x6 maps, pooling 3x3, the second convolution 1x1, so
    ``Flatten`` yields 16 features. It takes the rows of 64 pixels of
    ``optlib.data.load_digits`` and ``make_digits`` directly, so ``optlib.fit`` trains it
    like an ``MLP``; it has 1,418 parameters (the ``MLP([64, 32, 10])`` has 2,410).

    Parameters
    ----------
    seed : int or ``numpy.random.Generator``
        One generator is made from it and shared by the layers (He initialization).
    channels : tuple of int
        Output channels of the two convolutions.
    size : int
        Image side (8 for the digits; ``load_digits(size=...)`` upsamples). Must be >= 8:
        the second convolution's maps are ``((size - 2) // 2 - 2)`` pixels wide.
    n_classes : int
        Outputs of the final ``Linear`` (the logits).
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64``.

    Returns
    -------
    Sequential
        Parameter names ``"1.weight"``, ``"1.bias"``, ``"4.weight"``, ``"4.bias"``,
        ``"7.weight"``, ``"7.bias"``.
    """
    c1, c2 = _pair("channels", tuple(channels), low=1)
    size = checks.integer("size", size, low=8)
    n_classes = checks.integer("n_classes", n_classes, low=1)
    rng = np.random.default_rng(seed)
    side = (size - 2) // 2 - 2
    return Sequential(
        Unflatten(1, (1, size, size)),
        Conv2d(1, c1, 3, seed=rng, dtype=dtype), ReLU(), MaxPool2d(2),
        Conv2d(c1, c2, 3, seed=rng, dtype=dtype), ReLU(),
        Flatten(),
        Linear(c2 * side * side, n_classes, seed=rng, dtype=dtype),
    )
