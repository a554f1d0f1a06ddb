r"""Chapter 2 (momentum): the papers' forms, momentum's noise, and the theory on a quadratic.

Three sections:

* **the papers' forms**: ``optlib.SGD`` follows PyTorch, which stores a buffer of
  accumulated *gradients* :math:`b_t` and multiplies it by the learning rate at each
  step. The papers store a *velocity* :math:`v_t`, a step already scaled by
  :math:`\eta`: heavy ball (Polyak 1964),
  :math:`v_t = \beta v_{t-1} - \eta_t g_t,\ \theta_t = \theta_{t-1} + v_t`
  (``heavy_ball``), and Nesterov's accelerated gradient in the form of Sutskever et
  al. (2013), the same with the gradient taken at the look-ahead point
  :math:`g_t = \nabla L(\theta_{t-1} + \beta v_{t-1})` (``nesterov_lookahead``).
  They let the chapter check, number for number, that PyTorch's forms are the same
  algorithms (:math:`v_t = -\eta b_t` while :math:`\eta` is constant; PyTorch's
  Nesterov iterates are the look-ahead points :math:`\theta_t + \beta v_t`). They take
  a gradient *function*, not a gradient, because the look-ahead form needs the
  gradient at a point other than the parameters: the reason frameworks, whose
  ``step`` only sees the gradient at the parameters, use the change of variables.
* **momentum's noise**: ``buffer_noise`` measures what momentum does to the noise of
  mini-batch gradients, on a network; ``stationary_variance`` gives the noise it leaves
  in the parameters on a noisy quadratic.
* **quadratic theory**: what theory predicts for gradient descent and momentum on a
  quadratic (``gd_rate``, ``heavy_ball_rate``, ``nesterov_rate``, their optimal
  settings, ``critical_momentum``, ``predicted_steps``) and how to measure it on a run
  (``distances``, ``eigen_coordinates``, ``measured_rate``, ``steps_to_shrink``,
  ``measure``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optlib import checks
from optlib.optim import SGD
from optlib.surfaces import run
from optlib.train.loop import gradient

__all__ = [
    'VelocityRun',
    'heavy_ball',
    'nesterov_lookahead',
    'buffer_noise',
    'stationary_variance',
    'condition_number',
    'gd_rate',
    'gd_optimal',
    'heavy_ball_rate',
    'heavy_ball_optimal',
    'heavy_ball_stable',
    'critical_momentum',
    'nesterov_rate',
    'nesterov_standard',
    'distances',
    'eigen_coordinates',
    'measured_rate',
    'steps_to_shrink',
    'predicted_steps',
    'measure',
]

# ====================================================================== the papers' forms
@dataclass(frozen=True, eq=False)
class VelocityRun:
    r"""The iterates of a velocity-form run.

    Attributes
    ----------
    path : ``ndarray``
        Shape ``(steps + 1, d)``: :math:`\theta_0, \theta_1, \dots, \theta_T`.
    velocity : ``ndarray``
        Shape ``(steps + 1, d)``: :math:`v_0 = 0, v_1, \dots, v_T`.
    """

    path: np.ndarray
    velocity: np.ndarray


def _check(theta0, lr, momentum, steps, grad):
    if not callable(grad):
        raise TypeError(f"grad must be a callable theta -> gradient, got {grad!r}")
    theta = np.array(theta0, dtype=np.float64).reshape(-1)
    if theta.size == 0 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta0 must be finite numbers, got {theta0!r}")
    momentum = checks.real("momentum", momentum, low=0, high=1, high_open=True)
    steps = checks.integer("steps", steps, low=0)
    if not callable(lr):
        lr = checks.real("lr", lr, low=0, rule="a finite number >= 0 or a callable t -> lr")
    rate = lr if callable(lr) else (lambda t: lr)
    return theta, rate, momentum, steps


def _velocity_run(grad, theta0, lr, momentum, steps, lookahead):
    theta, rate, beta, steps = _check(theta0, lr, momentum, steps, grad)
    path = np.empty((steps + 1, theta.size))
    velocity = np.zeros((steps + 1, theta.size))
    path[0] = theta
    v = np.zeros_like(theta)                                  # v_0 = 0: start at rest
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps):
            eta = rate(t)                                     # like a schedule: rate(0) first
            at = theta + beta * v if lookahead else theta     # where the gradient is taken
            v = beta * v - eta * np.asarray(grad(at), dtype=np.float64)   # v_t = βv_{t-1} - η g_t
            theta = theta + v                                 # θ_t = θ_{t-1} + v_t
            path[t + 1], velocity[t + 1] = theta, v
    return VelocityRun(path=path, velocity=velocity)


def heavy_ball(grad, theta0, lr, momentum, steps):
    r"""Polyak's heavy ball in the classical velocity form.

    .. math::

        v_t = \beta v_{t-1} - \eta_t\,\nabla L(\theta_{t-1}), \qquad
        \theta_t = \theta_{t-1} + v_t, \qquad v_0 = 0 .

    B. T. Polyak, "Some methods of speeding up the convergence of iteration methods",
    *USSR Computational Mathematics and Mathematical Physics* 4(5):1–17, 1964.

    Parameters
    ----------
    grad : ``callable``
        :math:`\theta \mapsto \nabla L(\theta)`, e.g. ``surface.grad``.
    theta0 : ``array_like``
        :math:`\theta_0`.
    lr : float or ``callable``
        :math:`\eta`, or a schedule ``t -> lr`` (``t`` = steps already taken).
    momentum : float
        :math:`\beta \in [0, 1)`.
    steps : int
        Number of steps :math:`T`.

    Returns
    -------
    ``VelocityRun``
    """
    return _velocity_run(grad, theta0, lr, momentum, steps, lookahead=False)


def nesterov_lookahead(grad, theta0, lr, momentum, steps):
    r"""Nesterov's accelerated gradient with the look-ahead gradient (Sutskever et al. form).

    .. math::

        v_t = \beta v_{t-1} - \eta_t\,\nabla L(\theta_{t-1} + \beta v_{t-1}), \qquad
        \theta_t = \theta_{t-1} + v_t, \qquad v_0 = 0 .

    The gradient is read where the momentum is about to carry the parameters, so a
    step that would overshoot is corrected before it is taken.

    Y. Nesterov, "A method for solving the convex programming problem with convergence
    rate :math:`O(1/k^2)`", *Soviet Mathematics Doklady* 27:372–376, 1983;
    I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization
    and momentum in deep learning", ICML 2013.

    Parameters
    ----------
    grad : ``callable``
        :math:`\theta \mapsto \nabla L(\theta)`.
    theta0 : ``array_like``
    lr : float or ``callable``
        :math:`\eta`, or a schedule ``t -> lr``.
    momentum : float
        :math:`\beta \in [0, 1)`.
    steps : int

    Returns
    -------
    ``VelocityRun``
    """
    return _velocity_run(grad, theta0, lr, momentum, steps, lookahead=True)


# ====================================================================== momentum's noise
def buffer_noise(model, loss_fn, X, y, momenta, batch_size=64, draws=1000, seed=0):
    r"""How much noise is left in momentum's buffer, at fixed parameters.

    Draws ``draws`` mini-batch gradients :math:`g_1, g_2, \dots` at the model's current
    parameters :math:`\theta` and feeds them, in order, to ``optlib.SGD(lr=0,
    momentum=β)`` (so :math:`\theta` does not move), whose buffer is
    :math:`b_t = \beta b_{t-1} + g_t = \sum_{k<t} \beta^k g_{t-k}`. Divided by the sum of
    its weights, :math:`\hat b_t = b_t\,(1-\beta)/(1-\beta^t)` is a weighted average of
    the gradients that reproduces a constant gradient exactly (the same correction as
    Adam's). For each :math:`\beta` the function returns the mean relative squared error

    .. math::

        r(\beta) = \frac{\mathbb E\,\|\hat b_t - \nabla L(\theta)\|^2}{\|\nabla L(\theta)\|^2},

    averaged over the steps after a warm-up of :math:`5/(1-\beta)` steps (when
    :math:`\beta^t < 0.01`). For independent draws the weights' squares then sum to
    :math:`(1-\beta)/(1+\beta)`, so theory predicts
    :math:`r(\beta) \approx r(0)\,(1-\beta)/(1+\beta)`: the buffer is as noisy as an
    average of :math:`(1+\beta)/(1-\beta)` gradients. During training :math:`\theta`
    moves, and the older gradients in the average are also out of date; this function
    measures the noise alone.

    Parameters
    ----------
    model : ``Module``
        Not changed.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, a batch mean.
    X, y : ``ndarray``
        Training data, :math:`N` rows.
    momenta : ``sequence`` of float
        Values of :math:`\beta \in [0, 1)`; 0 gives the noise of one mini-batch gradient.
    batch_size : int
        :math:`B`, in [1, N]; each mini-batch is drawn without replacement.
    draws : int
        Mini-batch gradients to draw; at least every warm-up plus 10.
    seed : int
        Seeds the mini-batches.

    Returns
    -------
    ``ndarray``
        :math:`r(\beta)` for each entry of ``momenta``.
    """
    n = len(X)
    batch_size = checks.integer("batch_size", batch_size, low=1)
    draws = checks.integer("draws", draws, low=2)
    if batch_size > n:
        raise ValueError(f"batch_size must be in [1, N={n}], got {batch_size}")
    try:
        momenta = [float(b) for b in momenta]
    except (TypeError, ValueError):
        raise ValueError(f"momenta must be numbers in [0, 1), got {momenta!r}") from None
    if not momenta or not all(0 <= b < 1 for b in momenta):
        raise ValueError(f"momenta must be numbers in [0, 1), got {momenta!r}")
    # 1e-9: 5 / (1 - 0.9) is 50.000000000000014 in floating point, and means 50
    warmups = [math.ceil(5 / (1 - b) - 1e-9) if b > 0 else 0 for b in momenta]
    if draws < max(warmups) + 10:
        raise ValueError(f"draws must be >= {max(warmups) + 10} for these momenta, got {draws}")
    X = np.asarray(X, dtype=next(iter(model.parameters().values())).dtype)
    full = gradient(model, loss_fn, X, y)               # ∇L(θ) over all N examples
    rng = np.random.default_rng(seed)
    samples = [gradient(model, loss_fn, X[rows], y[rows])
               for rows in (rng.choice(n, size=batch_size, replace=False) for _ in range(draws))]
    signal = full @ full
    noise = []
    for beta, warmup in zip(momenta, warmups):
        # lr = 0: the buffer fills, the parameters (here a dummy) never move
        opt, dummy, errors = SGD(lr=0.0, momentum=beta), [np.zeros_like(full)], []
        for t, g in enumerate(samples, start=1):
            opt.step(dummy, [g])
            b = opt.state[0]["momentum_buffer"] if beta > 0 else g
            if t > warmup:
                d = b * ((1 - beta) / (1 - beta**t)) - full   # b̂_t - ∇L(θ)
                errors.append(d @ d)
        noise.append(np.mean(errors) / signal)
    return np.array(noise)


def stationary_variance(lr, momentum, eigenvalue=1.0, noise_variance=1.0):
    r"""The stationary variance of heavy ball's parameters on a quadratic with noisy gradients.

    Along an eigenvector with curvature :math:`\lambda`, with gradients
    :math:`g_t = \lambda e_{t-1} + \xi_t` whose noise :math:`\xi_t` is independent from step
    to step with variance :math:`\sigma^2`, heavy ball (``optlib.SGD(lr=η, momentum=β)``)
    is the recurrence :math:`e_t = (1+\beta-\eta\lambda)e_{t-1} - \beta e_{t-2} - \eta\xi_t`.
    Solving for its stationary second moments gives

    .. math::

        \operatorname{Var}(e) = \frac{\eta\,\sigma^2\,(1+\beta)}
        {\lambda\,(1-\beta)\,\big(2(1+\beta) - \eta\lambda\big)}
        = \frac{\alpha\,\sigma^2}{\lambda\,\big(2 - \eta\lambda/(1+\beta)\big)},
        \qquad \alpha = \frac{\eta}{1-\beta},

    which for :math:`\beta = 0` is plain SGD's :math:`\eta\sigma^2/(\lambda(2-\eta\lambda))`.
    At an equal terminal step size :math:`\alpha` the variance therefore depends on
    :math:`\beta` only through the small term :math:`\eta\lambda/(1+\beta)`: momentum does
    not make the parameters less noisy than SGD with the same :math:`\alpha` (Kidambi,
    Netrapalli, Jain & Kakade, "On the insufficiency of existing momentum schemes for
    stochastic optimization", ICLR 2018).

    Parameters
    ----------
    lr : float or ``array_like``
        :math:`\eta`, with :math:`0 < \eta\lambda < 2(1+\beta)` (the stable range).
    momentum : float or ``array_like``
        :math:`\beta \in [0, 1)`.
    eigenvalue : float
        :math:`\lambda > 0`.
    noise_variance : float
        :math:`\sigma^2 \ge 0`.

    Returns
    -------
    float or ``ndarray``
    """
    eta, beta = np.broadcast_arrays(_lr(lr), _momentum(momentum))
    lam = checks.real("eigenvalue", eigenvalue, low=0, low_open=True)
    sigma2 = checks.real("noise_variance", noise_variance, low=0)
    x = eta * lam
    if not np.all((x > 0) & (x < 2 * (1 + beta))):
        raise ValueError("lr * eigenvalue must be in (0, 2(1 + momentum)), where heavy ball is "
                         f"stable, got {x!r}")
    return _scalar(eta * sigma2 * (1 + beta) / (lam * (1 - beta) * (2 * (1 + beta) - x)))


# ====================================================================== quadratic theory
# --------------------------------------------------------------------------- checks


def _eigenvalues(eigenvalues):
    """The eigenvalues as a 1-D float64 array, all finite and > 0."""
    try:
        lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"eigenvalues must be finite numbers > 0, got {eigenvalues!r}") from None
    if lam.size == 0 or not np.all(np.isfinite(lam)) or not np.all(lam > 0):
        raise ValueError(f"eigenvalues must be finite numbers > 0, got {eigenvalues!r}")
    return lam


def _array(name, value, lo, hi, closed_hi=False):
    """``value`` as a float64 array with every entry in [lo, hi) (or [lo, hi])."""
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from None
    inside = (x >= lo) & ((x <= hi) if closed_hi else (x < hi))
    if not np.all(np.isfinite(x)) or not np.all(inside):
        interval = f"[{lo:g}, {hi:g}{']' if closed_hi else ')'}"
        raise ValueError(f"{name} must be finite and in {interval}, got {value!r}")
    return x


def _lr(lr):
    return _array("lr", lr, 0.0, math.inf)


def _momentum(momentum):
    return _array("momentum", momentum, 0.0, 1.0)


def _scalar(x):
    """A 0-d array as a Python float; arrays stay arrays."""
    return float(x) if np.ndim(x) == 0 else x


def _root_radius(a, c):
    r"""Largest :math:`|z|` over the roots of :math:`z^2 - a z + c` (real a, c; broadcast).

    Complex roots (:math:`a^2 < 4c`) have :math:`|z| = \sqrt c`; real ones
    :math:`(a \pm \sqrt{a^2-4c})/2`, the larger modulus being
    :math:`(|a| + \sqrt{a^2-4c})/2`.
    """
    disc = a * a - 4 * c
    with np.errstate(invalid="ignore"):
        real = (np.abs(a) + np.sqrt(np.maximum(disc, 0.0))) / 2
        return np.where(disc < 0, np.sqrt(np.abs(c)), real)


def _worst(per_eigenvalue):
    """Largest rate over the eigenvalue axis (the last one)."""
    return _scalar(np.max(per_eigenvalue, axis=-1))


# --------------------------------------------------------------------------- rates


def condition_number(eigenvalues):
    r""":math:`\kappa = \lambda_{\max}/\lambda_{\min}`.

    Parameters
    ----------
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    float
    """
    lam = _eigenvalues(eigenvalues)
    return float(lam.max() / lam.min())


def gd_rate(lr, eigenvalues):
    r"""Rate of gradient descent on a quadratic: :math:`\max_i |1 - \eta\lambda_i|`.

    The error along eigenvector :math:`i` is multiplied by :math:`1-\eta\lambda_i` at
    every step, so the slowest direction sets the rate. Above 1 the run diverges.

    Parameters
    ----------
    lr : float or ``array_like``
        :math:`\eta \ge 0`; an array gives one rate per entry.
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    float or ``ndarray``
        The rate, with the shape of ``lr``.
    """
    lam = _eigenvalues(eigenvalues)
    eta = _lr(lr)[..., None]
    return _worst(np.abs(1 - eta * lam))


def gd_optimal(eigenvalues):
    r"""The learning rate that makes gradient descent fastest, and its rate.

    .. math::

        \eta^\star = \frac{2}{\lambda_{\min} + \lambda_{\max}}, \qquad
        \rho^\star = \frac{\kappa - 1}{\kappa + 1},

    where the errors along the flattest and the steepest direction shrink by the same
    factor (the second with alternating sign).

    Parameters
    ----------
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    lr : float
        :math:`\eta^\star`.
    rate : float
        :math:`\rho^\star`.
    """
    lam = _eigenvalues(eigenvalues)
    kappa = lam.max() / lam.min()
    return float(2 / (lam.min() + lam.max())), float((kappa - 1) / (kappa + 1))


def heavy_ball_rate(lr, momentum, eigenvalues):
    r"""Rate of heavy-ball momentum on a quadratic.

    Along an eigenvector with eigenvalue :math:`\lambda` the error obeys
    :math:`e_t = (1+\beta-\eta\lambda)\,e_{t-1} - \beta\,e_{t-2}` (Polyak 1964), whose
    characteristic polynomial is

    .. math::

        z^2 - (1 + \beta - \eta\lambda)\,z + \beta = 0 .

    When the roots are complex (the under-damped case,
    :math:`(1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2`) both have modulus
    :math:`\sqrt\beta`, whatever :math:`\eta`; otherwise the larger real root sets the
    rate. This is the same for PyTorch's form and the classical velocity form, which
    produce the same iterates.

    Parameters
    ----------
    lr : float or ``array_like``
        :math:`\eta \ge 0`.
    momentum : float or ``array_like``
        :math:`\beta \in [0, 1)`; broadcast against ``lr``.
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    float or ``ndarray``
        The largest root modulus over the eigenvalues, shape of ``lr`` and
        ``momentum`` broadcast.
    """
    lam = _eigenvalues(eigenvalues)
    eta, beta = np.broadcast_arrays(_lr(lr), _momentum(momentum))
    eta, beta = eta[..., None], beta[..., None]
    return _worst(_root_radius(1 + beta - eta * lam, beta))


def heavy_ball_optimal(eigenvalues):
    r"""The heavy-ball settings that converge fastest on a quadratic, and their rate.

    .. math::

        \eta^\star = \Big(\frac{2}{\sqrt{\lambda_{\min}} + \sqrt{\lambda_{\max}}}\Big)^2,
        \qquad
        \beta^\star = \Big(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Big)^2,
        \qquad
        \rho^\star = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1} = \sqrt{\beta^\star}.

    With these, the flattest and the steepest direction are both critically damped
    (double roots at :math:`\pm\sqrt{\beta^\star}`) and every direction in between is
    under-damped with modulus :math:`\sqrt{\beta^\star}` (Polyak 1964). Gradient descent
    has :math:`\kappa` where this has :math:`\sqrt\kappa`.

    Parameters
    ----------
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    lr : float
    momentum : float
    rate : float
    """
    lam = _eigenvalues(eigenvalues)
    lo, hi = math.sqrt(lam.min()), math.sqrt(lam.max())
    rate = (hi - lo) / (hi + lo)                      # (√κ - 1)/(√κ + 1)
    return float((2 / (lo + hi)) ** 2), float(rate**2), float(rate)


def heavy_ball_stable(lr, momentum, eigenvalues):
    r"""Whether heavy-ball momentum converges: :math:`0 < \eta\lambda < 2 + 2\beta` for every :math:`\lambda`.

    The roots of :math:`z^2 - (1+\beta-\eta\lambda)z + \beta` lie inside the unit
    circle exactly when :math:`|\beta| < 1` and :math:`|1+\beta-\eta\lambda| < 1+\beta`
    (the Schur–Cohn, or Jury, conditions for a quadratic), which for
    :math:`0 \le \beta < 1` is :math:`0 < \eta\lambda < 2(1+\beta)`. Momentum thus
    allows learning rates up to :math:`2(1+\beta)/\lambda_{\max}`, almost twice gradient
    descent's limit :math:`2/\lambda_{\max}` when :math:`\beta` is near 1.

    Parameters
    ----------
    lr : float or ``array_like``
    momentum : float or ``array_like``
        :math:`\beta \in [0, 1)`.
    eigenvalues : ``array_like``

    Returns
    -------
    bool or ``ndarray`` of bool
    """
    lam = _eigenvalues(eigenvalues)
    eta, beta = np.broadcast_arrays(_lr(lr), _momentum(momentum))
    x = eta[..., None] * lam
    ok = np.all((x > 0) & (x < 2 + 2 * beta[..., None]), axis=-1)
    return bool(ok) if ok.ndim == 0 else ok


def critical_momentum(lr, eigenvalue):
    r"""The momentum that damps one direction critically: :math:`\beta_c = (1 - \sqrt{\eta\lambda})^2`.

    For :math:`\beta < \beta_c` the two roots are real and positive: the error creeps
    to 0 without crossing it (**over-damped**). At :math:`\beta_c` they coincide
    (**critically damped**), and for :math:`\beta > \beta_c` they are complex: the
    error oscillates around 0 inside an envelope :math:`\sqrt\beta^{\,t}`
    (**under-damped**). For a direction with :math:`\eta\lambda < 1` the rate
    :math:`\max|z|` is smallest at :math:`\beta_c`, where it equals
    :math:`\sqrt{\beta_c} = 1 - \sqrt{\eta\lambda}`.

    Parameters
    ----------
    lr : float or ``array_like``
        :math:`\eta > 0`.
    eigenvalue : float
        :math:`\lambda > 0`, with :math:`0 < \eta\lambda < 4` (beyond it no
        :math:`\beta < 1` is critical).

    Returns
    -------
    float or ``ndarray``
        With the shape of ``lr``.
    """
    x = _lr(lr) * checks.real("eigenvalue", eigenvalue, low=0, low_open=True)
    if not np.all((x > 0) & (x < 4)):
        raise ValueError(f"lr * eigenvalue must be in (0, 4), got {x!r}")
    return _scalar((1 - np.sqrt(x)) ** 2)


def nesterov_rate(lr, momentum, eigenvalues):
    r"""Rate of Nesterov momentum on a quadratic.

    With the gradient taken at the look-ahead point :math:`\theta + \beta v`, the error
    along an eigenvector obeys
    :math:`e_t = (1+\beta)(1-\eta\lambda)\,e_{t-1} - \beta(1-\eta\lambda)\,e_{t-2}`:
    both coefficients are heavy-ball's with the momentum multiplied by
    :math:`1 - \eta\lambda`. In a steep direction, where the gradient is large, the
    effective momentum is smaller, so oscillations die faster: complex roots have
    modulus :math:`\sqrt{\beta(1-\eta\lambda)}` instead of :math:`\sqrt\beta`
    (Sutskever et al. 2013). PyTorch's ``nesterov=True`` follows the same recurrence.

    Parameters
    ----------
    lr : float or ``array_like``
    momentum : float or ``array_like``
        :math:`\beta \in [0, 1)`.
    eigenvalues : ``array_like``

    Returns
    -------
    float or ``ndarray``
    """
    lam = _eigenvalues(eigenvalues)
    eta, beta = np.broadcast_arrays(_lr(lr), _momentum(momentum))
    eta, beta = eta[..., None], beta[..., None]
    shrink = 1 - eta * lam
    return _worst(_root_radius((1 + beta) * shrink, beta * shrink))


def nesterov_standard(eigenvalues):
    r"""Nesterov's setting for a strongly convex function, and its rate on a quadratic.

    .. math::

        \eta = \frac{1}{\lambda_{\max}}, \qquad
        \beta = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}, \qquad
        \rho = 1 - \frac{1}{\sqrt\kappa} .

    With these, the steepest direction is solved in one step
    (:math:`1 - \eta\lambda_{\max} = 0`) and the flattest one is critically damped,
    with a double root at :math:`1 - 1/\sqrt\kappa`. The rate is about half as fast as
    heavy ball's best, :math:`1 - 2/\sqrt\kappa`, but Nesterov proved his for every
    smooth strongly convex function, where heavy ball's tuned rate can fail
    (Nesterov, *Introductory Lectures on Convex Optimization*, 2004, §2.2; Lessard,
    Recht & Packard 2016).

    Parameters
    ----------
    eigenvalues : ``array_like``
        Eigenvalues of :math:`A`, all > 0.

    Returns
    -------
    lr : float
    momentum : float
    rate : float
    """
    lam = _eigenvalues(eigenvalues)
    root = math.sqrt(lam.max() / lam.min())
    return float(1 / lam.max()), float((root - 1) / (root + 1)), float(1 - 1 / root)


# --------------------------------------------------------------------------- measurements


def distances(trajectory, minimum):
    r"""The distance to the minimum at every step, :math:`\|\theta_t - \theta^\star\|`.

    Parameters
    ----------
    trajectory : ``Trajectory`` or ``array_like``
        A run (its ``path``) or a path of shape ``(steps + 1, d)``.
    minimum : ``array_like``
        :math:`\theta^\star`, shape ``(d,)``, e.g. ``surface.minima[0]``.

    Returns
    -------
    ``ndarray``
        Shape ``(steps + 1,)``.
    """
    path = np.asarray(getattr(trajectory, "path", trajectory), dtype=np.float64)
    minimum = np.asarray(minimum, dtype=np.float64)
    if path.ndim != 2 or minimum.shape != (path.shape[1],):
        raise ValueError(f"trajectory must have shape (steps + 1, d) and minimum shape (d,), "
                         f"got {path.shape} and {minimum.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        return np.linalg.norm(path - minimum, axis=1)


def eigen_coordinates(trajectory, surface):
    r"""The error :math:`\theta_t - \theta^\star` along each eigenvector of a quadratic.

    On a quadratic the methods of this module act on each eigen-direction separately,
    so these coordinates show the scalar recurrences themselves: the flattest
    direction (the floor of a valley) first, the steepest (across it) last. Each
    eigenvector's sign is chosen so that the start has a coordinate >= 0.

    Parameters
    ----------
    trajectory : ``Trajectory`` or ``array_like``
        A run on ``surface`` or its path, shape ``(steps + 1, d)``.
    surface : ``Quadratic``
        Anything with a symmetric matrix ``A`` and ``minima``.

    Returns
    -------
    ``ndarray``
        Shape ``(steps + 1, d)``; column ``i`` belongs to the ``i``-th smallest
        eigenvalue.
    """
    path = np.asarray(getattr(trajectory, "path", trajectory), dtype=np.float64)
    A = np.asarray(getattr(surface, "A", None), dtype=np.float64)
    if A.ndim != 2 or path.ndim != 2 or A.shape != (path.shape[1], path.shape[1]):
        raise ValueError(f"surface must have a (d, d) matrix A matching the path's d, got "
                         f"A of shape {A.shape} and a path of shape {path.shape}")
    _, vectors = np.linalg.eigh(A)                    # ascending eigenvalues
    with np.errstate(over="ignore", invalid="ignore"):
        coords = (path - np.asarray(surface.minima[0], dtype=np.float64)) @ vectors
    flip = np.where(coords[0] < 0, -1.0, 1.0)
    return coords * flip


def _errors(errors):
    e = np.asarray(errors, dtype=np.float64)
    if e.ndim != 1:
        raise ValueError(f"errors must be a 1-D array (one distance per step), got shape {e.shape}")
    return e


def measured_rate(errors, start=None, stop=None, windows=8):
    r"""The per-step factor by which a run's error shrinks (or grows), measured.

    An error that oscillates, :math:`e_t \approx C\rho^t|\cos(\omega t + \phi)|`, has no
    single ratio :math:`e_t/e_{t-1}`; its **envelope** :math:`C\rho^t` does. The
    steps ``start .. stop`` are cut into ``windows`` equal windows; the largest error
    in each window lies on the envelope, and the slope of a least-squares line
    through their logarithms against their step numbers is :math:`\ln\rho`. For a
    run that does not oscillate this is the geometric mean of
    :math:`e_t/e_{t-1}`. The windows must each be longer than one oscillation.

    Parameters
    ----------
    errors : ``array_like``
        :math:`e_0, e_1, \dots` (e.g. from :func:`distances`), finite and >= 0 in
        the measured range, with a positive value in every window.
    start, stop : int, optional
        The steps to measure on (``stop`` excluded); default: the second half of the
        run, after the start-up transient.
    windows : int
        Number of windows, >= 2.

    Returns
    -------
    float
        :math:`\rho`: below 1 the run converges, above 1 it diverges.
    """
    e = _errors(errors)
    n = len(e)
    start = n // 2 if start is None else int(start)
    stop = n if stop is None else int(stop)
    windows = checks.integer("windows", windows, low=2)
    if not 0 <= start < stop <= n or stop - start < 2 * windows:
        raise ValueError(f"start and stop must satisfy 0 <= start < stop <= {n} with at least "
                         f"2 * windows = {2 * windows} steps between them, got {start}, {stop}")
    segment = e[start:stop]
    if not np.all(np.isfinite(segment)) or not np.all(segment >= 0):
        raise ValueError("errors must be finite and >= 0 on the measured steps "
                         "(measure before a run overflows)")
    edges = np.linspace(start, stop, windows + 1).astype(int)
    peaks = np.array([lo + np.argmax(e[lo:hi]) for lo, hi in zip(edges[:-1], edges[1:])])
    if not np.all(e[peaks] > 0):
        raise ValueError("errors must not be 0 throughout a window (measure before a run "
                         "reaches the minimum exactly or underflows)")
    slope = np.polyfit(peaks, np.log(e[peaks]), 1)[0]
    return float(np.exp(slope))


def steps_to_shrink(errors, factor=1e-6):
    r"""First step :math:`t` with :math:`e_t \le` ``factor`` :math:`\cdot\, e_0`.

    Parameters
    ----------
    errors : ``array_like``
        :math:`e_0, e_1, \dots`, with :math:`e_0 > 0`.
    factor : float
        In (0, 1).

    Returns
    -------
    int or None
        ``None`` if the run never got there.
    """
    e = _errors(errors)
    factor = float(_array("factor", factor, 0.0, 1.0))
    if factor == 0:
        raise ValueError("factor must be in (0, 1), got 0.0")
    if not (len(e) and np.isfinite(e[0]) and e[0] > 0):
        raise ValueError("errors[0] must be a finite number > 0")
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(e <= factor * e[0])
    return int(hits[0]) if hits.size else None


def predicted_steps(rate, factor=1e-6, critical=False):
    r"""Steps needed to shrink an error by ``factor`` at a given rate.

    For an error :math:`\rho^t e_0` this is :math:`\lceil \ln(\text{factor}) / \ln\rho \rceil`.
    A critically damped direction (a double root :math:`\pm\rho`) decays more slowly,
    like :math:`(c_0 + c_1 t)\rho^t`. Started from rest with heavy ball's first step
    :math:`\theta_1 = \theta_0 - \eta g_1`, the error along the direction with the root
    :math:`-\rho` is exactly :math:`(1 + (1+\rho)t)(-\rho)^t e_0`, and along the one
    with :math:`+\rho` it is :math:`(1 + (1-\rho)t)\rho^t e_0`. With
    ``critical=True`` the function counts the steps for the larger of the two, which
    bounds the distance to the minimum at heavy ball's optimal setting
    (:func:`heavy_ball_optimal`) on a quadratic with two eigenvalues.

    Parameters
    ----------
    rate : float
        :math:`\rho \in (0, 1)`.
    factor : float
        In (0, 1).
    critical : bool
        Count the steps for :math:`(1 + (1+\rho)t)\rho^t \le` ``factor`` instead of
        :math:`\rho^t \le` ``factor``.

    Returns
    -------
    int
    """
    rate = float(_array("rate", rate, 0.0, 1.0))
    factor = float(_array("factor", factor, 0.0, 1.0))
    if rate == 0 or factor == 0:
        raise ValueError(f"rate and factor must be in (0, 1), got {rate} and {factor}")
    # the tiny slack keeps an exact power (rate**k == factor) from rounding up to k + 1
    t = int(math.ceil(math.log(factor) / math.log(rate) - 1e-9))
    if critical:
        # (1 + (1+ρ)t)ρ^t >= ρ^t, so the answer is at least t; walk up from there.
        while math.log1p((1 + rate) * t) + t * math.log(rate) > math.log(factor):
            t += 1
    return t


def measure(optimizer, surface, steps, factor=1e-6, windows=8):
    r"""Run an optimizer on a surface and measure its rate and its steps to shrink the error.

    Runs ``optlib.surfaces.run(optimizer, surface, steps=steps)`` from
    ``surface.start``, takes the distance to ``surface.minima[0]`` at every step
    (:func:`distances`), and returns :func:`measured_rate` over the second half of
    the run and :func:`steps_to_shrink` by ``factor``. A run whose error stays exactly
    0 from some step on (an exact solve) or overflows is measured up to that step; if
    fewer than ``2 * windows`` steps remain, its rate is reported as 0 or ``inf``.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh one (its state carries over between runs).
    surface : ``Surface``
        With a single minimum, e.g. a ``Quadratic``.
    steps : int
        Long enough to pass ``factor``.
    factor : float
        In (0, 1).
    windows : int
        Passed to :func:`measured_rate`.

    Returns
    -------
    rate : float
    steps : int or None
    """
    errors = distances(run(optimizer, surface, steps=steps), surface.minima[0])
    finite = np.isfinite(errors)
    end = len(errors) if finite.all() else int(np.argmin(finite))      # first overflow
    positive = np.flatnonzero(errors[:end] > 0)
    solved = end == len(errors) and positive.size and positive[-1] < end - 1
    if solved:                                          # exactly 0 from some step on
        end = int(positive[-1]) + 1
    if end < 2 * windows:
        rate = 0.0 if solved else math.inf
    else:
        rate = measured_rate(errors[:end], windows=windows)
    return rate, steps_to_shrink(errors, factor)
