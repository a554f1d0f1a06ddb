r"""Curvature of the training loss: Hessian-vector products and the sharpness :math:`\lambda_{\max}`.

For a model with parameters :math:`\theta \in \mathbb R^n` and the mean loss
:math:`L(\theta)` on a data set :math:`(X, y)`, the Hessian
:math:`H = \nabla^2 L(\theta)` is an :math:`n \times n` matrix: too large to form for
a network, but its product with a vector costs two gradients. This module takes the
**central difference of gradients**

.. math::

    H v \;\approx\; \frac{\nabla L(\theta + h v) - \nabla L(\theta - h v)}{2h},

whose error is :math:`O(h^2)` (the third derivative; zero for a quadratic loss) plus
the rounding of the gradients divided by :math:`h`. The default step balances the two,
:math:`h = \epsilon^{1/3} \max(1, \lVert\theta\rVert) / \lVert v\rVert` with
:math:`\epsilon` the machine epsilon of the model's dtype (Nocedal and Wright,
*Numerical Optimization*, 2nd ed., 2006, §8.1), for a relative error of about
:math:`\epsilon^{2/3}`. Measured (largest error relative to the largest entry of
:math:`Hv`, on a 26-parameter tanh network and on ``MLP([64, 32, 10])`` on the digits):
about :math:`10^{-10}` to :math:`10^{-9}` in float64, :math:`2\cdot10^{-5}` to
:math:`6\cdot10^{-5}` in float32. (Pearlmutter, 1994, "Fast exact multiplication by
the Hessian", computes :math:`Hv` exactly by a forward-over-backward pass; with a
hand-written backward for every layer, the difference of two backward passes works for
every ``optlib.nn`` model as it is.)

The **sharpness** is the largest eigenvalue :math:`\lambda_{\max}` of :math:`H`. It
sets the stability limit of gradient descent, :math:`\eta < 2/\lambda_{\max}` on a
quadratic, and on a network it rises during training until it hovers at about
:math:`2/\eta`, the *edge of stability* (Cohen, Kaur, Li, Kolter and Talwalkar, 2021,
"Gradient descent on neural networks typically occurs at the edge of stability",
ICLR). ``sharpness`` finds it with the Lanczos method (Lanczos, 1950), which needs only
products :math:`Hv`: after :math:`k` products, the largest eigenvalue of the
:math:`k \times k` tridiagonal matrix :math:`T_k = Q_k^\top H Q_k` (the *Ritz value*)
approaches :math:`\lambda_{\max}` from below, fast when it is separated from the rest of
the spectrum (Ghorbani, Krishnan and Xiao, 2019, "An investigation into neural net
optimization via Hessian eigenvalue density", use it for networks). ``power_iteration``
is the simpler alternative (Yao et al., 2020, PyHessian): it converges to the
eigenvalue of largest *magnitude* at the rate :math:`|\lambda_2/\lambda_1|` per product.

Both start from a vector drawn from ``seed``, so the same call gives the same result.

* ``hvp(model, loss_fn, X, y, v)``: :math:`Hv` as a flat float64 vector;
* ``hessian(model, loss_fn, X, y)``: the dense :math:`H` (n products: tiny models only);
* ``sharpness(model, ...)``: :math:`\lambda_{\max}` by Lanczos (or power iteration);
* ``lanczos(matvec, n)``: Ritz values and vectors of any symmetric operator;
* ``power_iteration(matvec, n)``: the dominant eigenvalue and vector of any operator.

**Kinks.** ReLU and max pooling are only piecewise smooth: the gradient jumps where a
unit's input crosses 0 or a window's maximum moves. A difference of gradients across
such a kink measures the jump divided by :math:`2h`, not the curvature (measured on
``MLP([64, 32, 10])`` on the digits in float64: a sharpness of 12.5 instead of 2.03 at
:math:`h = 10^{-4}`; in float32, where :math:`h` must be large, every product crosses
kinks). So every product holds each ``ReLU``'s on/off pattern and each ``MaxPool2d``'s
argmax fixed at those of :math:`\theta` (found by a forward pass at :math:`\theta`,
inside any ``Sequential``): along the line :math:`\theta \pm hv` the loss is then the
smooth function of the piece :math:`\theta` lies in, whose Hessian at :math:`\theta` is
the one automatic differentiation returns (torch's ``hvp``, Cohen et al.'s sharpness).
Other layers are smooth and are left as they are.

The model's parameters, gradient arrays and buffers (batch normalization's running
statistics) are the same after every call as before it, bit for bit. Its mode is
left alone: in training mode the curvature is that of the loss the optimizer sees
(batch statistics for ``BatchNorm1d``).
"""

