r"""Two-dimensional test surfaces and a runner that records an optimizer's path.

Every surface is a loss :math:`L(\theta)` of a point :math:`\theta = (x, y)`
with an analytic gradient, known minima and a plotting window, so a chapter can
draw contours and the path an optimizer takes across them.

A surface is vectorised: it takes an array of shape ``(..., 2)`` (a single point,
a batch of points, or a contour grid of shape ``(rows, cols, 2)``) and returns the
loss with shape ``(...)`` and the gradient with shape ``(..., 2)``. The dtype of a
floating-point input is kept (``float32`` stays ``float32``); integer input is
computed in ``float64``.

Two functions run an optimizer, with one loop:

* ``run(optimizer, surface)`` starts it at ``surface.start`` and returns a
  ``Trajectory`` holding every point visited and its loss (and, with
  ``record=f``, ``f(optimizer)`` after every step: effective rates, a buffer, ...);
* ``replay(optimizer, grads)`` feeds it a fixed sequence of gradients instead, so
  that its update rule can be read off step by step.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from optlib import checks
from optlib.optim.lr_scheduler import LRScheduler

__all__ = [
    "Surface",
    "Quadratic",
    "Rosenbrock",
    "Beale",
    "Saddle",
    "Valley",
    "Himmelblau",
    "LeastSquares",
    "Trajectory",
    "run",
    "replay",
]


# --------------------------------------------------------------------------- helpers


def _readonly(array):
    """Freeze an array so a chapter cannot change a surface's constants by accident."""
    array = np.array(array, dtype=np.float64)
    array.flags.writeable = False
    return array


def _as_points(xy):
    """Check that ``xy`` has shape ``(..., 2)`` and a real floating dtype."""
    xy = np.asarray(xy)
    if xy.ndim == 0 or xy.shape[-1] != 2:
        raise ValueError(f"xy must have shape (..., 2), got shape {xy.shape}")
    if np.issubdtype(xy.dtype, np.floating):
        return xy
    if np.issubdtype(xy.dtype, np.integer) or xy.dtype == np.bool_:
        return xy.astype(np.float64)
    raise TypeError(f"xy must hold real numbers, got dtype {xy.dtype}")


# --------------------------------------------------------------------------- base class


