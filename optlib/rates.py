r"""Effective per-coordinate learning rates of the adaptive optimizers.

AdaGrad, RMSprop and AdaDelta all take a step :math:`\theta_t = \theta_{t-1} -
\eta_{t} \odot g_t` whose rate :math:`\eta_t` differs from coordinate to coordinate.
This module reads that rate from an optimizer's state (``effective_rate``), records
it while an optimizer runs (``RateRecorder``, ``run_with_rates``), and describes the
exponential moving average that RMSprop and AdaDelta use in place of AdaGrad's sum
(``ema_weights``, ``ema_window``, ``half_life``).
"""

import math
import numbers

import numpy as np

from .adam_family import adam_effective_rate
from .optim import Adadelta, Adagrad, Adam, OptimizerWrapper, RMSprop
from .surfaces import Surface, run

__all__ = ["effective_rate", "RateRecorder", "run_with_rates", "updates", "ema_weights",
           "ema_window", "half_life"]


def effective_rate(optimizer, key=0):
    r"""The per-coordinate learning rate that an adaptive optimizer's state implies.

    After step :math:`t` (read from ``optimizer.state[key]``):

    * ``Adagrad``: :math:`\eta_t / (\sqrt{G_t} + \epsilon)` with
      :math:`\eta_t = \eta / (1 + (t-1)\,\text{lr\_decay})`, the rate step :math:`t`
      applied to :math:`g_t`;
    * ``RMSprop``: :math:`\eta / (\sqrt{v_t} + \epsilon)` (centered:
      :math:`\sqrt{v_t - \bar g_t^2}`), the rate step :math:`t` applied to
      :math:`g_t` (with momentum, the rate at which :math:`g_t` enters the buffer);
    * ``Adadelta``: :math:`\eta\,\sqrt{u_t + \epsilon} / \sqrt{v_t + \epsilon}`, the
      rate the next step would apply to a gradient of the current RMS size;
    * ``Adam`` and its subclasses: :math:`\eta / (\sqrt{\hat v_t} + \epsilon)`
      (``optlib.adam_family.adam_effective_rate``), the rate that multiplies
      :math:`\hat m_t`.

    A coordinate that has had no gradient yet (AdaGrad's :math:`G = 0`) gets
    :math:`\eta/\epsilon`: huge, but it multiplies a zero gradient.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop``, ``Adadelta`` or ``Adam``
        An optlib optimizer (``optlib.optim``).
    key : int or str
        Which parameter array: its index in the ``params`` list or its name in the
        ``params`` dict given to ``step``.

    Returns
    -------
    ``ndarray``
        Same shape as the parameter array.
    """
    if not isinstance(optimizer, (Adagrad, RMSprop, Adadelta, Adam)):
        raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                        f"got {type(optimizer).__name__}")
    state = optimizer.state.get(key)
    if state is None:
        known = sorted(map(str, optimizer.state)) or "none yet (no step taken)"
        raise KeyError(f"no state for key {key!r}; the optimizer has state for {known}")
    if isinstance(optimizer, Adam):
        return adam_effective_rate(optimizer, key)
    h = optimizer.hyper
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(optimizer, Adagrad):
            lr = h["lr"] / (1 + (state["step"] - 1) * h["lr_decay"])
            return lr / (np.sqrt(state["sum"]) + h["eps"])
        if isinstance(optimizer, RMSprop):
            v = state["square_avg"]
            if h["centered"]:
                v = v - state["grad_avg"] ** 2
            return h["lr"] / (np.sqrt(v) + h["eps"])
        u, v, eps = state["acc_delta"], state["square_avg"], h["eps"]
        return h["lr"] * np.sqrt(u + eps) / np.sqrt(v + eps)


class RateRecorder(OptimizerWrapper):
    r"""Wraps an optimizer and records its effective rate after every step.

    It behaves like the optimizer (``step`` and ``lr``), so it can be passed to
    ``optlib.fit`` or ``optlib.run``; the optimizer itself does the work.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
        The optimizer to watch.
    key : int or str
        Which parameter array to record (see ``effective_rate``).
    reduce : callable, optional
        Applied to each rate array before it is stored, e.g. ``np.median`` to keep
        one number per step instead of the whole array.
    every : int
        Record after every ``every``-th step only.
    step_sizes : bool
        Also record the (reduced) size of the step itself,
        :math:`|\theta_t - \theta_{t-1}|`, in ``sizes``.

    Attributes
    ----------
    optimizer
        The wrapped optimizer.
    steps : ``ndarray``
        The step numbers :math:`t` at which rates were recorded.
    rates : ``ndarray``
        One row per recorded step: the (reduced) rate array.
    sizes : ``ndarray``
        With ``step_sizes=True``: one row per recorded step, the (reduced)
        :math:`|\theta_t - \theta_{t-1}|`.
    """

    def __init__(self, optimizer, key=0, reduce=None, every=1, step_sizes=False):
        if not isinstance(optimizer, (Adagrad, RMSprop, Adadelta, Adam)):
            raise TypeError("optimizer must be an optlib Adagrad, RMSprop, Adadelta or Adam, "
                            f"got {type(optimizer).__name__}")
        if reduce is not None and not callable(reduce):
            raise TypeError(f"reduce must be a callable or None, got {reduce!r}")
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        super().__init__(optimizer)
        self.key, self.reduce, self.every = key, reduce, int(every)
        self.step_sizes = bool(step_sizes)
        self._steps, self._rates, self._sizes, self._t = [], [], [], 0

    def step(self, params, grads):
        """One step of the wrapped optimizer, then record its effective rate."""
        recording = (self._t + 1) % self.every == 0
        if recording and self.step_sizes:
            before = np.array(params[self.key], copy=True)
        super().step(params, grads)
        self._t += 1
        if recording:
            rate = effective_rate(self.optimizer, self.key)
            self._rates.append(self.reduce(rate) if self.reduce else rate.copy())
            self._steps.append(self._t)
            if self.step_sizes:
                size = np.abs(params[self.key] - before)
                self._sizes.append(self.reduce(size) if self.reduce else size)

    @property
    def steps(self):
        return np.array(self._steps, dtype=np.int64)

    @property
    def rates(self):
        return np.array(self._rates)

    @property
    def sizes(self):
        return np.array(self._sizes)


