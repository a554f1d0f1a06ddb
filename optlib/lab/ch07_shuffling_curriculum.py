r"""Ordering the training data: shuffling, curriculum and anti-curriculum learning.

A **curriculum** (Bengio et al., 2009) presents easy examples first and harder ones
later. Following Hacohen and Weinshall (2019) and Wu et al. (2021), it has two parts:

* a **difficulty score** per example (here: the loss of a *teacher* model that never
  saw the example, ``teacher_difficulty``; or the negative classification margin,
  ``margin``), which ranks the examples from easy to hard (``ranking``);
* a **pacing function** :math:`c: [0, 1] \to (0, 1]` (``pacing``), also called the\n  *competence* (Platanios et al., 2019): after a fraction
  :math:`p` of the training budget, the mini-batches are drawn from the
  :math:`\lceil c(p)\,N \rceil` easiest examples. :math:`c` starts at ``start`` and
  reaches 1 (all data) at :math:`p` = ``until``.

Ranking hard-first gives an **anti-curriculum**, a random ranking gives a
"random curriculum" (the same growing data set, without the order), and
``optlib.fit`` with ``shuffle=True`` is standard training.

``fit_in_order`` trains on any sequence of index blocks by calling ``optlib.fit`` once per
block with ``shuffle=False``. An optimizer keeps its state between calls, so this is the
same training as one long run over the concatenated blocks; ``fit_curriculum`` builds the
blocks from a ranking and a pacing function.

Formerly ``fit_explorer``: Explorers for training runs (not surfaces): curriculum pacing and batch normalization.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
import numpy as np
from optlib.nn.losses import softmax_cross_entropy
from optlib.train.loop import evaluate, fit
import inspect
import warnings
import ipywidgets
from IPython import get_ipython
from IPython.display import clear_output, display
from matplotlib.figure import Figure
from optlib.viz import explorer as widgets
from optlib.nn.batchnorm import bn_mlp, scaled_he
from optlib.nn import MLP
from optlib.optim import SGD
from optlib.train.loop import fit

__all__ = [
    'PACINGS',
    'pacing',
    'per_example_loss',
    'margin',
    'teacher_difficulty',
    'ranking',
    'class_sorted_order',
    'per_class_accuracy',
    'paced_indices',
    'OrderedHistory',
    'fit_in_order',
    'curriculum_blocks',
    'fit_curriculum',
    'ORDER_COLORS',
    'BN_COLORS',
    'FigureExplorer',
    'figure_explorer',
    'curriculum_figure',
    'curriculum_explorer',
    'batchnorm_figure',
    'batchnorm_explorer',
]

# ====================================================================== curriculum
# ------------------------------------------------------------------------ pacing


def _fraction(name, value, low_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (0 < value <= 1 if low_open else 0 <= value <= 1):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def _linear(r, start, steps):
    return start + (1 - start) * r


def _root(r, start, steps):
    return start + (1 - start) * np.sqrt(r)


def _step(r, start, steps):
    return start + (1 - start) * np.floor(r * steps + 1e-12) / steps


def _exponential(r, start, steps):
    return start * (1 / start) ** r


#: Pacing functions by name; each maps :math:`r = \min(p/\text{until}, 1)` to a fraction.
PACINGS = {"linear": _linear, "root": _root, "step": _step, "exponential": _exponential}


def pacing(kind="linear", start=0.2, until=0.8, steps=4):
    r"""A pacing function :math:`c(p)`: the fraction of the data admitted after a fraction :math:`p` of training.

    With :math:`r = \min(p / u, 1)`, :math:`c_0` = ``start`` and :math:`u` = ``until``:

    .. math::

        c_\text{linear} = c_0 + (1 - c_0)\, r, \qquad
        c_\text{root} = c_0 + (1 - c_0)\sqrt r, \qquad
        c_\text{step} = c_0 + (1 - c_0)\,\frac{\lfloor K r \rfloor}{K}, \qquad
        c_\text{exponential} = c_0^{\,1 - r},

    so every :math:`c` starts at :math:`c_0` and admits everything from :math:`p = u` on.
    ``"step"`` is the "baby steps" schedule of Bengio et al. (2009) with :math:`K`
    = ``steps`` increments; ``"root"`` admits fast early (Platanios et al., 2019);
    ``"exponential"`` doubles slowly at first (Hacohen and Weinshall, 2019).

    Parameters
    ----------
    kind : str
        ``"linear"``, ``"root"``, ``"step"`` or ``"exponential"``.
    start : float
        :math:`c_0 \in (0, 1]`, the fraction admitted at the start.
    until : float
        :math:`u \in (0, 1]`, the fraction of training after which all data are in.
    steps : int
        :math:`K \ge 1`, increments of the ``"step"`` schedule.

    Returns
    -------
    callable
        ``c(p)`` for a float or an array of :math:`p \in [0, 1]`.
    """
    if kind not in PACINGS:
        raise ValueError(f"kind must be one of {sorted(PACINGS)}, got {kind!r}")
    start = _fraction("start", start, low_open=True)
    until = _fraction("until", until, low_open=True)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    rule = PACINGS[kind]

    def c(p):
        r = np.clip(np.asarray(p, dtype=np.float64) / until, 0.0, 1.0)
        value = np.minimum(rule(r, start, int(steps)), 1.0)
        return float(value) if value.ndim == 0 else value

    c.kind, c.start, c.until, c.steps = kind, start, until, int(steps)
    return c


# -------------------------------------------------------------------- difficulty


def per_example_loss(model, X, y, batch_size=4096):
    r"""Softmax cross-entropy of every example, :math:`\ell_i = \log\sum_k e^{z_{ik}} - z_{iy_i}`.

    The model runs in evaluation mode (and is put back in its mode).

    Parameters
    ----------
    model : ``Module``
        A classifier that returns logits.
    X : ``ndarray``
        Inputs, one example per row.
    y : ``ndarray``
        Integer labels.
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    ``ndarray``
        Shape ``(N,)``, float64.
    """
    return -_logit_gaps(model, X, y, batch_size, lambda z, true, other: true - _logsumexp(z))


def margin(model, X, y, batch_size=4096):
    r"""Classification margin :math:`z_{iy_i} - \max_{k \ne y_i} z_{ik}` of every example.

    Positive when the example is classified correctly; its size is a distance from
    the decision boundary measured in logits. ``-margin`` is a difficulty score.

    Parameters
    ----------
    model : ``Module``
        A classifier that returns logits.
    X : ``ndarray``
        Inputs.
    y : ``ndarray``
        Integer labels.
    batch_size : int
        Rows per forward pass.

    Returns
    -------
    ``ndarray``
        Shape ``(N,)``, float64.
    """
    return _logit_gaps(model, X, y, batch_size, lambda z, true, other: true - other)


def _logsumexp(z):
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))


def _logit_gaps(model, X, y, batch_size, combine):
    y = np.asarray(y)
    if y.dtype.kind not in "iu" or len(y) != len(X):
        raise ValueError(f"y must hold one integer label per row of X ({len(X)}), got {y.dtype} of length {len(y)}")
    was_training = model.training
    model.eval()
    out = np.empty(len(X))
    try:
        for start in range(0, len(X), batch_size):
            z = np.asarray(model.forward(X[start:start + batch_size]), dtype=np.float64)
            rows = np.arange(len(z))
            labels = y[start:start + batch_size]
            true = z[rows, labels]
            z_other = z.copy()
            z_other[rows, labels] = -np.inf
            out[start:start + len(z)] = combine(z, true, z_other.max(axis=1))
    finally:
        model.train(was_training)
    return out


def teacher_difficulty(make_model, make_optimizer, X, y, folds=2, epochs=3, batch_size=32,
                       score="loss", seed=0):
    r"""Difficulty of every example as judged by teachers that never trained on it.

    The examples are split at random into ``folds`` parts (stratified: every class is
    spread evenly over the parts); for each part a fresh
    teacher (``make_model(seed)``) is trained by ``optlib.fit`` on the other parts, and
    scores the held-out part. Scoring held-out examples matters: a teacher that has
    trained on an example may have memorized it, mislabelled or not, and would call
    it easy. This is the "transfer" or "self-taught" scoring of Hacohen and Weinshall
    (2019) made honest by cross-fitting.

    Parameters
    ----------
    make_model : callable
        ``make_model(seed) -> Module``, a fresh classifier.
    make_optimizer : callable
        ``make_optimizer() -> optimizer``.
    X, y : ``ndarray``
        Training inputs and integer labels.
    folds : int
        Number of parts, >= 2.
    epochs, batch_size : int
        How each teacher is trained.
    score : str
        ``"loss"`` (per-example cross-entropy, ``per_example_loss``) or
        ``"margin"`` (``-margin``).
    seed : int
        Seed of the split, of the teachers' weights and of their shuffling.

    Returns
    -------
    ``ndarray``
        Shape ``(N,)``: larger means harder.
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    if score not in ("loss", "margin"):
        raise ValueError(f"score must be 'loss' or 'margin', got {score!r}")
    n = len(X)
    if n < folds:
        raise ValueError(f"X must have at least folds={folds} rows, got {n}")
    part = _stratified_folds(y, folds, np.random.default_rng(seed))
    difficulty = np.empty(n)
    for k in range(folds):
        held_out, train_on = part == k, part != k
        teacher = make_model(seed + k)
        fit(teacher, softmax_cross_entropy, make_optimizer(), X[train_on], y[train_on],
            epochs=epochs, batch_size=batch_size, seed=seed + k, progress=False)
        if score == "loss":
            difficulty[held_out] = per_example_loss(teacher, X[held_out], y[held_out])
        else:
            difficulty[held_out] = -margin(teacher, X[held_out], y[held_out])
    return difficulty