import math

import numpy as np

from optlib import checks
from optlib.nn.activation import ReLU
from optlib.nn.conv import MaxPool2d, _pool_at

__all__ = ["hvp", "hessian", "sharpness", "lanczos", "power_iteration"]


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays]).astype(np.float64)


class _Loss:
    """The mean loss of ``model`` on ``(X, y)`` as a function of the flat parameters."""

    def __init__(self, model, loss_fn, X, y):
        self.model, self.loss_fn, self.X, self.y = model, loss_fn, X, y
        self.params = list(model.parameters().values())
        if not self.params:
            raise ValueError("model has no parameters: there is no Hessian")
        self.n = sum(p.size for p in self.params)
        self.dtype = self.params[0].dtype

    def __enter__(self):
        self._saved = ([p.copy() for p in self.params],
                       [g.copy() for g in self.model.gradients().values()],
                       [b.copy() for b in self.model.buffers().values()])
        self.theta = _flat(self._saved[0])
        self._frozen = []
        try:
            self.model.forward(self.X)              # the kink patterns at theta
            for layer in _layers(self.model):
                if isinstance(layer, ReLU):
                    mask = layer._mask
                    layer.forward = lambda x, mask=mask: x * mask    # backward reads _mask
                    self._frozen.append(layer)
                elif isinstance(layer, MaxPool2d):
                    where = layer._cache[0]
                    layer.forward = lambda x, layer=layer, where=where: _pool_at(layer, x, where)
                    self._frozen.append(layer)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for layer in self._frozen:
            del layer.forward                       # the class's forward again
        for live, saved in zip((self.params, list(self.model.gradients().values()),
                                list(self.model.buffers().values())), self._saved):
            for a, b in zip(live, saved):
                np.copyto(a, b)

    def gradient_at(self, theta):
        start = 0
        for p in self.params:
            p[...] = theta[start:start + p.size].reshape(p.shape)
            start += p.size
        _, dout = self.loss_fn(self.model.forward(self.X), self.y)
        self.model.backward(dout, input_grad=False)
        return _flat(self.model.gradients().values())

    def default_h(self, v_norm):
        eps = float(np.finfo(self.dtype).eps)
        return eps ** (1 / 3) * max(1.0, float(np.linalg.norm(self.theta))) / v_norm

    def hvp(self, v, h=None):
        v_norm = float(np.linalg.norm(v))
        if v_norm == 0:
            return np.zeros(self.n)
        h = self.default_h(v_norm) if h is None else h
        g_plus = self.gradient_at(self.theta + h * v)
        g_minus = self.gradient_at(self.theta - h * v)
        return (g_plus - g_minus) / (2 * h)


def _layers(module):
    """``module`` and every module inside it (through ``Sequential``'s ``layers``)."""
    yield module
    for layer in getattr(module, "layers", ()):
        yield from _layers(layer)


def _check_vector(v, n):
    if not isinstance(v, np.ndarray):
        v = np.asarray(v)
    if v.shape != (n,):
        raise ValueError(f"v must be a flat vector of length {n} (the number of parameters), "
                         f"got shape {v.shape}")
    if v.dtype.kind not in "fiu" or not np.all(np.isfinite(v)):
        raise ValueError("v must hold finite real numbers")
    return v.astype(np.float64)


def _check_h(h):
    return None if h is None else checks.real("h", h, low=0, low_open=True,
                                              rule="a finite number > 0 or None")