def run_with_rates(optimizer, surface, start=None, steps=100):
    r"""``optlib.run`` that also returns the effective rate of both coordinates.

    Parameters
    ----------
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
        A fresh optimizer.
    surface : ``Surface``
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps :math:`T`.

    Returns
    -------
    trajectory : ``Trajectory``
        As ``optlib.run`` returns it.
    rates : ``ndarray``
        Shape ``(steps, 2)``: row :math:`t-1` is the rate of step :math:`t`
        (``effective_rate``).
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    recorder = RateRecorder(optimizer)
    trajectory = run(recorder, surface, start=start, steps=steps)
    return trajectory, recorder.rates.reshape(-1, 2)


def updates(optimizer, grads):
    r"""The updates :math:`\theta_t - \theta_{t-1}` an optimizer makes for given gradients.

    The gradients are fed in as they are, whatever :math:`\theta` does (as if the loss
    were a straight slope whose tilt you choose at every step), so the result shows
    the optimizer's rule alone: how it answers a constant gradient, a sudden drop in the
    gradient's size, and so on. :math:`\theta_0 = 0`.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optlib optimizer (any kind).
    grads : ``array_like``
        Shape ``(T,)`` for one coordinate or ``(T, d)`` for ``d`` coordinates:
        :math:`g_1, \dots, g_T`.

    Returns
    -------
    ``ndarray``
        Same shape as ``grads``, ``float64``: row :math:`t-1` is
        :math:`\theta_t - \theta_{t-1}`.
    """
    grads = np.asarray(grads, dtype=np.float64)
    if grads.ndim not in (1, 2) or len(grads) == 0:
        raise ValueError(f"grads must have shape (T,) or (T, d) with T >= 1, got {grads.shape}")
    rows = grads.reshape(len(grads), -1)
    theta = np.zeros(rows.shape[1])
    out = np.empty_like(rows)
    for t, g in enumerate(rows):
        before = theta.copy()
        optimizer.step([theta], [g.copy()])
        out[t] = theta - before
    return out.reshape(grads.shape)


def _decay(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not math.isfinite(alpha) or not 0 <= alpha < 1:
        raise ValueError(f"alpha must be a number in [0, 1), got {alpha!r}")
    return float(alpha)


def ema_weights(alpha, steps):
    r"""The weight of the gradient from :math:`k` steps ago in an exponential moving average.

    Unrolling :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2` from :math:`v_0 = 0`,

    .. math::

        v_t = \sum_{k=0}^{t-1} (1-\alpha)\,\alpha^k\, g_{t-k}^2 ,

    so the squared gradient of :math:`k` steps ago has weight
    :math:`(1-\alpha)\alpha^k`. The weights of all :math:`t` gradients sum to
    :math:`1 - \alpha^t` (the missing :math:`\alpha^t` is the weight of :math:`v_0 = 0`,
    the reason for Adam's bias correction). AdaGrad's sum gives every gradient weight 1.

    Parameters
    ----------
    alpha : float
        :math:`\alpha \in [0, 1)` (PyTorch's ``alpha``, Keras's ``rho``).
    steps : int
        Number of weights, :math:`k = 0, \dots, \text{steps}-1`.

    Returns
    -------
    ``ndarray``
        Shape ``(steps,)``.
    """
    alpha = _decay(alpha)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    return (1 - alpha) * alpha ** np.arange(int(steps), dtype=np.float64)


def ema_window(alpha):
    r"""The averaging window :math:`1/(1-\alpha)` of an exponential moving average, in steps.

    It is the mean age :math:`\sum_k (k+1)(1-\alpha)\alpha^k` of the gradients in the
    average: an average over "the last :math:`1/(1-\alpha)` steps" (10 for
    :math:`\alpha = 0.9`, 100 for 0.99).
    """
    return 1.0 / (1.0 - _decay(alpha))


def half_life(alpha):
    r"""Steps after which a gradient's weight has halved: :math:`\ln 2 / \ln(1/\alpha)`.

    About :math:`0.69/(1-\alpha)` for :math:`\alpha` near 1 (6.6 steps for 0.9, 69
    for 0.99); 0 for :math:`\alpha = 0`, which forgets a gradient at once.
    """
    alpha = _decay(alpha)
    return 0.0 if alpha == 0 else math.log(2) / math.log(1 / alpha)
