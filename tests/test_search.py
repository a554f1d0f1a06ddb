"""Specification of optlib.train.search: grid and random search with the same budget."""

import math

import numpy as np
import pytest

from optlib.train.search import grid_search, log_uniform, random_search


def bowl(lr, wd=0.0):
    """Only the order of magnitude of lr matters much; best at lr = 0.1."""
    return (math.log10(lr) + 1) ** 2 + 0.01 * wd


def test_log_uniform_is_uniform_in_the_exponent():
    x = log_uniform(1e-4, 1.0, size=100_000, rng=0)
    assert x.min() >= 1e-4 and x.max() <= 1.0
    counts = np.histogram(np.log10(x), bins=4, range=(-4, 0))[0]
    assert counts.min() > 0.95 * counts.max()             # each decade equally likely
    assert isinstance(log_uniform(1e-3, 1.0, rng=1), float)


def test_log_uniform_rejects_bad_ranges():
    with pytest.raises(ValueError, match="lo must be a finite number > 0"):
        log_uniform(0.0, 1.0)
    with pytest.raises(ValueError, match="lo must be < hi"):
        log_uniform(1.0, 0.1)


def test_grid_search_tries_every_combination_in_order():
    res = grid_search(bowl, {"lr": [1e-3, 1e-1], "wd": [0.0, 1.0, 2.0]})
    assert len(res.params) == 6 and res.params[1] == {"lr": 1e-3, "wd": 1.0}
    assert res.best_params == {"lr": 1e-1, "wd": 0.0} and res.best_score == 0.0


def test_random_search_draws_every_value_anew():
    res = random_search(bowl, {"lr": ("log", 1e-4, 1.0), "wd": ("uniform", 0.0, 1.0)},
                        n_trials=9, seed=0)
    assert len(np.unique(res.values("lr"))) == 9          # a 3 x 3 grid has only 3
    assert np.all((res.values("wd") >= 0) & (res.values("wd") <= 1))
    np.testing.assert_array_equal(res.running_best, np.minimum.accumulate(res.scores))


def test_random_search_is_repeatable_and_seed_dependent():
    space = {"lr": ("log", 1e-4, 1.0), "act": ["relu", "tanh"]}

    def f(lr, act):
        return bowl(lr)

    a, b = random_search(f, space, 5, seed=3), random_search(f, space, 5, seed=3)
    assert a.params == b.params
    assert random_search(f, space, 5, seed=4).params != a.params
    assert set(a.values("act")) <= {"relu", "tanh"}


def test_random_beats_grid_on_average_when_one_parameter_matters():
    grid = grid_search(bowl, {"lr": [1e-4, 1e-2, 1.0], "wd": [0.0, 0.5, 1.0]})
    space = {"lr": ("log", 1e-4, 1.0), "wd": ("uniform", 0.0, 1.0)}
    rand = [random_search(bowl, space, 9, seed=s).best_score for s in range(50)]
    assert np.median(rand) < grid.best_score


def test_nan_scores_count_as_worst():
    res = grid_search(lambda lr: float("nan") if lr > 1 else lr, {"lr": [2.0, 0.5, 0.7]})
    assert res.best_params == {"lr": 0.5}


@pytest.mark.parametrize("call, message", [
    (lambda: grid_search(bowl, {}), "grid must be a non-empty dict"),
    (lambda: grid_search(bowl, {"lr": []}), "must list at least one value"),
    (lambda: random_search(bowl, {"lr": ("log", 1e-3, 1)}, 0), "n_trials must be an integer"),
    (lambda: random_search(bowl, {"lr": (1e-3, 1)}, 3), "must be \\('log', lo, hi\\)"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
