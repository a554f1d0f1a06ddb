r"""Chapter 6 (comparing optimizers): the optimizer race, learning-rate sweeps, figures.

A race between optimizers says as much about their learning rates as about the
optimizers: at a rate ten times too small the best method loses. This module holds
the rules of a fair race, as chapter 6 runs it:

1. every optimizer starts from the same point and gets the same budget of
   :math:`T` steps (or epochs);
2. each optimizer gets its own learning rate: the best of a **sweep** over one
   common grid (:data:`GRID`), picked by :func:`best_index`;
3. every other hyper-parameter keeps PyTorch's default, except the one setting
   that names a variant (``momentum=0.9`` for Momentum and Nesterov,
   ``amsgrad=True`` for AMSGrad).

The twelve, their classes and settings are the book's registry
(``optlib.optim.registry``); :data:`GROUPS` sorts them into four groups of three, so
that one picture shows three paths, not twelve.

Sections:

* **the field**: ``GROUPS``, ``group_of``; ``NAMES``, ``make``, ``default_lr`` (from
  the registry), and the common grid of rates ``lr_grid``, ``GRID``;
* **sweeps**: ``best_index`` (the rule that picks a rate), ``Sweep``, ``sweep``, ``tune``;
* **races on surfaces**: ``surface_objective`` (a sweep's objective), ``race`` (every
  optimizer at its rate, with ``optlib.surfaces.run``), ``first_to``, ``group_winners``;
* **training**: ``train`` and ``training_objective``, the race on a network, and
  ``paired_wins``, seed-by-seed comparisons;
* **figures**: ``race_figure``, ``sweep_figure``, ``grouped_curves``, ``html_table``.

Use::

    import optlib.lab.ch06_comparing_optimizers as race
    from optlib.surfaces import Beale
    sweeps = race.tune(race.surface_objective(Beale(), steps=500), tol=1e-6)
    runs = race.race(Beale(), {n: s.best_lr for n, s in sweeps.items()}, steps=500)
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from optlib import checks
from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import registry
from optlib.optim.registry import NAMES, default_lr, make
from optlib.surfaces import Surface, run
from optlib.train.loop import fit
from optlib.viz import plot

__all__ = [
    'GROUPS',
    'NAMES',
    'GRID',
    'lr_grid',
    'make',
    'default_lr',
    'group_of',
    'Sweep',
    'best_index',
    'sweep',
    'tune',
    'surface_objective',
    'race',
    'first_to',
    'group_winners',
    'paired_wins',
    'train',
    'training_objective',
    'race_figure',
    'sweep_figure',
    'grouped_curves',
    'html_table',
]

#: The four groups of three in order, each group name mapped to its optimizer names.
GROUPS: dict[str, tuple[str, ...]] = {
    "momentum family": ("SGD", "Momentum", "Nesterov"),
    "adaptive: sum / average": ("AdaGrad", "RMSprop", "AdaDelta"),
    "Adam and variants": ("Adam", "AdaMax", "NAdam"),
    "Adam with fixes": ("AMSGrad", "AdamW", "RAdam"),
}


# --------------------------------------------------------------------------- checks


def _known(name):
    registry.get(name)          # raises for a name that is not registered
    return name


# --------------------------------------------------------------------------- the field


def lr_grid(lo=1e-4, hi=100.0, mantissas=(1, 3)):
    r"""Learning rates :math:`m \cdot 10^k` in :math:`[lo, hi]`, sorted.

    With the default mantissas ``(1, 3)`` the grid has two rates per decade
    (``1e-4, 3e-4, 1e-3, …``), about half a decade apart (:math:`3 \approx \sqrt{10}`).

    Parameters
    ----------
    lo, hi : float
        Smallest and largest rate, :math:`0 < lo \le hi`.
    mantissas : tuple of float
        Values in :math:`[1, 10)` used in every decade.

    Returns
    -------
    ``ndarray``
        The rates, ascending, as ``float64``.
    """
    lo = checks.real("lo", lo, low=0, low_open=True)
    hi = checks.real("hi", hi, low=0, low_open=True)
    if lo > hi:
        raise ValueError(f"lo must be <= hi, got lo={lo!r}, hi={hi!r}")
    if not mantissas or not all(isinstance(m, numbers.Real) and 1 <= m < 10 for m in mantissas):
        raise ValueError(f"mantissas must be numbers in [1, 10), got {mantissas!r}")
    rates = set()
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for m in mantissas:
            # float(f"{m}e{k}") gives 3e-4, not 3 * 10**-4 = 0.00030000000000000003.
            r = float(f"{m}e{k}")
            if lo * (1 - 1e-12) <= r <= hi * (1 + 1e-12):
                rates.add(r)
    return np.array(sorted(rates))


#: The race's common grid of learning rates, ``1e-4, 3e-4, …, 30, 100`` (13 rates).
GRID = lr_grid(1e-4, 100.0)


def group_of(name):
    """The group (a key of :data:`GROUPS`) an optimizer belongs to.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.

    Returns
    -------
    str
    """
    _known(name)
    return next(g for g, members in GROUPS.items() if name in members)


# --------------------------------------------------------------------------- sweeps


def best_index(finals, hits, tol=0.0):
    r"""The rule that picks the best learning rate of a sweep.

    The best rate has the lowest final loss :math:`L(\theta_T) - L^\star`. Final
    losses below the target ``tol`` count as equal (a gap of :math:`10^{-20}`
    is not better than :math:`10^{-12}` in any way that matters), and among the
    rates that reach the target, the one that got there first wins. A run that
    diverged (``inf`` or ``nan``) never wins; a tie goes to the smaller rate.

    In one line: minimise :math:`\bigl(\max(L_T - L^\star, \tau),\; t_\tau\bigr)`
    in lexicographic order, where :math:`t_\tau` is the first step with a gap
    :math:`\le \tau` (:math:`\infty` if none).

    Parameters
    ----------
    finals : ``array_like``
        Final loss (gap) per rate, in grid order.
    hits : ``array_like``
        First step that reached ``tol`` per rate, or -1 if it never did.
    tol : float
        The target :math:`\tau \ge 0`; 0 means "lowest final loss" only.

    Returns
    -------
    int
        Index of the best rate.
    """
    finals = np.asarray(finals, dtype=float)
    hits = np.asarray(hits)
    if finals.ndim != 1 or len(finals) == 0 or hits.shape != finals.shape:
        raise ValueError(f"finals and hits must be 1-D of the same length >= 1, "
                         f"got shapes {finals.shape} and {hits.shape}")
    score = np.where(np.isfinite(finals), np.maximum(finals, tol), np.inf)
    when = np.where(hits >= 0, hits, np.iinfo(np.int64).max)
    # lexsort sorts by the last key first; a stable sort keeps grid order for ties.
    return int(np.lexsort((np.arange(len(finals)), when, score))[0])


@dataclass(frozen=True, eq=False)
class Sweep:
    r"""The result of sweeping one optimizer over a grid of learning rates.

    Attributes
    ----------
    name : str
        The optimizer's book name.
    lrs : ``ndarray``
        The rates tried, ascending.
    finals : ``ndarray``
        Final loss (or gap :math:`L(\theta_T) - L^\star`) per rate; ``inf`` for
        a run that diverged.
    hits : ``ndarray``
        First step (index into the run's curve) with a loss :math:`\le` ``tol``
        per rate, -1 if never.
    tol : float
        The target of :func:`best_index`.
    curves : tuple of ``ndarray``
        The loss curve of every run, in grid order.
    """

    name: str
    lrs: np.ndarray
    finals: np.ndarray
    hits: np.ndarray
    tol: float
    curves: tuple

    @property
    def best(self):
        """Index of the best rate (:func:`best_index`)."""
        return best_index(self.finals, self.hits, self.tol)

    @property
    def best_lr(self):
        """The best learning rate."""
        return float(self.lrs[self.best])

    @property
    def best_final(self):
        """The final loss at the best rate."""
        return float(self.finals[self.best])

    def within(self, target):
        r"""Which rates ended with a final loss :math:`\le` ``target`` (a boolean mask)."""
        return np.isfinite(self.finals) & (self.finals <= target)

    def width(self, target):
        r"""How forgiving the optimizer is: decades of rates that reach ``target``.

        :math:`\log_{10}(\eta_{\max}/\eta_{\min})` over the rates whose final
        loss is :math:`\le` ``target``: 0 when only one rate does, ``nan`` when
        none does. On a grid with two rates per decade, each extra rate adds
        about half a decade.
        """
        good = self.lrs[self.within(target)]
        if good.size == 0:
            return math.nan
        return float(np.log10(good.max() / good.min()))

    def longest_run(self, target):
        r"""The longest unbroken run of grid rates that reach ``target``.

        :meth:`width` spans from the smallest to the largest good rate and ignores
        failures in between; this counts only neighbouring rates of the grid that
        all end with a final loss :math:`\le` ``target``, so a rate that fails inside
        the band breaks it. Of two runs of equal length, the one at smaller rates.

        Returns
        -------
        ``ndarray``
            The rates of that run, ascending (empty when no rate reaches ``target``);
            ``len`` is the number of grid points, and
            :math:`\log_{10}(\eta_{\max}/\eta_{\min})` its span in decades.
        """
        good = self.within(target)
        best_start, best_len, start = 0, 0, None
        for i, ok in enumerate(np.append(good, False)):
            if ok and start is None:
                start = i
            elif not ok and start is not None:
                if i - start > best_len:
                    best_start, best_len = start, i - start
                start = None
        return self.lrs[best_start:best_start + best_len].copy()


def _first_hit(curve, tol):
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(curve <= tol)
    return int(hit[0]) if hit.size else -1


def sweep(name, evaluate, lrs=None, tol=0.0):
    r"""Run one optimizer at every learning rate of a grid.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    evaluate : ``callable``
        ``evaluate(optimizer) -> curve``: trains with a fresh optimizer and
        returns its loss curve (1-D, the final loss last), e.g.
        :func:`surface_objective` or :func:`training_objective`.
    lrs : ``array_like``, optional
        The rates; default :data:`GRID`.
    tol : float
        Target for :func:`best_index` (>= 0).

    Returns
    -------
    ``Sweep``
    """
    _known(name)
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a callable optimizer -> loss curve, got {evaluate!r}")
    lrs = GRID if lrs is None else np.sort(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1 or lrs.size == 0 or not np.all(np.isfinite(lrs)) or lrs.min() <= 0:
        raise ValueError(f"lrs must be finite numbers > 0, got {lrs!r}")
    tol = checks.real("tol", tol, low=0)
    curves, finals, hits = [], [], []
    for lr in lrs:
        curve = np.asarray(evaluate(make(name, lr)), dtype=float).reshape(-1)
        final = curve[-1] if curve.size and np.isfinite(curve[-1]) else np.inf
        curves.append(curve)
        finals.append(final)
        hits.append(_first_hit(curve, tol) if tol > 0 else -1)
    return Sweep(name=name, lrs=lrs, finals=np.array(finals), hits=np.array(hits),
                 tol=float(tol), curves=tuple(curves))


def tune(evaluate, names=NAMES, lrs=None, tol=0.0):
    """:func:`sweep` every optimizer of ``names`` with the same objective and grid.

    Returns
    -------
    dict
        Name → ``Sweep``, in the order of ``names``.
    """
    return {name: sweep(name, evaluate, lrs=lrs, tol=tol) for name in names}


# --------------------------------------------------------------------------- races on surfaces


def surface_objective(surface, steps, start=None):
    r"""An objective for :func:`sweep`: the gap curve of ``steps`` steps on a surface.

    Parameters
    ----------
    surface : ``Surface``
    steps : int
        The budget :math:`T`.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.

    Returns
    -------
    ``callable``
        ``optimizer -> gaps``, the array :math:`L(\theta_t) - L^\star` for
        :math:`t = 0, \dots, T` (``inf``/``nan`` after a divergence).
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")

    def evaluate(optimizer):
        trajectory = run(optimizer, surface, start=start, steps=steps)
        return trajectory.losses - trajectory.min_value

    return evaluate


def race(surface, rates, steps, start=None):
    r"""Run every optimizer of ``rates`` on a surface from the same start.

    Parameters
    ----------
    surface : ``Surface``
    rates : dict
        Book name → learning rate, e.g. ``{n: s.best_lr for n, s in sweeps.items()}``.
    steps : int
        The budget :math:`T`.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.

    Returns
    -------
    dict
        Name → ``Trajectory``, in the order of ``rates``.
    """
    return {name: run(make(name, lr), surface, start=start, steps=steps)
            for name, lr in rates.items()}


def first_to(trajectories, tol):
    r"""Who reached :math:`L(\theta_t) - L^\star \le` ``tol``, and when.

    Parameters
    ----------
    trajectories : dict
        Name → ``Trajectory``.
    tol : float

    Returns
    -------
    dict
        Name → first step (``Trajectory.steps_to``), only for the runs that got
        there, fastest first (ties in the order given).
    """
    steps = {name: t.steps_to(tol) for name, t in trajectories.items()}
    reached = [(s, i, name) for i, (name, s) in enumerate(steps.items()) if s is not None]
    return {name: s for s, _, name in sorted(reached)}


def group_winners(trajectories, tol, groups=None):
    r"""The best optimizer of each group: first to ``tol``, else the lowest final gap.

    Parameters
    ----------
    trajectories : dict
        Name → ``Trajectory`` (every member of every group).
    tol : float
        The target gap.
    groups : dict, optional
        Default :data:`GROUPS`.

    Returns
    -------
    dict
        Group → name of its winner.
    """
    groups = GROUPS if groups is None else groups
    winners = {}
    for group, members in groups.items():
        def key(name):
            t = trajectories[name]
            s = t.steps_to(tol)
            gap = float(t.losses[-1] - t.min_value)
            return (s is None, s if s is not None else 0, gap if np.isfinite(gap) else np.inf)
        winners[group] = min(members, key=key)
    return winners


# --------------------------------------------------------------------------- training


def train(optimizer, X, y, sizes=(64, 32, 10), epochs=5, batch_size=64, seed=0,
          X_val=None, y_val=None, eval_every=None):
    """Train an MLP classifier with softmax cross-entropy: one entry of the race.

    The network ``optlib.nn.MLP(sizes, seed=seed)`` (ReLU, He initialization) and
    the order of the mini-batches both come from ``seed``. A run whose loss
    becomes non-finite stops (``History.diverged``), as every ``optlib.fit`` run
    does: in a sweep, divergence is an expected outcome, not a problem to report.

    Parameters
    ----------
    optimizer : ``Optimizer``
        A fresh optimizer, e.g. ``make("Adam", 0.01)``.
    X, y : ``ndarray``
        Training inputs and integer labels.
    sizes : tuple of int
        Layer sizes, inputs first.
    epochs, batch_size : int
        Passed to ``optlib.fit``.
    seed : int
        Seeds the initial weights and the shuffling.
    X_val, y_val : ``ndarray``, optional
        Validation data, evaluated with every record.
    eval_every : int, optional
        Also record every ``eval_every`` steps (``optlib.fit``).

    Returns
    -------
    ``History``
    """
    return fit(MLP(list(sizes), seed=seed), softmax_cross_entropy, optimizer, X, y,
               epochs=epochs, batch_size=batch_size, seed=seed, X_val=X_val, y_val=y_val,
               progress=False, eval_every=eval_every)


def training_objective(X, y, **kwargs):
    """An objective for :func:`sweep`: the training-loss curve of :func:`train`.

    Parameters
    ----------
    X, y : ``ndarray``
        Training data.
    **kwargs
        Passed to :func:`train` (``epochs``, ``batch_size``, ``seed``, ...).

    Returns
    -------
    ``callable``
        ``optimizer -> losses``: the loss on the whole training set at every
        record (``History.train_loss``), with ``inf`` appended when the run
        diverged, so that a diverged run never counts as good.
    """
    def evaluate(optimizer):
        history = train(optimizer, X, y, **kwargs)
        curve = history.train_loss
        return np.append(curve, np.inf) if history.diverged else curve

    return evaluate


# --------------------------------------------------------------------------- figures


def race_figure(surface, trajectories, groups=None, title=None, width=10.5, floor=1e-12):
    r"""The race by group: paths on the map (top row), gap against step (bottom row).

    One column per group, so each panel shows at most a few optimizers in their
    book colours (``optlib.plot.color``).

    Parameters
    ----------
    surface : ``Surface``
    trajectories : dict
        Name → ``Trajectory``.
    groups : dict, optional
        Group → names; default :data:`GROUPS`. Names without a trajectory are skipped.
    title : str, optional
        Figure title.
    width : float
        Figure width in inches.
    floor : float
        Lowest gap shown: below about :math:`10^{-12}` a ``float64`` loss is
        rounding noise, and the race is over.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot.
    """
    groups = GROUPS if groups is None else groups
    (x0, x1), (y0, y1) = surface.bounds
    map_height = width / len(groups) * (y1 - y0) / (x1 - x0)
    fig = Figure(figsize=(width, map_height + 2.9), layout="constrained")
    axes = fig.subplots(2, len(groups), squeeze=False,
                        height_ratios=[map_height, 2.2])
    top, bottom = axes
    for k, (group, members) in enumerate(groups.items()):
        runs = {n: trajectories[n] for n in members if n in trajectories}
        plot.trajectories(surface, runs, ax=top[k], legend=False, levels=14)
        top[k].set_title(group, fontsize=10)
        top[k].set_xlabel("")
        if k:
            top[k].set_ylabel("")
        plot.loss_curves(runs, ax=bottom[k], legend=True)
        bottom[k].legend(fontsize=8, loc="lower left")
        if k:
            bottom[k].set_ylabel("")
    # One scale for all gap panels, so the columns can be compared at a glance.
    lows = [ax.get_ylim()[0] for ax in bottom]
    highs = [ax.get_ylim()[1] for ax in bottom]
    for ax in bottom:
        ax.set_ylim(max(min(lows), floor), max(highs))
    if title:
        fig.suptitle(title)
    return fig


def sweep_figure(sweeps, groups=None, ylabel="final loss", axes=None, title=None,
                 mark_default=True, width=10.5, floor=1e-12, top=None):
    r"""Final loss against learning rate (both log scales), one panel per group.

    The best rate of each sweep is a filled dot; PyTorch's default rate, when it
    is on the grid, a hollow circle. A run that diverged (by the book's rule,
    ``optlib.plot.diverged_at``: its loss became non-finite or grew 1000-fold
    over its start) is a × at the top of the panel, ``top``. Final losses are
    drawn clipped to ``[floor, top]``.

    Parameters
    ----------
    sweeps : dict
        Name → ``Sweep``.
    groups : dict, optional
        Default :data:`GROUPS`.
    ylabel : str
    axes : sequence of ``matplotlib.axes.Axes``, optional
        One per group; default: a new figure with one row.
    title : str, optional
        Figure title.
    mark_default : bool
        Mark each optimizer's default rate.
    width : float
        Figure width in inches when a new figure is made.
    floor : float
        Lowest loss shown.
    top : float, optional
        Highest loss shown, where the × marks go; default 1000 times the largest
        starting loss (the divergence threshold).

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    groups = GROUPS if groups is None else groups
    if axes is None:
        fig = Figure(figsize=(width, 2.8), layout="constrained")
        axes = fig.subplots(1, len(groups), sharey=True)
    axes = list(np.ravel(axes))
    starts = [c[0] for s in sweeps.values() for c in s.curves if c.size and np.isfinite(c[0])]
    if top is None:
        top = 1e3 * max(starts) if starts else 1.0
    lowest = top
    for ax, (group, members) in zip(axes, groups.items()):
        for name in (n for n in members if n in sweeps):
            s = sweeps[name]
            c = plot.color(name)
            gone = np.array([plot.diverged_at(curve) is not None or not np.isfinite(f)
                             for curve, f in zip(s.curves, s.finals)], dtype=bool) \
                if s.curves else ~np.isfinite(s.finals)
            shown = np.clip(np.where(gone, np.nan, s.finals), floor, top)
            lowest = min(lowest, np.nanmin(shown) if (~gone).any() else top)
            ax.plot(s.lrs, shown, "-", color=c, lw=1.4, label=name)
            if gone.any():   # an empty unclipped line would give the layout a bogus box
                ax.plot(s.lrs[gone], np.full(gone.sum(), top), "x", color=c, ms=6, mew=1.5,
                        clip_on=False)
            if not gone[s.best]:
                ax.plot(s.best_lr, shown[s.best], "o", color=c, ms=6, zorder=4)
            i = int(np.argmin(np.abs(np.log(s.lrs / default_lr(name)))))
            if mark_default and np.isclose(s.lrs[i], default_lr(name)) and not gone[i]:
                ax.plot(s.lrs[i], shown[i], "o", mfc="white", mec=c, ms=7, mew=1.4, zorder=3)
        ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\eta$", title=group)
        ax.title.set_fontsize(10)
        ax.legend(fontsize=8, loc="best")
    for ax in axes:
        ax.set_ylim(lowest / 5, top * 3)
    axes[0].set_ylabel(ylabel)
    if title:
        axes[0].figure.suptitle(title)
    return axes[0].figure


def grouped_curves(curves, x, groups=None, ylabel="loss", log=True, axes=None, band="minmax",
                   width=10.5, height=2.8):
    """Curves over several seeds (median and band), one panel per group.

    Parameters
    ----------
    curves : dict
        Name → ``ndarray`` of shape (seeds, points).
    x : ``array_like``
        The common x values (e.g. epochs).
    groups : dict, optional
        Default :data:`GROUPS`.
    ylabel : str
    log : bool
        Log y-axis.
    axes : sequence of ``matplotlib.axes.Axes``, optional
        One per group; default: a new figure with one row.
    band : ``"minmax"`` or ``"iqr"``
        The spread over seeds (``optlib.plot.with_spread``).
    width, height : float
        Figure size in inches when a new figure is made.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    groups = GROUPS if groups is None else groups
    if axes is None:
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(1, len(groups), sharey=True)
    axes = list(np.ravel(axes))
    for ax, (group, members) in zip(axes, groups.items()):
        runs = {n: curves[n] for n in members if n in curves}
        plot.loss_curves(runs, ax=ax, x=x, log=log, band=band, xlabel="epoch", ylabel="",
                         legend=True)
        ax.set_title(group, fontsize=10)
        ax.legend(fontsize=8)
    axes[0].set_ylabel(ylabel)
    return axes[0].figure


def paired_wins(values, lower_is_better=True):
    r"""Seed-by-seed comparison of every pair of optimizers.

    Seed :math:`k` gives every optimizer the same initial weights and the same order
    of mini-batches, so the runs are paired: optimizer :math:`a` beats :math:`b` on
    seed :math:`k` when its value is better on that seed.

    Parameters
    ----------
    values : dict
        Name → 1-D ``array_like`` of one final value per seed, the same seeds in the
        same order for every name.
    lower_is_better : bool
        ``True`` for a loss, ``False`` for an accuracy.

    Returns
    -------
    dict
        ``(a, b)`` → the number of seeds on which ``a`` is strictly better than ``b``,
        for every ordered pair of different names.
    """
    arrays = {n: np.asarray(v, dtype=float).reshape(-1) for n, v in values.items()}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) > 1:
        raise ValueError(f"values must hold the same number of seeds for every name, "
                         f"got sizes {sorted(sizes)}")
    sign = 1.0 if lower_is_better else -1.0
    return {(a, b): int(np.sum(sign * arrays[a] < sign * arrays[b]))
            for a in arrays for b in arrays if a != b}


def html_table(header, rows, caption=None):
    """A table for a notebook or a book page, as HTML.

    Jupyter Book renders a cell's Markdown output as plain CommonMark, which has no
    tables; HTML works everywhere (notebook, page, slides). The table gets the
    class ``dataframe``, so the book's theme styles it like a pandas table.

    Parameters
    ----------
    header : ``sequence``
        Column titles (str).
    rows : ``sequence``
        One ``sequence`` of cells per row, each cell converted with ``str`` and
        inserted as HTML (so ``<b>`` and ``<code>`` work; escape text with
        ``html.escape`` if it holds ``<``, ``>`` or ``&``).
    caption : str, optional
        A caption above the table (HTML).

    Returns
    -------
    ``IPython.display.HTML``
    """
    from IPython.display import HTML

    width = len(header)
    if any(len(row) != width for row in rows):
        raise ValueError(f"every row must have {width} cells, as the header")
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return HTML(f'<table class="dataframe">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")