class Surface:
    r"""Base class of the 2-D test surfaces.

    A subclass sets the attributes below and implements ``_loss(x, y)`` and
    ``_grad(x, y)`` on the two coordinate arrays; this class does the shape and
    dtype handling.

    Attributes
    ----------
    name : str
        A readable name for titles and legends, e.g. ``"Rosenbrock"``.
    minima : ``ndarray``
        Shape ``(k, 2)``: the global minima (all of them when there are several).
    min_value : float
        The loss at a global minimum.
    bounds : tuple
        ``((xmin, xmax), (ymin, ymax))``, a plotting window that shows the start
        point and the minima.
    start : ``ndarray``
        Shape ``(2,)``, ``float64``: the standard start point used by the chapters.
    """

    name = "Surface"

    def __call__(self, xy):
        """Loss at ``xy``.

        Parameters
        ----------
        xy : ``array_like``
            Points, shape ``(..., 2)``.

        Returns
        -------
        ``ndarray``
            Loss, shape ``(...)``, same floating dtype as ``xy``.
        """
        xy = _as_points(xy)
        return np.asarray(self._loss(xy[..., 0], xy[..., 1]), dtype=xy.dtype)

    def grad(self, xy):
        """Gradient at ``xy``.

        Parameters
        ----------
        xy : ``array_like``
            Points, shape ``(..., 2)``.

        Returns
        -------
        ``ndarray``
            Gradient, shape ``(..., 2)``, same floating dtype as ``xy``.
        """
        xy = _as_points(xy)
        gx, gy = self._grad(xy[..., 0], xy[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1).astype(xy.dtype, copy=False)

    def _loss(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


# --------------------------------------------------------------------------- surfaces


class Quadratic(Surface):
    r"""A convex quadratic bowl, the model problem for conditioning.

    .. math::

        L(\theta) = \tfrac12\,\theta^\top A\,\theta,
        \qquad A = R(\varphi)\,\operatorname{diag}(\lambda_1, \lambda_2)\,R(\varphi)^\top,

    where :math:`R(\varphi)` rotates by the angle :math:`\varphi`. The gradient is
    :math:`A\theta`, the Hessian is :math:`A` everywhere, the only minimum is the
    origin with loss 0, and the condition number is
    :math:`\kappa = \lambda_{\max}/\lambda_{\min}`. Gradient descent with step
    :math:`\eta` gives :math:`\theta_t = (I - \eta A)^t\,\theta_0`, and converges
    if and only if :math:`\eta < 2/\lambda_{\max}`.

    Parameters
    ----------
    eigenvalues : ``(float, float)``
        :math:`\lambda_1, \lambda_2 > 0`, the curvatures along the two axes of the
        ellipses before rotation. Default ``(1.0, 10.0)``.
    angle : float
        :math:`\varphi` in radians; with ``angle=0`` the axes are the coordinate
        axes, so :math:`A` is diagonal.
        Default ``0.0``.

    Attributes
    ----------
    A : ``ndarray``
        The 2×2 symmetric positive-definite matrix (also the Hessian).
    eigenvalues : ``ndarray``
        :math:`(\lambda_1, \lambda_2)` as given.
    kappa : float
        :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.
    angle : float
        :math:`\varphi`.
    """

    name = "Quadratic"

    def __init__(self, eigenvalues=(1.0, 10.0), angle=0.0):
        try:
            values = [v for v in eigenvalues]
        except TypeError:
            values = None
        if (values is None or len(values) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
                or not all(math.isfinite(v) and v > 0 for v in values)):
            raise ValueError(f"eigenvalues must be two finite numbers > 0, got {eigenvalues!r}")
        self.angle = checks.real("angle", angle)
        self.eigenvalues = _readonly([float(v) for v in values])
        c, s = math.cos(self.angle), math.sin(self.angle)
        rotation = np.array([[c, -s], [s, c]])
        self.A = _readonly(rotation @ np.diag(self.eigenvalues) @ rotation.T)
        self.kappa = float(self.eigenvalues.max() / self.eigenvalues.min())
        self.minima = _readonly([[0.0, 0.0]])
        self.min_value = 0.0
        self.bounds = ((-3.0, 3.0), (-3.0, 3.0))
        self.start = _readonly([-2.5, 1.5])

    def __call__(self, xy):
        xy = _as_points(xy)
        A = self.A.astype(xy.dtype)
        return np.asarray(0.5 * np.einsum("...i,ij,...j->...", xy, A, xy), dtype=xy.dtype)

    def grad(self, xy):
        xy = _as_points(xy)
        # A is symmetric, so each row vector θ maps to (Aθ)ᵀ = θᵀA.
        return xy @ self.A.astype(xy.dtype)

    def __repr__(self):
        l1, l2 = (float(v) for v in self.eigenvalues)
        return f"Quadratic(eigenvalues=({l1!r}, {l2!r}), angle={self.angle!r})"


class Rosenbrock(Surface):
    r"""Rosenbrock's banana-shaped valley (Rosenbrock, 1960).

    .. math::

        L(x, y) = (a - x)^2 + b\,(y - x^2)^2 .

    The only minimum is :math:`(a, a^2)` with loss 0. It lies at the end of a
    curved, flat-bottomed valley along :math:`y = x^2`; reaching the valley is easy,
    following it to the minimum is slow. The start point :math:`(-1.2, 1)` is the
    classical one.

    Parameters
    ----------
    a : float
        Position of the minimum.
        Default ``1.0``.
    b : float
        Steepness of the valley walls, > 0.
        Default ``100.0``.

    References
    ----------
    H. H. Rosenbrock, "An automatic method for finding the greatest or least
    value of a function", *The Computer Journal* 3(3):175–184, 1960.
    """

    name = "Rosenbrock"

    def __init__(self, a=1.0, b=100.0):
        self.a = checks.real("a", a)
        self.b = checks.real("b", b, low=0, low_open=True)
        self.minima = _readonly([[self.a, self.a**2]])
        self.min_value = 0.0
        self.bounds = ((-2.0, 2.0), (-1.0, 3.0))
        self.start = _readonly([-1.2, 1.0])

    def _loss(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _grad(self, x, y):
        wall = y - x**2
        return -2 * (self.a - x) - 4 * self.b * x * wall, 2 * self.b * wall

    def __repr__(self):
        return f"Rosenbrock(a={self.a!r}, b={self.b!r})"


class Beale(Surface):
    r"""Beale's function: flat plateaus and sharp ridges (Beale, 1958).

    .. math::

        L(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2 .

    The only minimum is :math:`(3, 0.5)` with loss 0. The loss spans many orders
    of magnitude across the window, so adaptive methods and plain gradient
    descent behave very differently here.

    References
    ----------
    E. M. L. Beale, "On an iterative method for finding a local minimum of a
    function of more than one variable", Technical Report 25, Statistical
    Techniques Research Group, Princeton University, 1958.
    """

    name = "Beale"

    def __init__(self):
        self.minima = _readonly([[3.0, 0.5]])
        self.min_value = 0.0
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))
        self.start = _readonly([1.0, 1.5])

    @staticmethod
    def _residuals(x, y):
        return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3

    def _loss(self, x, y):
        r1, r2, r3 = self._residuals(x, y)
        return r1**2 + r2**2 + r3**2

    def _grad(self, x, y):
        r1, r2, r3 = self._residuals(x, y)
        gx = 2 * (r1 * (y - 1) + r2 * (y**2 - 1) + r3 * (y**3 - 1))
        gy = 2 * x * (r1 + 2 * r2 * y + 3 * r3 * y**2)
        return gx, gy


class Saddle(Surface):
    r"""A saddle point with minima on either side, to measure escaping.

    .. math::

        L(x, y) = \tfrac12 x^2 + \tfrac14 y^4 - \tfrac12 y^2,
        \qquad \nabla L = (x,\; y^3 - y).

    The origin is a stationary point whose Hessian :math:`\operatorname{diag}(1, -1)`
    is indefinite: a saddle. The loss goes down along :math:`y` until the two
    global minima :math:`(0, \pm 1)`, where the loss is :math:`-1/4`
    (so ``min_value`` is negative). Starting on the line :math:`y = 0`, gradient
    descent converges to the saddle and stays there; the standard start
    :math:`(1.5, 10^{-3})` is a tiny push off that line, so the number of steps to
    reach a minimum (``Trajectory.steps_to``) measures how fast a method escapes.
    Near the saddle, gradient descent grows :math:`y` by a factor
    :math:`1 + \eta` per step.

    Attributes
    ----------
    saddle : ``ndarray``
        Shape ``(2,)``, the saddle point :math:`(0, 0)`.
    """

    name = "Saddle"

    def __init__(self):
        self.minima = _readonly([[0.0, 1.0], [0.0, -1.0]])
        self.min_value = -0.25
        self.saddle = _readonly([0.0, 0.0])
        self.bounds = ((-2.0, 2.0), (-1.5, 1.5))
        self.start = _readonly([1.5, 1e-3])

    def _loss(self, x, y):
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def _grad(self, x, y):
        return x, y**3 - y


class Valley(Surface):
    r"""A long, narrow valley whose floor curves like a sine wave.

    .. math::

        L(x, y) = \tfrac{k}{2}\,\bigl(y - \sin x\bigr)^2 + \tfrac{c}{2}\,x^2 .

    The first term is a steep wall of curvature :math:`k` around the floor
    :math:`y = \sin x`; the second is a gentle slope :math:`c \ll k` along it. Both
    terms are :math:`\ge 0` and both vanish only at the origin, so the origin is
    the only minimum, with loss 0, and the loss is bounded below by 0. It is also
    the only stationary point: :math:`\partial L/\partial y = 0` forces
    :math:`y = \sin x`, and then :math:`\partial L/\partial x = c\,x`. Unlike a
    quadratic, the direction of the valley changes as you go along it, so
    momentum overshoots the bends. The start :math:`(-4.5, -1)` lies near the far
    end of the floor.

    Parameters
    ----------
    k : float
        Curvature across the valley (wall steepness), > 0.
        Default ``10.0``.
    c : float
        Curvature along the valley (floor slope), > 0; the valley is long when
        :math:`c \ll k`.
        Default ``0.1``.
    """

    name = "Valley"

    def __init__(self, k=10.0, c=0.1):
        self.k = checks.real("k", k, low=0, low_open=True)
        self.c = checks.real("c", c, low=0, low_open=True)
        self.minima = _readonly([[0.0, 0.0]])
        self.min_value = 0.0
        self.bounds = ((-5.0, 5.0), (-2.5, 2.5))
        self.start = _readonly([-4.5, -1.0])

    def _loss(self, x, y):
        return 0.5 * self.k * (y - np.sin(x)) ** 2 + 0.5 * self.c * x**2

    def _grad(self, x, y):
        wall = self.k * (y - np.sin(x))
        return -wall * np.cos(x) + self.c * x, wall

    def __repr__(self):
        return f"Valley(k={self.k!r}, c={self.c!r})"


class Himmelblau(Surface):
    r"""Himmelblau's function: four global minima of equal depth (Himmelblau, 1972).

    .. math::

        L(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2 .

    The four minima, all with loss 0, are :math:`(3, 2)` and three irrational
    points near :math:`(-2.805, 3.131)`, :math:`(-3.779, -3.283)` and
    :math:`(3.584, -1.848)` (stored to double precision). Which one an optimizer
    reaches depends on where it starts and on its momentum.

    References
    ----------
    D. M. Himmelblau, *Applied Nonlinear Programming*, McGraw-Hill, 1972.
    """

    name = "Himmelblau"

    def __init__(self):
        self.minima = _readonly([
            [3.0, 2.0],
            [-2.805118086952745, 3.131312518250573],
            [-3.779310253377747, -3.2831859912861696],
            [3.5844283403304917, -1.8481265269644034],
        ])
        self.min_value = 0.0
        self.bounds = ((-5.0, 5.0), (-5.0, 5.0))
        self.start = _readonly([0.0, 0.0])

    def _loss(self, x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def _grad(self, x, y):
        r1, r2 = x**2 + y - 11, x + y**2 - 7
        return 4 * x * r1 + 2 * r2, 2 * r1 + 4 * y * r2


class LeastSquares(Surface):
    r"""The loss of a linear model with two weights on a data set: a *stochastic* surface.

    .. math::

        L(\theta) = \frac{1}{2N}\sum_{i=1}^{N} (x_i^\top\theta - y_i)^2
        = \tfrac12\,\theta^\top A\theta - b^\top\theta + c,
        \qquad A = \tfrac1N X^\top X,\ b = \tfrac1N X^\top y,

    a quadratic bowl whose minimum is the least-squares solution
    :math:`\theta^\star = A^{-1}b`. Unlike the other surfaces it is a sum over
    examples, so a mini-batch :math:`\mathcal B` gives an unbiased but noisy gradient
    :math:`\frac{1}{|\mathcal B|}\sum_{i\in\mathcal B} x_i (x_i^\top\theta - y_i)`
    (``batch_grad``); ``run(..., batch_size=B)`` uses it, which is how the chapters
    draw the path of stochastic and mini-batch gradient descent.

    Parameters
    ----------
    X : ``array_like``
        Inputs, shape ``(N, 2)``.
    y : ``array_like``
        Targets, shape ``(N,)`` or ``(N, 1)``.
    start : ``array_like``
        :math:`\theta_0`; ``None`` puts it at a fixed offset from :math:`\theta^\star`.
    """

    name = "Least squares"

    def __init__(self, X, y, start=None):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
            raise ValueError(f"X must have shape (N, 2) with N >= 1, got {X.shape}")
        if len(y) != len(X):
            raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
        self.X, self.y, self.n = X, y, len(X)
        self.A = X.T @ X / self.n                  # the Hessian
        self.b = X.T @ y / self.n
        self.c = float(y @ y) / (2 * self.n)
        eigenvalues = np.linalg.eigvalsh(self.A)
        if eigenvalues[0] <= 1e-12 * eigenvalues[-1]:
            raise ValueError("X must have two linearly independent columns (XᵀX/N is singular)")
        best = np.linalg.solve(self.A, self.b)
        self.minima = _readonly(best[None, :])
        self.min_value = float(self._loss(best[0], best[1]))
        offset = np.array([-2.0, 1.5]) / np.sqrt(np.diag(self.A))
        self.start = _readonly(best + offset if start is None else np.array(start, dtype=np.float64))
        span = np.abs(self.start - best).max() * 1.4
        self.bounds = ((best[0] - span, best[0] + span), (best[1] - span, best[1] + span))

    def _loss(self, x, y):
        A, b = self.A, self.b
        quad = 0.5 * (A[0, 0] * x * x + 2 * A[0, 1] * x * y + A[1, 1] * y * y)
        return quad - (b[0] * x + b[1] * y) + self.c

    def _grad(self, x, y):
        A, b = self.A, self.b
        return A[0, 0] * x + A[0, 1] * y - b[0], A[1, 0] * x + A[1, 1] * y - b[1]

    def batch_grad(self, theta, idx):
        """The gradient on the examples ``idx`` only (a mini-batch mean), shape ``(2,)``."""
        Xb = self.X[idx]
        return Xb.T @ (Xb @ theta - self.y[idx]) / len(Xb)

    def __repr__(self):
        return f"LeastSquares(N={self.n})"


# --------------------------------------------------------------------------- runner


@dataclass(frozen=True, eq=False)
class Trajectory:
    r"""The path an optimizer took on a surface.

    Attributes
    ----------
    path : ``ndarray``
        Shape ``(steps + 1, 2)``: :math:`\theta_0` (the start) then
        :math:`\theta_1, \dots, \theta_T`. Read-only.
    losses : ``ndarray``
        Shape ``(steps + 1,)``: :math:`L(\theta_t)` for each row of ``path``.
        Read-only. After a divergence it holds ``inf`` or ``nan``.
    min_value : float
        The surface's ``min_value``, stored so that ``steps_to`` can measure the
        gap :math:`L(\theta_t) - L^\star` on its own.
    records : ``ndarray`` or None
        What ``run(..., record=f)`` recorded: ``f(optimizer)`` after each step,
        stacked, one row per step :math:`t = 1, \dots, T`. ``None`` without ``record``.
    """

    path: np.ndarray
    losses: np.ndarray
    min_value: float = 0.0
    records: np.ndarray | None = None

    def steps_to(self, tol):
        r"""First step :math:`t` with :math:`L(\theta_t) - L^\star \le` ``tol``.

        Parameters
        ----------
        tol : float
            Tolerance on the gap to the minimum value, finite and >= 0.

        Returns
        -------
        int or None
            The index into ``losses`` (0 if the start already qualifies), or
            ``None`` if the run never got that close. ``nan`` losses never qualify.
        """
        tol = checks.real("tol", tol, low=0)
        with np.errstate(invalid="ignore"):
            hits = np.flatnonzero(self.losses - self.min_value <= tol)
        return int(hits[0]) if hits.size else None


def run(optimizer, surface, start=None, steps=100, schedule=None, batch_size=None, seed=0,
        record=None):
    r"""Run an optimizer on a surface and record every point it visits.

    Each step computes :math:`g_t = \nabla L(\theta_{t-1})` and calls
    ``optimizer.step([θ], [g])``, which updates :math:`\theta` in place. If a
    ``schedule`` is given, ``optimizer.lr = schedule(t)`` is set before the step
    taken after ``t`` steps, so ``schedule(0)`` is the learning rate of the first
    step. Overflow is not an error: the run continues with ``inf``/``nan`` so a
    chapter can plot a divergence (numpy's overflow warnings are silenced).

    Parameters
    ----------
    optimizer : ``object``
        Anything with ``step(params, grads)`` (and a writable ``lr`` if a
        schedule is used), e.g. ``optlib.optim.SGD(lr=0.01)``. Its state carries
        over between calls, so use a fresh optimizer for each run.
    surface : ``Surface``
        The loss to minimize.
    start : ``array_like``
        :math:`\theta_0`, shape ``(2,)``; ``None`` (default) means
        ``surface.start``. It is copied into a ``float64`` array; the argument
        is never modified.
    steps : int
        Number of optimizer steps :math:`T`, >= 0.
        Default ``100``.
    schedule : ``callable``
        ``t -> lr`` for ``t = 0, 1, …``, e.g. from ``optlib.optim.lr_scheduler``;
        ``None`` (default) leaves ``optimizer.lr`` alone.
    batch_size : int
        Only for surfaces made of examples (``LeastSquares``): each step uses the
        gradient of a mini-batch of this many examples, drawn without replacement
        from a fresh random order every epoch (``seed``). ``None``: the exact gradient.
    seed : int
        Seeds the order of the examples when ``batch_size`` is given.
    record : ``callable``
        ``record(optimizer) -> value``, called after every step to record what a
        chapter needs besides the path, e.g. ``optlib.optim.effective_rate.effective_rate``
        (the per-coordinate rate of an adaptive method). The values are stacked into
        ``Trajectory.records``. ``None`` (default): nothing more is recorded.

    Returns
    -------
    ``Trajectory``
        ``path`` of shape ``(steps + 1, 2)`` starting with :math:`\theta_0`,
        ``losses`` of shape ``(steps + 1,)``, ``surface.min_value``, and ``records``.
    """
    theta, gradient = _check_run(optimizer, surface, start, steps, schedule, batch_size, seed,
                                 record)
    path, losses, records = _descend(optimizer, theta, gradient, steps, schedule=schedule,
                                     record=record, loss=surface)
    return Trajectory(path=path, losses=losses, min_value=float(surface.min_value),
                      records=records)


def replay(optimizer, grads, theta0=0.0, schedule=None, bounds=None, record=None):
    r"""Feed an optimizer a fixed sequence of gradients and return the path it takes.

    Step :math:`t` calls ``optimizer.step([θ], [grads[t-1]])``: the gradients do not
    depend on :math:`\theta`, as if the loss were a slope whose tilt you choose at
    every step. What comes out is the optimizer's rule alone, read off exactly: its
    answer to a constant gradient, a single spike after a long silence, pure noise.
    (The optimizer may still add :math:`\lambda\theta` itself, as ``weight_decay``
    does.) ``np.diff(replay(optimizer, grads), axis=0)`` are the updates
    :math:`\theta_t - \theta_{t-1}`.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optlib optimizer (its state carries over between calls).
    grads : ``array_like``
        Shape ``(T,)`` for one parameter or ``(T, n)`` for ``n`` parameters updated
        side by side: :math:`g_1, \dots, g_T`.
    theta0 : float or ``array_like``
        :math:`\theta_0`, broadcast to ``n`` coordinates. Default ``0.0``.
    schedule : ``callable``
        ``k -> lr`` for the step taken after ``k`` steps, as in :func:`run`.
    bounds : ``(float, float)``
        :math:`[\text{lo}, \text{hi}]`: after every step :math:`\theta` is clipped to it,
        the projection :math:`\Pi_{\mathcal F}` of online convex optimization (the
        optimizer's own state is not touched). ``None`` (default): no projection.
    record : ``callable``
        ``record(optimizer) -> value``, called after every step, as in :func:`run`.

    Returns
    -------
    path : ``ndarray``
        Shape ``(T + 1,)`` or ``(T + 1, n)``: :math:`\theta_0, \dots, \theta_T` (float64).
    records : ``ndarray``
        Only when ``record`` is given: the stacked values, one row per step.
    """
    grads, theta, bounds = _check_replay(optimizer, grads, theta0, schedule, bounds, record)
    rows = iter(grads.reshape(len(grads), theta.size))
    path, _, records = _descend(optimizer, theta, lambda _: next(rows).copy(), len(grads),
                                schedule=schedule, record=record, bounds=bounds)
    if grads.ndim == 1:
        path = path[:, 0]
    return path if record is None else (path, records)


def _descend(optimizer, theta, gradient, steps, schedule=None, record=None, loss=None,
             bounds=None):
    """The one loop of ``run`` and ``replay``: ``steps`` optimizer steps from ``theta``.

    ``gradient(θ)`` gives the gradient of each step. Returns the read-only path
    (``(steps + 1, d)``), the losses (``None`` without ``loss``) and the records
    (``None`` without ``record``).
    """
    params = [theta]
    path = np.empty((steps + 1, theta.size))
    losses = np.empty(steps + 1) if loss is not None else None
    records = []
    # The one way optlib applies a schedule: it sets lr = schedule(0) now, and each
    # scheduler.step() the rate of the next step.
    scheduler = None if schedule is None else LRScheduler(optimizer, schedule)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        path[0] = theta
        if loss is not None:
            losses[0] = loss(theta)
        for t in range(steps):
            if scheduler is not None and scheduler.t < t:
                scheduler.step()                          # lr = schedule(t)
            optimizer.step(params, [gradient(params[0])])
            # Read back params[0]: an optimizer is meant to update in place, but
            # reading the list also works for one that stores a new array.
            if bounds is not None:
                np.clip(params[0], *bounds, out=params[0])
            path[t + 1] = params[0]
            if loss is not None:
                losses[t + 1] = loss(params[0])
            if record is not None:
                records.append(np.copy(record(optimizer)))
    for array in (path, losses):
        if array is not None:
            array.flags.writeable = False
    return path, losses, (np.array(records) if record is not None else None)


def _check_run(optimizer, surface, start, steps, schedule, batch_size, seed, record):
    """Check ``run``'s arguments; return :math:`\\theta_0` (a fresh array) and the gradient."""
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    _check_stepper(optimizer, schedule, record)
    checks.integer("steps", steps, low=0)
    if start is None:
        start = surface.start
    try:
        theta = np.array(start, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"start must be two finite numbers, got {start!r}") from None
    if theta.shape != (2,) or not np.all(np.isfinite(theta)):
        raise ValueError(f"start must be two finite numbers (shape (2,)), got {start!r}")
    if batch_size is None:
        return theta, surface.grad
    if not hasattr(surface, "batch_grad"):
        raise TypeError(f"batch_size needs a surface made of examples (LeastSquares), "
                        f"got {type(surface).__name__}")
    batch_size = checks.integer("batch_size", batch_size, low=1, high=surface.n)
    batches = _minibatches(surface.n, batch_size, np.random.default_rng(seed))
    return theta, lambda theta: surface.batch_grad(theta, next(batches))


def _check_replay(optimizer, grads, theta0, schedule, bounds, record):
    """Check ``replay``'s arguments; return the gradients, :math:`\\theta_0` and the bounds."""
    _check_stepper(optimizer, schedule, record)
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim not in (1, 2):
        raise ValueError(f"grads must have shape (T,) or (T, n), got {grads.shape}")
    n = 1 if grads.ndim == 1 else grads.shape[1]
    theta = np.array(np.broadcast_to(np.asarray(theta0, dtype=np.float64), (n,)))
    if bounds is not None:
        lo, hi = (checks.real("bounds", b) for b in bounds)
        if not lo < hi:
            raise ValueError(f"bounds must be two finite numbers lo < hi, got {bounds!r}")
        if not np.all((lo <= theta) & (theta <= hi)):
            raise ValueError(f"theta0 must be inside bounds [{lo}, {hi}], got {theta0!r}")
        bounds = (lo, hi)
    return grads, theta, bounds


def _check_stepper(optimizer, schedule, record):
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, "
                        f"got {type(optimizer).__name__}")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a callable t -> lr or None, got {schedule!r}")
    if record is not None and not callable(record):
        raise TypeError(f"record must be a callable optimizer -> value or None, got {record!r}")


def _minibatches(n, batch_size, rng):
    """Endless index batches: each epoch a new permutation cut into batches."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]
