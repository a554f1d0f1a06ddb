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

``fit_in_order`` trains on any sequence of index blocks: it is one ``optlib.fit`` run
with ``order=blocks`` (each block one "epoch" of the loop, followed by a record);
``fit_curriculum`` builds the blocks from a ranking and a pacing function.

The chapter's explorer: ``curriculum_figure`` draws one paced run against standard
training, ``curriculum_explorer`` puts sliders on it.
"""
from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.figure import Figure

from optlib import checks
from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD
from optlib.train.loop import fit
from optlib.viz import explorer as widgets
from optlib.viz import plot

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
    'fit_in_order',
    'curriculum_blocks',
    'fit_curriculum',
    'ORDER_COLORS',
    'curriculum_figure',
    'curriculum_explorer',
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
    ``"step"`` admits the data in :math:`K` = ``steps`` equal jumps (Bengio et al.,
    2009, switched once from easy shapes to all of them; Hacohen and Weinshall, 2019,
    use staircases); ``"root"`` admits fast early (Platanios et al., 2019);
    ``"exponential"`` grows by a constant factor, slowly at first (a smooth version of
    Hacohen and Weinshall's exponential staircase).

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


def fit_in_order(model, loss_fn, optimizer, X, y, blocks, batch_size=32, X_val=None, y_val=None,
                 schedule=None, admitted=None, on_block_end=None):
    r"""Train on the examples ``X[blocks[0]]``, then ``X[blocks[1]]``, ... in exactly that order.

    One ``optlib.fit(..., order=blocks)`` run: each block is cut into mini-batches of
    ``batch_size`` (the last one smaller if ``batch_size`` does not divide the block)
    and followed by a record on the whole training set (and the validation set). The
    optimizer's state and the schedule's step count run on across blocks.

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
        One value per block, kept in ``history.admitted`` (used by ``fit_curriculum``).
    on_block_end : callable, optional
        ``on_block_end(k, model) -> value`` after block ``k`` (0, 1, ...);
        the values are kept in ``history.extra``.

    Returns
    -------
    ``optlib.train.History``
        ``fit``'s record (entry 0 before training, then one per block; ``epoch`` is
        steps divided by :math:`\lceil N/B \rceil`, a budget of updates even when a
        block holds a subset), with two more attributes: ``admitted`` (per record:
        ``nan`` first, then the block's value; ``nan`` for blocks given directly) and
        ``extra`` (the values of ``on_block_end``).
    """
    admitted = [math.nan] * len(blocks) if admitted is None else list(admitted)
    if len(admitted) != len(blocks):
        raise ValueError(f"admitted must have one entry per block ({len(blocks)}), got {len(admitted)}")
    probe = _BlockEnd(on_block_end)
    try:
        history = fit(model, loss_fn, optimizer, X, y, batch_size=min(batch_size, len(X)),
                      order=blocks, schedule=schedule, X_val=X_val, y_val=y_val,
                      callbacks=[probe], progress=False)
    except ValueError as err:           # fit checks the blocks up front, as its ``order``
        if str(err).startswith("order"):
            raise ValueError("blocks" + str(err)[len("order"):]) from None
        raise
    history.admitted = np.array([math.nan, *admitted[:len(history.step) - 1]])
    history.extra = probe.values
    return history


class _BlockEnd:
    """The ``on_epoch_end`` hook of ``fit_in_order``: ``on_block_end(k, model)`` per block."""

    def __init__(self, on_block_end):
        self.on_block_end, self.values = on_block_end, []

    def on_epoch_end(self, epoch, history, model):
        if self.on_block_end is not None:
            self.values.append(self.on_block_end(epoch - 1, model))
        return False


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
    epochs = checks.integer("epochs", epochs, low=1)
    n = checks.integer("n", n, low=1)
    batch_size = checks.integer("batch_size", batch_size, low=1)
    blocks_per_epoch = checks.integer("blocks_per_epoch", blocks_per_epoch, low=1)
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
    ``optlib.train.History``
        As ``fit_in_order`` returns it.
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


# ====================================================================== explorer
#: Colours of the data orderings of chapter 7 (none is an optimizer's colour).
ORDER_COLORS = {
    "sorted by class": plot.PALETTE["gold"],
    "one fixed random order": plot.PALETTE["pink"],
    "reshuffled every epoch": plot.BASELINE,
    "with replacement": plot.PALETTE["grey"],
    "curriculum": plot.PALETTE["pink"],
    "anti-curriculum": plot.PALETTE["gold"],
    "random curriculum": plot.PALETTE["cyan"],
    "standard": plot.BASELINE,
}

#: The orderings of ``curriculum_figure``: label -> ``fit_curriculum``'s ``order``.
_ORDERS = {"curriculum": "easy-first", "anti-curriculum": "hard-first",
           "random curriculum": "random"}


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
    ``optlib.viz.explorer.Explorer``
    """
    def draw(order, kind, start, until, lr):
        return curriculum_figure(data, difficulty, order=order, kind=kind, start=start,
                                 until=until, lr=lr, epochs=epochs, seed=seed)

    return widgets.explorer(draw, {
        "order": list(_ORDERS),
        "kind": ["linear", "root", "step", "exponential"],
        "start": (0.05, 1.0, 0.05, 0.2),
        "until": (0.05, 1.0, 0.05, 0.8),
        "lr": widgets.log_slider("η (lr)", 0.01, 1.0, 0.1),
    })