def hvp(model, loss_fn, X, y, v, h=None):
    r"""Hessian-vector product :math:`\nabla^2 L(\theta)\, v` by a central difference of gradients.

    .. math::

        H v \approx \frac{\nabla L(\theta + h v) - \nabla L(\theta - h v)}{2h}

    Exact up to rounding when :math:`L` is quadratic in :math:`\theta` (least squares);
    otherwise the error is :math:`O(h^2)`. Two forward and two backward passes.

    Parameters
    ----------
    model : ``Module``
        Any ``optlib.nn`` model; its parameters are restored afterwards.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, a batch mean, e.g.
        ``optlib.nn.losses.softmax_cross_entropy``.
    X, y : ``ndarray``
        The data the loss is averaged over (the whole training set for the
        full-batch loss, a mini-batch for its noisy estimate).
    v : ``array_like``
        Flat vector of length :math:`n`, in the order of ``model.parameters()``
        (as ``optlib.train.loop.gradient`` returns the gradient).
    h : float, optional
        The step; default :math:`\epsilon^{1/3}\max(1, \lVert\theta\rVert)/\lVert v\rVert`
        (see the module docstring).

    Returns
    -------
    ``ndarray``
        :math:`Hv`, float64, length :math:`n`.
    """
    h = _check_h(h)
    with _Loss(model, loss_fn, X, y) as loss:
        return loss.hvp(_check_vector(v, loss.n), h)


def hessian(model, loss_fn, X, y, h=None):
    r"""The dense Hessian :math:`H`, from :math:`n` products :math:`H e_j`, symmetrized.

    Column :math:`j` is ``hvp`` of the unit vector :math:`e_j`; the result is
    :math:`(\tilde H + \tilde H^\top)/2`. It costs :math:`2n` gradients and
    :math:`n^2` numbers: for tiny models and tests (an ``MLP([64, 32, 10])`` has
    2,410 parameters, 5.8 million entries).

    Parameters
    ----------
    model, loss_fn, X, y, h
        As for ``hvp``.

    Returns
    -------
    ``ndarray``
        Symmetric :math:`n \times n` float64 matrix.
    """
    h = _check_h(h)
    with _Loss(model, loss_fn, X, y) as loss:
        H = np.empty((loss.n, loss.n))
        for j in range(loss.n):
            e = np.zeros(loss.n)
            e[j] = 1.0
            H[:, j] = loss.hvp(e, h)
    return (H + H.T) / 2


def _check_matvec(matvec, n, iters, seed):
    if not callable(matvec):
        raise TypeError(f"matvec must be a callable v -> Av, got {type(matvec).__name__}")
    n = checks.integer("n", n, low=1)
    iters = checks.integer("iters", iters, low=1)
    q = np.random.default_rng(seed).standard_normal(n)
    return n, iters, q / np.linalg.norm(q)


def lanczos(matvec, n, iters=20, seed=0):
    r"""Ritz values and vectors of a symmetric operator after ``iters`` Lanczos steps.

    From a random unit vector :math:`q_1`, the Lanczos recurrence builds an
    orthonormal basis :math:`Q_k = [q_1, \dots, q_k]` of the Krylov space
    :math:`\operatorname{span}\{q_1, A q_1, \dots, A^{k-1} q_1\}` and the tridiagonal
    :math:`T_k = Q_k^\top A Q_k`:

    .. math::

        w = A q_j - \beta_{j-1} q_{j-1}, \quad \alpha_j = q_j^\top w, \quad
        w \leftarrow w - \alpha_j q_j, \quad \beta_j = \lVert w\rVert, \quad
        q_{j+1} = w / \beta_j .

    The eigenvalues of :math:`T_k` (Ritz values) approximate the extreme eigenvalues
    of :math:`A` from inside, the largest and smallest first (C. Lanczos, 1950, "An
    iteration method for the solution of the eigenvalue problem of linear
    differential and integral operators"). Here :math:`w` is also re-orthogonalized
    against all earlier :math:`q_i` (twice), which keeps the basis orthonormal in
    floating point and costs :math:`O(nk)` per step, nothing next to a Hessian-vector
    product. The iteration stops early when the Krylov space is exhausted
    (:math:`\beta_j \approx 0`, at the latest after :math:`n` steps).

    Parameters
    ----------
    matvec : callable
        ``v -> A v`` for a symmetric :math:`A`, float64 vectors of length ``n``.
    n : int
        Dimension.
    iters : int
        Products :math:`Av` to take, >= 1.
    seed : int or ``numpy.random.Generator``
        Start vector :math:`q_1` (standard normal, normalized).

    Returns
    -------
    values : ``ndarray``
        Ritz values, ascending (``values[-1]`` estimates :math:`\lambda_{\max}`).
    vectors : ``ndarray``
        Matching Ritz vectors as columns, shape ``(n, len(values))``, unit length.
    """
    n, iters, q = _check_matvec(matvec, n, iters, seed)
    Q = np.empty((min(iters, n), n))
    alpha, beta = [], []
    for j in range(min(iters, n)):
        Q[j] = q
        w = np.asarray(matvec(q), dtype=np.float64).reshape(-1)
        if w.shape != (n,):
            raise ValueError(f"matvec must return a vector of length {n}, got shape {w.shape}")
        alpha.append(float(q @ w))
        for _ in range(2):                       # full re-orthogonalization, twice
            w -= Q[:j + 1].T @ (Q[:j + 1] @ w)
        b = float(np.linalg.norm(w))
        scale = max(abs(a) for a in alpha) + (max(beta) if beta else 0.0)
        if j == min(iters, n) - 1 or b <= 1e-12 * max(scale, 1e-300):
            break
        beta.append(b)
        q = w / b
    k = len(alpha)
    T = np.diag(alpha) + np.diag(beta[:k - 1], 1) + np.diag(beta[:k - 1], -1)
    values, S = np.linalg.eigh(T)
    return values, Q[:k].T @ S