def _stratified_folds(y, folds, rng):
    """A random fold per example, with every class spread evenly over the folds."""
    shuffled = rng.permutation(len(y))
    by_class = shuffled[np.argsort(np.asarray(y)[shuffled], kind="stable")]
    part = np.empty(len(y), dtype=np.int64)
    # Consecutive examples of a class go to folds 0, 1, ..., folds-1, 0, ...; the
    # offset per class keeps the folds' sizes balanced too.
    _, first = np.unique(np.asarray(y)[by_class], return_index=True)
    starts = np.repeat(first, np.diff(np.append(first, len(y))))
    part[by_class] = (np.arange(len(y)) - starts + np.arange(len(first)).repeat(
        np.diff(np.append(first, len(y))))) % folds
    return part


# ---------------------------------------------------------------------- orderings


#: The orderings ``ranking`` knows.
ORDERS = ("easy-first", "hard-first", "random")


def ranking(difficulty, order="easy-first", seed=0):
    """Indices of the examples in the order a curriculum admits them.

    Parameters
    ----------
    difficulty : ``ndarray``
        One score per example, larger = harder.
    order : str
        ``"easy-first"`` (curriculum), ``"hard-first"`` (anti-curriculum) or
        ``"random"`` (a random ranking: the same pacing without the order). Ties are
        broken at random, so equal scores are not admitted in index order.
    seed : int or ``numpy.random.Generator``
        For the random ranking and the tie-breaking.

    Returns
    -------
    ``ndarray``
        A permutation of ``range(N)``: position 0 is admitted first.
    """
    difficulty = np.asarray(difficulty, dtype=np.float64)
    if difficulty.ndim != 1 or not np.all(np.isfinite(difficulty)):
        raise ValueError("difficulty must be a 1-D array of finite scores")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    rng = np.random.default_rng(seed)
    tiebreak = rng.permutation(len(difficulty))
    if order == "random":
        return tiebreak
    key = difficulty[tiebreak] if order == "easy-first" else -difficulty[tiebreak]
    return tiebreak[np.argsort(key, kind="stable")]


