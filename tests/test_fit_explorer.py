"""Specification of optlib.lab.ch07_shuffling_curriculum: sliders that rerun small training runs."""

import matplotlib
import numpy as np
import pytest

from optlib.data import Dataset, make_blobs
from optlib.lab.ch07_shuffling_curriculum import (BN_COLORS, ORDER_COLORS, batchnorm_explorer, batchnorm_figure,
                                 curriculum_explorer, curriculum_figure, figure_explorer)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n=160, centers=3, std=0.7, seed=0)
    return Dataset(X[:120], y[:120], X[120:], y[120:], X[:0], y[:0])


def test_figure_explorer_draws_once_and_again_on_every_change():
    from matplotlib.figure import Figure
    calls = []

    def draw(a, b):
        calls.append((a, b))
        return Figure()

    explorer = figure_explorer(draw, {"a": (0, 10, 1, 3), "b": ["x", "y"]})
    assert calls == [(3, "x")] and explorer.renders == 1
    explorer.sliders["b"].value = "y"
    assert calls[-1] == (3, "y") and explorer.renders == 2 and explorer.values() == {"a": 3, "b": "y"}


def test_figure_explorer_shows_why_a_setting_was_refused():
    def draw(a):
        raise ValueError("a must be small")

    explorer = figure_explorer(draw, {"a": (0, 10, 1, 3)})
    assert explorer.figure is None and "a must be small" in explorer.error


def test_figure_explorer_refuses_a_non_callable():
    with pytest.raises(TypeError, match="make_figure"):
        figure_explorer("draw", {"a": (0, 1, 1, 0)})


def test_curriculum_figure_shows_the_pacing_and_two_accuracy_curves(blobs):
    difficulty = np.arange(120, dtype=float)
    fig = curriculum_figure(blobs, difficulty, order="anti-curriculum", kind="step", epochs=2,
                            batch_size=20, hidden=8)
    pace_ax, acc_ax = fig.axes
    assert pace_ax.lines[0].get_ydata()[0] == pytest.approx(0.2)
    assert [line.get_label() for line in acc_ax.lines] == ["anti-curriculum", "standard"]
    assert acc_ax.lines[0].get_color() == ORDER_COLORS["anti-curriculum"]


def test_curriculum_figure_refuses_an_unknown_order(blobs):
    with pytest.raises(ValueError, match="order"):
        curriculum_figure(blobs, np.zeros(120), order="sorted")


def test_curriculum_explorer_has_sliders_for_order_pacing_and_rate(blobs):
    explorer = curriculum_explorer(blobs, np.zeros(120), epochs=1)
    assert set(explorer.sliders) == {"order", "kind", "start", "until", "lr"}
    assert explorer.figure is not None


def test_batchnorm_figure_marks_the_run_that_diverges(blobs):
    fig = batchnorm_figure(blobs, lr=50.0, init_scale=1.0, depth=3, width=8, epochs=1, batch_size=20)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
    assert labels == ["without BN", "with BN"]
    assert "without BN: diverged" in ax.get_title()
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert crosses and crosses[0].get_color() == BN_COLORS["without BN"]


def test_batchnorm_explorer_has_rate_and_scale_sliders(blobs):
    explorer = batchnorm_explorer(blobs, depth=2, width=8, epochs=1)
    assert set(explorer.sliders) == {"lr", "init_scale"} and explorer.renders == 1