def power_iteration(matvec, n, iters=50, seed=0, rtol=1e-6):
    r"""The dominant eigenvalue (largest in magnitude) and its vector, by power iteration.

    .. math::

        v_{k+1} = \frac{A v_k}{\lVert A v_k\rVert}, \qquad \lambda_k = v_k^\top A v_k,

    which converges like :math:`|\lambda_2/\lambda_1|^k` to the eigenvalue of largest
    magnitude (for a Hessian with a negative eigenvalue larger in magnitude than
    :math:`\lambda_{\max}`, that one: use ``lanczos`` for :math:`\lambda_{\max}` itself).

    Parameters
    ----------
    matvec : callable
        ``v -> A v``, float64 vectors of length ``n``.
    n : int
        Dimension.
    iters : int
        Most products to take, >= 1.
    seed : int or ``numpy.random.Generator``
        Start vector (standard normal, normalized).
    rtol : float
        Stop when the Rayleigh quotient changes by less than ``rtol`` times its size.

    Returns
    -------
    value : float
        The last Rayleigh quotient :math:`\lambda_k`.
    vector : ``ndarray``
        :math:`v_k`, unit length.
    """
    n, iters, v = _check_matvec(matvec, n, iters, seed)
    rtol = checks.real("rtol", rtol, low=0)
    value = math.nan
    for _ in range(iters):
        w = np.asarray(matvec(v), dtype=np.float64).reshape(-1)
        if w.shape != (n,):
            raise ValueError(f"matvec must return a vector of length {n}, got shape {w.shape}")
        new = float(v @ w)
        norm = float(np.linalg.norm(w))
        if norm == 0:
            return 0.0, v
        done = abs(new - value) <= rtol * abs(new)
        value, v = new, w / norm
        if done:
            break
    return value, v


def sharpness(model, loss_fn, X, y, iters=20, seed=0, h=None, method="lanczos"):
    r"""The largest eigenvalue :math:`\lambda_{\max}` of the loss's Hessian: the sharpness.

    ``method="lanczos"`` (default) returns the largest Ritz value after ``iters``
    Hessian-vector products (see ``lanczos``): a lower bound that is usually accurate
    to a few digits in 20 products on the course's networks. ``method="power"`` runs
    ``power_iteration`` instead (at most ``iters`` products), which finds the
    eigenvalue of largest magnitude.

    The gradient-descent stability limit on a quadratic is :math:`\eta < 2/\lambda_{\max}`;
    Cohen et al. (2021) track this number during training to see it settle at
    :math:`2/\eta` (see the module docstring).

    Parameters
    ----------
    model, loss_fn, X, y
        As for ``hvp``: the loss is the mean over ``(X, y)``.
    iters : int
        Hessian-vector products (each two gradients), >= 1.
    seed : int or ``numpy.random.Generator``
        Start vector: the same seed gives the same result.
    h : float, optional
        Finite-difference step of every product (see ``hvp``).
    method : str
        ``"lanczos"`` or ``"power"``.

    Returns
    -------
    float
        The estimate of :math:`\lambda_{\max}`.
    """
    checks.one_of("method", method, ("lanczos", "power"))
    h = _check_h(h)
    with _Loss(model, loss_fn, X, y) as loss:
        if method == "power":
            return power_iteration(lambda v: loss.hvp(v, h), loss.n, iters, seed)[0]
        return float(lanczos(lambda v: loss.hvp(v, h), loss.n, iters, seed)[0][-1])
