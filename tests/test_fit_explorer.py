"""Specification of the training-run explorers: curriculum pacing (chapter 7), batch norm (chapter 8)."""

import matplotlib
import numpy as np
import pytest

from optlib.data import Dataset
from optlib.lab.ch07_shuffling_curriculum import (
    ORDER_COLORS,
    curriculum_explorer,
    curriculum_figure,
)
from optlib.lab.ch08_batch_norm import BN_COLORS, batchnorm_explorer, batchnorm_figure
from optlib.viz import plot
from optlib.viz.explorer import Explorer

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def blobs():
    """Three Gaussian blobs in 2-D, 40 training and 13 or 14 validation points each."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 54)[rng.permutation(162)]
    X = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[y] + 0.7 * rng.standard_normal((162, 2))
    return Dataset(X[:120], y[:120], X[120:], y[120:], X[:0], y[:0])


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
    assert isinstance(explorer, Explorer)
    assert set(explorer.sliders) == {"order", "kind", "start", "until", "lr"}
    assert explorer.figure is not None


def test_ordering_and_network_colours_are_not_optimizer_colours():
    optimizer_colours = {plot.color(name) for name in ("SGD", "Momentum", "Nesterov", "AdaGrad",
                                                        "RMSprop", "AdaDelta", "Adam", "AdaMax",
                                                        "NAdam", "AMSGrad", "AdamW", "RAdam")}
    assert not optimizer_colours & (set(ORDER_COLORS.values()) | set(BN_COLORS.values()))


def test_batchnorm_figure_marks_the_run_that_diverges(blobs):
    fig = batchnorm_figure(blobs, lr=50.0, init_scale=30.0, depth=3, width=8, epochs=1, batch_size=20)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
    assert labels == ["without BN", "with BN"]
    assert "without BN: diverged" in ax.get_title()
    crosses = [line for line in ax.lines if line.get_marker() == "x"]
    assert crosses and crosses[0].get_color() == BN_COLORS["without BN"]


def test_batchnorm_explorer_has_rate_and_scale_sliders(blobs):
    explorer = batchnorm_explorer(blobs, depth=2, width=8, epochs=1)
    assert isinstance(explorer, Explorer)
    assert set(explorer.sliders) == {"lr", "init_scale"} and explorer.renders == 1
