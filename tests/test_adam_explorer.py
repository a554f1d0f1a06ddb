"""Specification of optlib.lab.ch05_adam: path, loss and per-coordinate rate of Adam."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.lab.ch05_adam import adam_explorer, adam_figure, run_with_adam_rates  # noqa: E402
from optlib.lab.ch05_adam import adam_effective_rate  # noqa: E402
from optlib.optim import SGD, Adam  # noqa: E402
from optlib.surfaces import Quadratic  # noqa: E402
from optlib.viz.explorer import Explorer, log_slider  # noqa: E402


def test_rates_are_recorded_after_every_step():
    opt = Adam(lr=0.1)
    trajectory, rates = run_with_adam_rates(opt, Quadratic((1.0, 25.0)), steps=20)
    assert rates.shape == (20, 2) and len(trajectory.losses) == 21
    assert np.allclose(rates[-1], adam_effective_rate(opt))


def test_the_steep_coordinate_gets_the_smaller_rate():
    _, rates = run_with_adam_rates(Adam(lr=0.1), Quadratic((1.0, 25.0)), start=(2.0, 2.0), steps=5)
    assert np.all(rates[:, 1] < rates[:, 0])


def test_run_with_adam_rates_refuses_other_optimizers():
    with pytest.raises(TypeError, match="Adam"):
        run_with_adam_rates(SGD(lr=0.1), Quadratic(), steps=3)


def test_figure_has_path_loss_and_rate_panels():
    fig = adam_figure(Quadratic((1.0, 25.0)), Adam(lr=0.1, eps=1.0), steps=30)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    labels = [ln.get_label() for ln in fig.axes[2].lines]
    assert "η/ε" in labels, "a large ε shows the ceiling η/ε"


def make(lr, beta1, beta2, eps):
    return Adam(lr=lr, betas=(beta1, beta2), eps=eps)


def test_explorer_redraws_when_a_slider_moves():
    ex = adam_explorer(Quadratic((1.0, 25.0)), make,
                       {"lr": log_slider("η", 1e-3, 1.0, 0.1), "beta1": (0.0, 0.99, 0.01, 0.9),
                        "beta2": (0.5, 0.9999, 0.0001, 0.999), "eps": log_slider("ε", 1e-8, 10, 1e-8)},
                       steps=20)
    assert isinstance(ex, Explorer) and ex.renders == 1
    ex.sliders["beta1"].value = 0.5
    assert ex.renders == 2 and ex.figure is not None


def test_explorer_shows_the_error_of_a_refused_setting():
    ex = adam_explorer(Quadratic(), make, {"lr": (0.0, 1.0, 0.1, 0.1), "beta1": (0.0, 1.0, 0.01, 0.9),
                                           "beta2": (0.5, 0.9999, 0.0001, 0.999), "eps": (0.0, 1.0, 0.1, 0.0)},
                       steps=5)
    ex.sliders["beta1"].value = 1.0
    assert ex.error is not None and "betas[0]" in ex.error
