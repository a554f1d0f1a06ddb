r"""Hyper-parameter search: a grid, or random draws, for the same budget of trials.

Bergstra and Bengio (2012, "Random search for hyper-parameter optimization", JMLR 13)
observed that usually only a few hyper-parameters matter much. A grid of
:math:`k \times k` trials tries only :math:`k` distinct values of each; :math:`k^2`
random draws try :math:`k^2` distinct values of every one, so the one that matters is
explored :math:`k` times more finely. Rates are drawn **log-uniformly**,

.. math::

    \log \eta \sim \mathcal U(\log \eta_{\text{lo}}, \log \eta_{\text{hi}}),

because a rate's effect depends on its order of magnitude: 0.001 to 0.01 matters as
much as 0.1 to 1.

An *objective* is any function ``objective(**params) -> float`` to minimize, e.g. a
validation loss after a short training run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from optlib import checks

__all__ = ["log_uniform", "SearchResult", "grid_search", "random_search"]


def log_uniform(lo, hi, size=None, rng=None):
    r"""Draws whose logarithm is uniform on :math:`[\log lo, \log hi]`.

    Parameters
    ----------
    lo, hi : float
        :math:`0 < lo < hi`.
    size : int or tuple, optional
        Shape of the output (None: one float).
    rng : ``numpy.random.Generator`` or int, optional
        Source of randomness (an int is a seed).

    Returns
    -------
    float or ``ndarray``
    """
    lo = checks.real("lo", lo, low=0, low_open=True)
    hi = checks.real("hi", hi, low=0, low_open=True)
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo!r}, hi={hi!r}")
    rng = np.random.default_rng(rng)
    out = np.exp(rng.uniform(math.log(lo), math.log(hi), size))
    return float(out) if size is None else out


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The trials of a search, in the order they were run.

    Attributes
    ----------
    params : list of dict
        The hyper-parameters of each trial.
    scores : ``ndarray``
        ``objective(**params[i])`` for each trial (lower is better; ``nan`` counts as
        worst).
    """

    params: list
    scores: np.ndarray

    @property
    def best_index(self):
        """Index of the lowest score."""
        return int(np.argmin(np.where(np.isnan(self.scores), np.inf, self.scores)))

    @property
    def best_params(self):
        """The hyper-parameters of the best trial."""
        return self.params[self.best_index]

    @property
    def best_score(self):
        """The lowest score."""
        return float(self.scores[self.best_index])

    @property
    def running_best(self):
        """Best score after each trial (what a search stopped there would return)."""
        return np.minimum.accumulate(np.where(np.isnan(self.scores), np.inf, self.scores))

    def values(self, name):
        """The values of one hyper-parameter across the trials, as an ``ndarray``."""
        return np.array([p[name] for p in self.params])


def _run(objective, trials):
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    scores = np.array([float(objective(**p)) for p in trials], dtype=np.float64)
    return SearchResult(params=trials, scores=scores)


def grid_search(objective, grid):
    """Evaluate ``objective`` at every combination of the listed values.

    Parameters
    ----------
    objective : callable
        ``objective(**params) -> float``, lower is better.
    grid : dict
        Name -> a non-empty sequence of values; trials run in
        ``itertools.product`` order.

    Returns
    -------
    SearchResult
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError("grid must be a non-empty dict name -> sequence of values")
    for name, values in grid.items():
        if len(values) == 0:
            raise ValueError(f"grid[{name!r}] must list at least one value")
    names = list(grid)
    trials = [dict(zip(names, combo)) for combo in itertools.product(*grid.values())]
    return _run(objective, trials)


def random_search(objective, space, n_trials, seed=0):
    """Evaluate ``objective`` at ``n_trials`` random points of ``space``.

    Parameters
    ----------
    objective : callable
        ``objective(**params) -> float``, lower is better.
    space : dict
        Name -> ``("log", lo, hi)`` (log-uniform), ``("uniform", lo, hi)`` or a list
        of choices (one drawn uniformly).
    n_trials : int
        Number of trials, >= 1.
    seed : int or ``numpy.random.Generator``
        Source of the draws (all trials' draws come from it, name by name in the
        order of ``space``).

    Returns
    -------
    SearchResult
    """
    n_trials = checks.integer("n_trials", n_trials, low=1)
    if not isinstance(space, dict) or not space:
        raise ValueError("space must be a non-empty dict name -> ('log', lo, hi), "
                         "('uniform', lo, hi) or a list of choices")
    rng = np.random.default_rng(seed)
    columns = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"space[{name!r}] must list at least one choice")
            columns[name] = [spec[i] for i in rng.integers(0, len(spec), n_trials)]
        elif isinstance(spec, tuple) and len(spec) == 3 and spec[0] in ("log", "uniform"):
            kind, lo, hi = spec
            if kind == "log":
                columns[name] = list(log_uniform(lo, hi, n_trials, rng))
            else:
                if not lo < hi:
                    raise ValueError(f"space[{name!r}] needs lo < hi, got {spec!r}")
                columns[name] = list(rng.uniform(lo, hi, n_trials))
        else:
            raise ValueError(f"space[{name!r}] must be ('log', lo, hi), ('uniform', lo, hi) "
                             f"or a list of choices, got {spec!r}")
    trials = [{name: (float(col[i]) if isinstance(col[i], (float, np.floating)) else col[i])
               for name, col in columns.items()} for i in range(int(n_trials))]
    return _run(objective, trials)