def class_sorted_order(y):
    """Indices that sort the examples by class (0s first, then 1s, ...), keeping their order within a class.

    The worst order for SGD: every stretch of an epoch shows one class only.

    Parameters
    ----------
    y : ``ndarray``
        Integer labels.

    Returns
    -------
    ``ndarray``
    """
    return np.argsort(np.asarray(y), kind="stable")


def per_class_accuracy(model, X, y, n_classes=None):
    """Accuracy of ``model`` (in evaluation mode) on the examples of each class separately.

    After a stretch of training on one class only, this shows what the network has
    forgotten about the others.

    Parameters
    ----------
    model : ``Module``
        A classifier; put back in its mode afterwards.
    X, y : ``ndarray``
        Inputs and integer labels.
    n_classes : int, optional
        Default ``y.max() + 1``.

    Returns
    -------
    ``ndarray``
        Shape ``(n_classes,)``; ``nan`` for a class without examples.
    """
    y = np.asarray(y)
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    was_training = model.training
    model.eval()
    try:
        right = model.forward(X).argmax(axis=1) == y
    finally:
        model.train(was_training)
    counts = np.bincount(y, minlength=n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(y, weights=right, minlength=n_classes) / counts


def paced_indices(order, fraction, count, rng):
    r"""``count`` training indices drawn from the first :math:`\lceil fN \rceil` of ``order``.

    The admitted examples are used in random order, each once before any is used
    again (a fresh permutation whenever the admitted set is exhausted), as in
    shuffled epochs over the admitted set.

    Parameters
    ----------
    order : ``ndarray``
        A ranking of the examples (``ranking``).
    fraction : float
        :math:`f \in (0, 1]`, the pacing value.
    count : int
        How many indices to return.
    rng : ``numpy.random.Generator``
        Source of the shuffling.

    Returns
    -------
    ``ndarray``
        Shape ``(count,)``.
    """
    fraction = _fraction("fraction", fraction, low_open=True)
    admitted = np.asarray(order)[:max(1, math.ceil(fraction * len(order) - 1e-9))]
    reps = -(-int(count) // len(admitted))
    return np.concatenate([rng.permutation(admitted) for _ in range(reps)])[:int(count)]


# -------------------------------------------------------------------- training


@dataclass
class OrderedHistory:
    r"""What ``fit_in_order`` and ``fit_curriculum`` record.

    Per step: ``loss`` (the mini-batch loss of step :math:`t`). Per evaluation
    (entry 0 = before training, then the end of every block): ``step``, ``epoch``
    (steps divided by :math:`\lceil N/B \rceil`, so an "epoch" is a budget of updates
    even when a block holds a subset), ``train_loss``, ``train_acc`` on the **whole**
    training set, ``val_loss``, ``val_acc`` (``nan`` without validation data),
    ``admitted`` (fraction of the data the block drew from; ``nan`` for blocks given
    directly), and ``extra``: the values returned by ``on_block_end``.
    """

    loss: np.ndarray
    step: np.ndarray
    epoch: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray
    admitted: np.ndarray
    extra: list = field(default_factory=list)
    diverged: bool = False

    @property
    def n_steps(self):
        """Updates taken."""
        return len(self.loss)


def _check_blocks(blocks, n):
    blocks = [np.asarray(b) for b in blocks]
    if not blocks:
        raise ValueError("blocks must hold at least one index array")
    for i, b in enumerate(blocks):
        if b.ndim != 1 or len(b) == 0 or b.dtype.kind not in "iu" or b.min() < 0 or b.max() >= n:
            raise ValueError(f"blocks[{i}] must be a non-empty 1-D integer array of indices in [0, {n})")
    return blocks


def fit_in_order(model, loss_fn, optimizer, X, y, blocks, batch_size=32, X_val=None, y_val=None,
                 schedule=None, admitted=None, on_block_end=None):
    r"""Train on the examples ``X[blocks[0]]``, then ``X[blocks[1]]``, ... in exactly that order.

    Each block is one ``optlib.fit(..., epochs=1, shuffle=False)`` call, cut into
    mini-batches of ``batch_size`` (the last one smaller if ``batch_size`` does not
    divide the block). The optimizer keeps its state (momentum, moment estimates) and
    the schedule its step count across blocks, so the result is one continuous run.
    After each block the model is evaluated on the whole training set (and the
    validation set).

    Parameters
    ----------
    model : ``Module``
        Trained in place.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``.
    optimizer
        An ``optlib.optim`` optimizer.
    X, y : ``ndarray``
        All training data.
    blocks : ``sequence`` of ``ndarray``
        Index arrays into ``X``; indices may repeat.
    batch_size : int
        :math:`B`.
    X_val, y_val : ``ndarray``, optional
        Validation data.
    schedule : callable, optional
        ``t -> lr`` with ``t`` counted over the whole run.
    admitted : ``sequence`` of float, optional
        Recorded in ``OrderedHistory.admitted`` (used by ``fit_curriculum``).
    on_block_end : callable, optional
        ``on_block_end(k, model) -> value`` after block ``k`` (0, 1, ...);
        the values are kept in ``OrderedHistory.extra``.

    Returns
    -------
    OrderedHistory
    """
    n = len(X)
    blocks = _check_blocks(blocks, n)
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    admitted = [math.nan] * len(blocks) if admitted is None else list(admitted)
    if len(admitted) != len(blocks):
        raise ValueError(f"admitted must have one entry per block ({len(blocks)}), got {len(admitted)}")
    steps_per_epoch = math.ceil(n / batch_size)
    records = {k: [] for k in ("step", "train_loss", "train_acc", "val_loss", "val_acc", "admitted")}
    losses, extra = [], []

    def record(step, fraction):
        train = evaluate(model, loss_fn, X, y)
        val = evaluate(model, loss_fn, X_val, y_val) if X_val is not None else (math.nan, math.nan)
        for key, value in zip(records, (step, *train, *val, fraction)):
            records[key].append(value)

    record(0, math.nan)
    t, diverged = 0, False
    for k, block in enumerate(blocks):
        offset = t
        shifted = None if schedule is None else (lambda s, offset=offset: schedule(s + offset))
        h = fit(model, loss_fn, optimizer, X[block], y[block], epochs=1,
                batch_size=min(batch_size, len(block)), shuffle=False, schedule=shifted,
                progress=False)
        losses.append(h.loss)
        t += h.n_steps
        if h.diverged:
            diverged = True
            break
        record(t, admitted[k])
        if on_block_end is not None:
            extra.append(on_block_end(k, model))
    arrays = {key: np.asarray(v, dtype=np.float64) for key, v in records.items()}
    step = arrays.pop("step").astype(np.int64)
    return OrderedHistory(loss=np.concatenate(losses), step=step, epoch=step / steps_per_epoch,
                          extra=extra, diverged=diverged, **arrays)


def curriculum_blocks(order, pace, epochs, n, batch_size=32, blocks_per_epoch=4, seed=0):
    r"""The index blocks of a paced curriculum, and the fraction each one draws from.

    Training lasts ``epochs`` budgets of :math:`\lceil N/B \rceil` updates, cut into
    ``blocks_per_epoch`` equal blocks per epoch. Block :math:`k` starts after a
    fraction :math:`p_k` of training and draws its examples from the first
    :math:`\lceil c(p_k)\,N\rceil` examples of ``order`` (``paced_indices``).

    Parameters
    ----------
    order : ``ndarray``
        A ranking (``ranking``), length :math:`N` = ``n``.
    pace : callable
        :math:`c(p)`, e.g. from ``pacing``; ``None`` admits everything (no pacing).
    epochs : int
        Training budget in epochs.
    n : int
        :math:`N`.
    batch_size : int
        :math:`B`.
    blocks_per_epoch : int
        How often the admitted set is updated per epoch.
    seed : int or ``numpy.random.Generator``
        Source of the within-block shuffling.

    Returns
    -------
    blocks : list of ``ndarray``
    fractions : list of float
    """
    for name, value in (("epochs", epochs), ("n", n), ("batch_size", batch_size),
                        ("blocks_per_epoch", blocks_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if len(order) != n:
        raise ValueError(f"order must have length n={n}, got {len(order)}")
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    cuts = np.round(np.linspace(0, total, epochs * blocks_per_epoch + 1)).astype(int)
    blocks, fractions = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b == a:
            continue
        fraction = 1.0 if pace is None else float(pace(a / total))
        blocks.append(paced_indices(order, fraction, (b - a) * batch_size, rng))
        fractions.append(fraction)
    return blocks, fractions


def fit_curriculum(model, loss_fn, optimizer, X, y, difficulty=None, order="easy-first",
                   pace=None, epochs=5, batch_size=32, blocks_per_epoch=4, X_val=None, y_val=None,
                   schedule=None, seed=0):
    r"""Train with a curriculum: mini-batches drawn from the easiest :math:`c(p)\,N` examples.

    ``order="easy-first"`` is curriculum learning (Bengio et al., 2009),
    ``"hard-first"`` anti-curriculum, ``"random"`` a random curriculum (same pacing,
    random ranking). With ``pace=None`` every block draws from all the data in random
    order, which is standard shuffled training (blocks of fresh permutations).

    Parameters
    ----------
    model, loss_fn, optimizer
        As for ``optlib.fit``.
    X, y : ``ndarray``
        Training data.
    difficulty : ``ndarray``, optional
        One score per example, larger = harder (e.g. ``teacher_difficulty``); not
        needed for ``order="random"``.
    order : str
        ``"easy-first"``, ``"hard-first"`` or ``"random"``.
    pace : callable, optional
        The pacing function (``pacing``).
    epochs : int
        Budget: ``epochs`` times :math:`\lceil N/B\rceil` updates, whatever the pacing.
    batch_size : int
        :math:`B`.
    blocks_per_epoch : int
        How often per epoch the admitted set grows (and the model is evaluated).
    X_val, y_val : ``ndarray``, optional
        Validation data.
    schedule : callable, optional
        ``t -> lr``.
    seed : int
        For the ranking's tie-breaks (or the random ranking) and the shuffling.

    Returns
    -------
    OrderedHistory
    """
    if difficulty is None:
        if order != "random":
            raise ValueError(f"difficulty is needed for order={order!r}")
        difficulty = np.zeros(len(X))
    if len(difficulty) != len(X):
        raise ValueError(f"difficulty must have one score per row of X ({len(X)}), got {len(difficulty)}")
    rng = np.random.default_rng(seed)
    ranked = ranking(difficulty, order, seed=rng)
    blocks, fractions = curriculum_blocks(ranked, pace, epochs, len(X), batch_size,
                                          blocks_per_epoch, seed=rng)
    return fit_in_order(model, loss_fn, optimizer, X, y, blocks, batch_size, X_val, y_val,
                        schedule=schedule, admitted=fractions)


# ====================================================================== fit_explorer
#: Colours of the data orderings of chapter 7 (none is an optimizer's colour).
ORDER_COLORS = {
    "sorted by class": "#B8860B",
    "one fixed random order": "#CC79A7",
    "reshuffled every epoch": "#222222",
    "with replacement": "#999999",
    "curriculum": "#CC79A7",
    "anti-curriculum": "#B8860B",
    "random curriculum": "#56B4E9",
    "standard": "#222222",
}

#: Colours of the networks of chapter 8.
BN_COLORS = {"without BN": "#222222", "with BN": "#CC79A7", "BN + noise": "#B8860B"}

#: The orderings of ``curriculum_figure``: label -> ``fit_curriculum``'s ``order``.
_ORDERS = {"curriculum": "easy-first", "anti-curriculum": "hard-first",
           "random curriculum": "random"}


class FigureExplorer(ipywidgets.VBox):
    """Sliders above a figure; every change calls ``make_figure(**values)`` and shows the result.

    Attributes
    ----------
    sliders : dict
        Name → widget.
    output : ``ipywidgets.Output``
    figure : ``matplotlib.figure.Figure`` or None
        The last figure drawn (also without a display, e.g. in tests).
    renders : int
        How many times the figure has been drawn.
    error : str or None
        Why the last setting could not be drawn (a ``ValueError`` or ``TypeError``).
    """

    def __init__(self, make_figure, sliders):
        self._make = make_figure
        self.sliders = sliders
        self.figure, self.error, self.renders = None, None, 0
        self.output = ipywidgets.Output()
        super().__init__([ipywidgets.VBox(list(sliders.values())), self.output])
        for widget in sliders.values():
            widget.observe(lambda change: self.update(), names="value")
        self.update()

    def values(self):
        """Current slider values, name → value."""
        return {name: w.value for name, w in self.sliders.items()}

    def update(self):
        """Redraw with the current values.

        Returns
        -------
        ``matplotlib.figure.Figure`` or None
        """
        try:
            figure = self._make(**self.values())
        except (ValueError, TypeError) as err:
            self.error = f"{type(err).__name__}: {err}"
            self._show(self.error)
            return None
        self.error, self.figure = None, figure
        self.renders += 1
        self._show(figure)
        return figure

    def _show(self, content):
        if get_ipython() is None:       # tests, scripts: nothing to show into
            return
        with self.output:
            clear_output(wait=True)
            print(content) if isinstance(content, str) else display(content)


# traitlets' ``__new__(*args, **kwargs)`` would otherwise be documented as the constructor.
FigureExplorer.__signature__ = inspect.Signature(
    list(inspect.signature(FigureExplorer.__init__).parameters.values())[1:])


def figure_explorer(make_figure, sliders):
    """Sliders that redraw ``make_figure(**values)``.

    Parameters
    ----------
    make_figure : callable
        ``make_figure(**values) -> Figure``, one keyword per slider.
    sliders : dict
        Keyword → a widget (e.g. ``optlib.widgets.log_slider``), a tuple
        ``(min, max, step, default)``, a bool (checkbox) or a list of choices.

    Returns
    -------
    FigureExplorer
    """
    if not callable(make_figure):
        raise TypeError(f"make_figure must be a callable (**values) -> Figure, got {make_figure!r}")
    if not isinstance(sliders, dict) or not sliders:
        raise TypeError("sliders must be a non-empty dict name -> slider spec")
    return FigureExplorer(make_figure, {name: widgets._slider(name, spec)
                                        for name, spec in sliders.items()})


# -------------------------------------------------------------------- chapter 7


def curriculum_figure(data, difficulty, order="curriculum", kind="linear", start=0.2, until=0.8,
                      epochs=4, lr=0.1, batch_size=32, hidden=32, seed=0, figsize=(9.0, 3.2)):
    r"""One paced run against standard shuffled training: the pacing and the validation accuracy.

    Left: the fraction of the data admitted, :math:`c(p)`, against the epoch. Right:
    validation accuracy of a ``64 -> hidden -> 10`` ReLU network trained by SGD
    with the chosen ordering and pacing, and of the same network trained on all
    data in shuffled order (``"standard"``), same budget and seed.

    Parameters
    ----------
    data : ``Dataset``
        Training and validation data (e.g. ``optlib.data.make_digits``).
    difficulty : ``ndarray``
        One score per training example, larger = harder.
    order : str
        ``"curriculum"``, ``"anti-curriculum"`` or ``"random curriculum"``.
    kind, start, until : str, float, float
        The pacing function (``optlib.curriculum.pacing``).
    epochs, lr, batch_size, hidden, seed
        The training run.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {sorted(_ORDERS)}, got {order!r}")
    competence = pacing(kind, start=start, until=until)
    sizes = [data.X_train.shape[1], hidden, int(data.y_train.max()) + 1]
    runs = {}
    for label, pace, how in ((order, competence, _ORDERS[order]), ("standard", None, "random")):
        runs[label] = fit_curriculum(MLP(sizes, seed=seed), softmax_cross_entropy, SGD(lr=lr),
                                     data.X_train, data.y_train, difficulty, order=how, pace=pace,
                                     epochs=epochs, batch_size=batch_size, X_val=data.X_val,
                                     y_val=data.y_val, seed=seed)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_pace, ax_acc = fig.subplots(1, 2)
    p = np.linspace(0, 1, 200)
    ax_pace.plot(p * epochs, competence(p), color=ORDER_COLORS[order])
    ax_pace.set(xlabel="epoch", ylabel="fraction admitted $c(p)$", ylim=(0, 1.05),
                title=f"{kind} pacing, start {start:.2g}, all data from {until:.2g}")
    for label, h in runs.items():
        ax_acc.plot(h.epoch, h.val_acc, color=ORDER_COLORS[label], label=label)
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1),
               title=" vs. ".join(f"{k} {h.val_acc[-1]:.1%}" for k, h in runs.items()))
    ax_acc.title.set_fontsize(10)
    ax_acc.legend(loc="lower right")
    return fig


def curriculum_explorer(data, difficulty, epochs=4, seed=0):
    """Sliders for the ordering and the pacing of ``curriculum_figure``.

    Parameters
    ----------
    data : ``Dataset``
    difficulty : ``ndarray``
    epochs, seed : int
        Fixed for every run.

    Returns
    -------
    FigureExplorer
    """
    def draw(order, kind, start, until, lr):
        return curriculum_figure(data, difficulty, order=order, kind=kind, start=start,
                                 until=until, lr=lr, epochs=epochs, seed=seed)

    return figure_explorer(draw, {
        "order": list(_ORDERS),
        "kind": ["linear", "root", "step", "exponential"],
        "start": (0.05, 1.0, 0.05, 0.2),
        "until": (0.05, 1.0, 0.05, 0.8),
        "lr": widgets.log_slider("η (lr)", 0.01, 1.0, 0.1),
    })


# -------------------------------------------------------------------- chapter 8


def batchnorm_figure(data, lr=0.3, init_scale=1.0, depth=8, width=64, epochs=2, batch_size=64,
                     seed=0, figsize=(9.0, 3.2)):
    r"""The same network trained with and without batch normalization: mini-batch loss per step.

    Both are ``bn_mlp`` networks (``depth`` hidden layers of ``width`` ReLU units)
    started from the same weights, :math:`c` times He's scale (``scaled_he``),
    trained by SGD with rate :math:`\eta`. A run whose loss becomes non-finite stops
    and is marked as diverged.

    Parameters
    ----------
    data : ``Dataset``
        Training data (``X_train``, ``y_train``).
    lr : float
        :math:`\eta`.
    init_scale : float
        :math:`c`.
    depth, width : int
        Hidden layers and their width.
    epochs, batch_size, seed
        The training runs.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    X, y = data.X_train, data.y_train
    sizes = [X.shape[1]] + [width] * depth + [int(y.max()) + 1]
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    notes = []
    cap = 30.0            # the loss of a sane start is a few units; above this, off the chart
    for label, bn in (("without BN", False), ("with BN", True)):
        model = bn_mlp(sizes, batchnorm=bn, init=scaled_he(init_scale), seed=seed)
        # Divergence is a result here, drawn in the figure: no warning needed.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            h = fit(model, softmax_cross_entropy, SGD(lr=lr), X, y, epochs=epochs,
                    batch_size=batch_size, seed=seed, progress=False)
        loss = h.loss
        t = np.arange(1, len(loss) + 1) / h.steps_per_epoch
        # A diverging run is drawn up to the top of the frame and marked with a cross.
        shown = np.minimum(np.where(np.isfinite(loss), loss, np.inf), cap)
        ax.plot(t, shown, color=BN_COLORS[label], lw=1, label=label)
        if h.diverged or np.any(loss >= cap):
            first = int(np.argmax(~(loss < cap)))
            ax.plot(t[first], cap, "x", color=BN_COLORS[label], ms=9, mew=2, clip_on=False)
        if h.diverged:
            notes.append(f"{label}: diverged at step {h.diverged_step}")
        else:
            notes.append(f"{label}: last-epoch loss {loss[-h.steps_per_epoch:].mean():.2f}")
    ax.set(yscale="log", ylim=(None, cap), xlabel="epoch", ylabel="mini-batch loss",
           title=f"η = {lr:.3g}, init scale {init_scale:.3g} × He;  " + ";  ".join(notes))
    ax.title.set_fontsize(9)
    ax.legend(loc="upper right")
    return fig


def batchnorm_explorer(data, depth=8, width=64, epochs=2, seed=0):
    """Sliders for the learning rate and the initialization scale of ``batchnorm_figure``.

    Parameters
    ----------
    data : ``Dataset``
    depth, width, epochs, seed : int
        Fixed for every run.

    Returns
    -------
    FigureExplorer
    """
    def draw(lr, init_scale):
        return batchnorm_figure(data, lr=lr, init_scale=init_scale, depth=depth, width=width,
                                epochs=epochs, seed=seed)

    return figure_explorer(draw, {
        "lr": widgets.log_slider("η (lr)", 0.01, 10.0, 0.3),
        "init_scale": widgets.log_slider("init scale c", 0.05, 20.0, 1.0),
    })
