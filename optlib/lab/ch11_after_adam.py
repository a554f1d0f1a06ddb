r"""Chapter 11 (after Adam): memory, factored moments, Muon with AdamW, schedule-free runs, profiles.

Chapter 11 puts Adafactor, Lion, Muon and schedule-free AdamW (``optlib.optim``) beside
AdamW and SGD with momentum, with chapter 6's rules of a fair race
(:mod:`optlib.lab.ch06_comparing_optimizers`: one grid of rates, each optimizer at its
own tuned rate, the same budget, paired seeds). What only this chapter needs:

* **memory**: :func:`state_bytes`, the bytes an optimizer keeps per model, and
  :func:`factored` / :func:`best_rank_one`, Adafactor's rank-one estimate of a second
  moment and the best rank-one approximation, to compare with the full one;
* **Muon with AdamW**: :class:`MuonWithAdamW`, Muon on the hidden weight matrices and
  AdamW on everything else (optlib's optimizers take one rule for all arrays);
* **the field**: :data:`NAMES` and :func:`make` (the registry's optimizers, with "Muon"
  meaning :class:`MuonWithAdamW`), :data:`GRID`, :func:`network` (the MLP and the small
  CNN), :func:`train`, :func:`tune`;
* **schedule-free**: :func:`train` evaluates at the averaged point :math:`x`
  (``opt.eval``), and records the loss at both points every epoch;
* **reporting**: :func:`update_rms` (the size of a step per coordinate) and
  :func:`performance_profile` (Dolan & Moré 2002).

Use::

    from optlib.lab import ch11_after_adam as lab
    run = lab.train(lab.make("Muon", 0.01), X, y, epochs=20, seed=1)
    run.train_loss, run.val_acc          # at the point one evaluates (x for schedule-free)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optlib import checks
from optlib.lab.ch06_comparing_optimizers import Sweep, lr_grid
from optlib.nn import MLP
from optlib.nn.conv import small_cnn
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import AdamW, Muon, registry
from optlib.train.loop import evaluate, fit

__all__ = ["NAMES", "GRID", "state_bytes", "factored", "best_rank_one", "MuonWithAdamW", "network",
           "make", "Run", "train", "tune", "update_rms", "performance_profile"]

#: The race of chapter 11: chapter 6's two references, then the four after Adam.
NAMES = ("Momentum", "AdamW", "Adafactor", "Lion", "Muon", "Schedule-free AdamW")

#: The chapter's grid of rates, ``1e-4, 3e-4, …, 1, 3`` (10 rates, two per decade).
GRID = lr_grid(1e-4, 3.0)


# --------------------------------------------------------------------------- memory


def _optimizers(optimizer):
    return getattr(optimizer, "optimizers", (optimizer,))


def state_bytes(optimizer):
    """Bytes of the arrays an optimizer keeps between steps (its ``state``).

    Counts every NumPy array in ``optimizer.state`` (moments, buffers, factors,
    the schedule-free ``z``), not the parameters themselves nor scalars such as the
    step count; for :class:`MuonWithAdamW`, the sum over its two optimizers. The state
    exists once the optimizer has taken a step.
    """
    total = 0
    for opt in _optimizers(optimizer):
        for entries in opt.state.values():
            total += sum(v.nbytes for v in entries.values() if isinstance(v, np.ndarray))
    return total


def factored(v):
    r"""Adafactor's rank-one estimate of a second moment :math:`V` (an n×m array).

    .. math::

        R = \mathrm{mean}_{\text{cols}}(V),\quad C = \mathrm{mean}_{\text{rows}}(V),\quad
        \hat V = R\,C / \mathrm{mean}(R)

    the row and column averages Adafactor keeps (``row_var``, ``col_var``: :math:`n + m`
    numbers) and the estimate it divides by. Averages are linear, so the factors of a
    moving average of :math:`g^2` are the moving averages of the factors: this is what
    Adafactor would hold, with the same :math:`\beta_2`, on the same gradients.
    """
    v = np.asarray(v, dtype=float)
    if v.ndim != 2:
        raise ValueError(f"v must be a 2-D array, got shape {v.shape}")
    row = v.mean(axis=1, keepdims=True)
    col = v.mean(axis=0, keepdims=True)
    scale = row.mean()
    return row @ col / scale if scale > 0 else np.zeros_like(v)


def best_rank_one(v):
    """The best rank-one approximation of ``v`` in Frobenius norm (first singular triple)."""
    v = np.asarray(v, dtype=float)
    u, s, vt = np.linalg.svd(v, full_matrices=False)
    return s[0] * np.outer(u[:, 0], vt[0])


# --------------------------------------------------------------------------- Muon with AdamW


class MuonWithAdamW:
    r"""Muon on the hidden weight matrices, AdamW on biases and the output layer.

    optlib's optimizers apply one rule to every array they are given; Muon's authors
    give it only the hidden layers' weights and AdamW the rest (Jordan et al. 2024).
    This object routes each array of ``params``: an array of two or more dimensions
    that is not the last one of that kind (the output layer) goes to ``Muon``, as a
    matrix (a convolution's filters ``(out, in, k, k)`` flattened to ``(out, in·k·k)``,
    as Jordan's reference does); every other array goes to ``AdamW``.

    One learning rate serves both: Muon uses ``adjust_lr_fn="match_rms_adamw"``
    (Liu et al. 2025), which scales its orthogonal step to about AdamW's RMS, so AdamW's
    rate fits it. Other hyper-parameters keep PyTorch's defaults (Muon's weight decay
    0.1, AdamW's 0.01).

    Parameters
    ----------
    lr : float
        :math:`\eta` for both optimizers.
    """

    def __init__(self, lr=1e-3):
        self.muon = Muon(lr=lr, adjust_lr_fn="match_rms_adamw")
        self.adamw = AdamW(lr=lr)
        self.optimizers = (self.muon, self.adamw)
        self.muon_keys = None

    @property
    def lr(self):
        """The learning rate :math:`\\eta` of both optimizers."""
        return self.muon.lr

    @lr.setter
    def lr(self, value):
        self.muon.lr = value
        self.adamw.lr = value

    @property
    def hyper(self):
        """Muon's hyper-parameters (AdamW's are PyTorch's defaults at the same ``lr``)."""
        return self.muon.hyper

    def _route(self, params):
        if not isinstance(params, dict):
            raise TypeError("MuonWithAdamW needs params as a dict name -> array")
        matrices = [k for k, p in params.items() if p.ndim >= 2]
        return tuple(matrices[:-1])

    def step(self, params, grads):
        """Muon steps the hidden matrices, AdamW the rest, each in place."""
        if self.muon_keys is None:
            self.muon_keys = self._route(params)
        hidden = set(self.muon_keys)
        self.muon.step({k: params[k].reshape(params[k].shape[0], -1) for k in self.muon_keys},
                       {k: None if grads[k] is None else grads[k].reshape(grads[k].shape[0], -1)
                        for k in self.muon_keys})
        self.adamw.step({k: p for k, p in params.items() if k not in hidden},
                        {k: g for k, g in grads.items() if k not in hidden})

    def __repr__(self):
        return f"MuonWithAdamW(lr={self.lr!r}, muon={self.muon_keys})"


def make(name, lr=None):
    """A fresh optimizer of the chapter's race: ``registry.make``, except that "Muon"
    is :class:`MuonWithAdamW` (Muon alone cannot step biases)."""
    if name == "Muon":
        return MuonWithAdamW(lr=registry.default_lr("Muon") if lr is None else lr)
    return registry.make(name, lr)


# --------------------------------------------------------------------------- training


@dataclass(frozen=True, eq=False)
class Run:
    """One training run, measured where it is used (schedule-free: at :math:`x`).

    Attributes
    ----------
    history : ``History``
        ``optlib.fit``'s record; for schedule-free AdamW its losses are at the
        gradient point :math:`y`.
    curve : ``ndarray``
        Training loss at the evaluation point after every epoch (epoch 0 first).
    curve_y : ``ndarray``
        Training loss at the point the gradients are taken (the same as ``curve``
        except for schedule-free AdamW).
    train_loss, val_acc : float
        Final training loss and validation accuracy at the evaluation point.
    """

    history: object
    curve: np.ndarray
    curve_y: np.ndarray
    train_loss: float
    val_acc: float


class _AtEvalPoint:
    """A callback: the training loss at the evaluation point after every epoch."""

    def __init__(self, optimizer, X, y):
        self.optimizer, self.X, self.y, self.losses = optimizer, X, y, []

    def measure(self, model):
        params = model.parameters()
        switch = hasattr(self.optimizer, "eval") and getattr(self.optimizer, "train_mode", False)
        if switch:
            self.optimizer.eval(params)
        loss, _ = evaluate(model, softmax_cross_entropy, self.X, self.y)
        if switch:
            self.optimizer.train(params)
        return loss

    def on_epoch_end(self, epoch, history, model):
        self.losses.append(self.measure(model))


def network(kind, seed):
    """The chapter's networks: ``"mlp"`` is ``MLP([64, 32, 10])``, ``"cnn"`` ``small_cnn``."""
    kind = checks.one_of("kind", kind, ("mlp", "cnn"))
    return MLP([64, 32, 10], seed=seed) if kind == "mlp" else small_cnn(seed=seed)


def train(optimizer, X, y, X_val=None, y_val=None, kind="mlp", epochs=20, batch_size=32,
          seed=0, schedule=None):
    """Train one of the chapter's networks with softmax cross-entropy and measure it.

    The network (:func:`network`) and the order of the mini-batches come from
    ``seed``, so seed ``k`` pairs the runs of different optimizers. After training,
    an optimizer with ``eval`` (schedule-free AdamW) is switched to its averaged point
    :math:`x` for the final measurements, and left there.

    Returns
    -------
    Run
    """
    model = network(kind, seed)
    probe = _AtEvalPoint(optimizer, X, y)
    probe.losses.append(probe.measure(model))
    history = fit(model, softmax_cross_entropy, optimizer, X, y, epochs=epochs,
                  batch_size=batch_size, seed=seed, schedule=schedule, progress=False,
                  callbacks=[probe])
    if hasattr(optimizer, "eval"):
        optimizer.eval(model.parameters())
    train_loss = evaluate(model, softmax_cross_entropy, X, y)[0]
    val_acc = (evaluate(model, softmax_cross_entropy, X_val, y_val)[1]
               if X_val is not None else np.nan)
    curve = np.array(probe.losses, dtype=float)
    if history.diverged:
        curve = np.append(curve, np.inf)
        train_loss = np.inf
    return Run(history, curve, np.asarray(history.train_loss, dtype=float),
               float(train_loss), float(val_acc))


def tune(X, y, names=NAMES, lrs=None, schedule=None, **kwargs):
    """Sweep every optimizer of ``names`` over a grid of rates (chapter 6's rule).

    Each rate trains once (``seed`` in ``kwargs``, default 0) and is scored by its
    final training loss at the evaluation point; the best is the lowest
    (``ch06_comparing_optimizers.best_index`` with target 0).

    Parameters
    ----------
    X, y : ``ndarray``
        Training data.
    names : ``sequence`` of str
        Optimizers, by :func:`make`'s names.
    lrs : ``array_like``, optional
        The rates; default :data:`GRID`.
    schedule : callable, optional
        ``lr -> schedule`` (e.g. ``lambda lr: CosineAnnealingLR(lr, T)``): the schedule
        each rate is the peak of; ``None`` for a constant rate.
    **kwargs
        Passed to :func:`train` (``kind``, ``epochs``, ``batch_size``, ``seed``).

    Returns
    -------
    dict
        Name → ``ch06_comparing_optimizers.Sweep``.
    """
    lrs = GRID if lrs is None else np.sort(np.asarray(lrs, dtype=float))
    sweeps = {}
    for name in names:
        curves = [train(make(name, lr), X, y, schedule=None if schedule is None else schedule(lr),
                        **kwargs).curve for lr in lrs]
        finals = np.array([c[-1] if np.isfinite(c[-1]) else np.inf for c in curves])
        sweeps[name] = Sweep(name, lrs, finals, np.full(len(lrs), -1), 0.0, tuple(curves))
    return sweeps


# --------------------------------------------------------------------------- measuring steps


def update_rms(optimizer, X, y, kind="mlp", epochs=1, batch_size=32, seed=0):
    r"""The size of each step per coordinate, in units of the learning rate.

    Trains like :func:`train` and records, at every step, the root mean square over
    all parameters of :math:`(\theta_t - \theta_{t-1})/\eta`: exactly 1 for a sign
    method without weight decay (every coordinate moves by :math:`\pm\eta`), below 1
    for Adam, whose :math:`|\hat m_t|/\sqrt{\hat v_t}` is below 1 when gradients
    fluctuate.

    Returns
    -------
    ``ndarray``
        One value per step.
    """
    sizes = []

    class Recorder:
        def __init__(self):
            self.before = None

        def on_step(self, step, loss, history, model):
            now = np.concatenate([p.ravel() for p in model.parameters().values()]).astype(float)
            sizes.append(np.sqrt(np.mean((now - self.before) ** 2)) / optimizer.lr)
            self.before = now

    model = network(kind, seed)
    recorder = Recorder()
    recorder.before = np.concatenate([p.ravel() for p in model.parameters().values()]).astype(float)
    fit(model, softmax_cross_entropy, optimizer, X, y, epochs=epochs, batch_size=batch_size,
        seed=seed, progress=False, callbacks=[recorder])
    return np.array(sizes)


def performance_profile(values, taus):
    r"""Performance profiles (Dolan & Moré 2002): how often each method is within τ of the best.

    For problems :math:`p` (here: networks and seeds) and methods :math:`s`, with a cost
    :math:`c_{p,s} > 0` (lower is better; here the final training loss), the ratio
    :math:`r_{p,s} = c_{p,s} / \min_{s'} c_{p,s'}` and the profile

    .. math::

        \rho_s(\tau) = \frac{1}{|P|}\,\bigl|\{p : r_{p,s} \le \tau\}\bigr|.

    :math:`\rho_s(1)` is the fraction of problems on which :math:`s` is the best; the
    height where the curve levels off, the fraction it solves at all. A failed run
    (``inf`` or ``nan``) never counts.

    Parameters
    ----------
    values : dict
        Method → 1-D ``array_like`` of costs, one per problem, the same problems in the
        same order for every method.
    taus : ``array_like``
        Ratios :math:`\tau \ge 1` at which to evaluate the profile.

    Returns
    -------
    dict
        Method → ``ndarray`` of :math:`\rho_s(\tau)` for each ``tau``.
    """
    costs = {s: np.asarray(v, dtype=float).reshape(-1) for s, v in values.items()}
    sizes = {c.size for c in costs.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(f"values must hold the same number (>= 1) of problems for every "
                         f"method, got sizes {sorted(sizes)}")
    table = np.array([np.where(np.isfinite(c), c, np.inf) for c in costs.values()])
    if np.any(table <= 0):
        raise ValueError("costs must be > 0 (a ratio to the best is taken)")
    best = table.min(axis=0)
    ratios = table / best
    taus = np.asarray(taus, dtype=float).reshape(-1)
    return {s: (ratios[i][None, :] <= taus[:, None] * (1 + 1e-12)).mean(axis=1)
            for i, s in enumerate(costs)}
