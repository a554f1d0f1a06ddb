"""optlib.timing: the shape of the measurements (never their values, which belong to a machine)."""
import numpy as np
import pytest

from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.timing import best_time, neighbour_ratios, time_per_example


def test_best_time_returns_seconds_per_call():
    assert 0 < best_time(lambda: sum(range(100)), repeat=2, min_seconds=0.001) < 0.01


def test_time_per_example_gives_one_positive_figure_per_batch_size():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    times = time_per_example(MLP([8, 4, 3], seed=0), softmax_cross_entropy, X, y,
                             [4, 8, 16], repeat=1, min_seconds=0.001)
    assert times.shape == (3,) and np.all(times > 0)


def test_time_per_example_rejects_batches_larger_than_the_data():
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, int)
    with pytest.raises(ValueError, match="batch_sizes"):
        time_per_example(MLP([2, 2], seed=0), softmax_cross_entropy, X, y, [8])


def test_neighbour_ratios_divide_by_the_mean_of_both_neighbours():
    ratios = neighbour_ratios([1, 2, 3, 4, 5], [1.0, 2.0, 1.0, 4.0, 2.0], centres=[2, 4])
    assert np.allclose(ratios, [2.0 / 1.0, 4.0 / 1.5])


def test_neighbour_ratios_need_neighbours_on_both_sides():
    with pytest.raises(ValueError, match="neighbour"):
        neighbour_ratios([1, 2, 3], [1.0, 1.0, 1.0], centres=[1])
