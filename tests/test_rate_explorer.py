"""Specification of optlib.lab.ch03_adagrad's explorer (chapters 3 to 5): path, loss and effective rate."""

import matplotlib

matplotlib.use("Agg")  # before pyplot: the tests never need a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.lab.ch03_adagrad import (  # noqa: E402
    rate_explorer,
    rate_figure,
    run_with_rates,  # noqa: E402
)
from optlib.optim import SGD, Adadelta, Adagrad, Adam, RMSprop  # noqa: E402
from optlib.surfaces import Quadratic  # noqa: E402
from optlib.viz import plot  # noqa: E402
from optlib.viz.explorer import Explorer, log_slider  # noqa: E402

BOWL = Quadratic((1.0, 20.0))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def rate_lines(fig):
    return [ln for ln in fig.axes[2].lines if ln.get_label() in ("$\\theta_1$", "$\\theta_2$")]


def test_rate_figure_has_map_loss_and_rate_panels():
    fig = rate_figure(BOWL, Adagrad(lr=0.5), steps=30)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert fig.axes[2].get_yscale() == "log" and fig.axes[2].get_xscale() == "log"


def test_rate_panel_draws_the_recorded_rates():
    fig = rate_figure(BOWL, Adagrad(lr=0.5), steps=30)
    _, rates = run_with_rates(Adagrad(lr=0.5), BOWL, steps=30)
    first, second = rate_lines(fig)
    assert np.allclose(first.get_ydata(), rates[:, 0]) and np.allclose(second.get_ydata(), rates[:, 1])
    assert list(first.get_xdata()) == list(range(1, 31))


def test_rate_figure_is_titled_with_the_optimizer_and_its_hyper_parameters():
    fig = rate_figure(BOWL, RMSprop(lr=0.01), steps=10)
    assert fig.get_suptitle() == "RMSprop, η = 0.01, α = 0.99, ε = 1e-08"
    assert [ax.get_title() for ax in fig.axes][::2] == ["path", "rate of each coordinate"]


def test_rate_figure_draws_in_the_optimizers_colour():
    fig = rate_figure(BOWL, RMSprop(lr=0.01), steps=10)
    assert rate_lines(fig)[0].get_color() == plot.color("RMSprop")


def test_rate_figure_shows_adams_rate_and_its_ceiling_when_eps_is_large():
    fig = rate_figure(Quadratic((1.0, 25.0)), Adam(lr=0.1, eps=1.0), steps=30)
    _, rates = run_with_rates(Adam(lr=0.1, eps=1.0), Quadratic((1.0, 25.0)), steps=30)
    assert np.allclose(rate_lines(fig)[1].get_ydata(), rates[:, 1])
    ceiling = [ln for ln in fig.axes[2].lines if ln.get_label() == "η/ε"]
    assert ceiling and ceiling[0].get_ydata()[0] == pytest.approx(0.1)


def test_rate_figure_has_no_ceiling_for_a_small_eps_nor_for_adadelta():
    for opt in (Adam(lr=0.1), Adadelta(eps=1.0)):
        labels = [ln.get_label() for ln in rate_figure(BOWL, opt, steps=20).axes[2].lines]
        assert "η/ε" not in labels


def test_rate_figure_refuses_an_optimizer_without_an_effective_rate():
    with pytest.raises(TypeError, match="Adagrad"):
        rate_figure(BOWL, SGD(lr=0.1), steps=5)


def make_explorer(**kw):
    sliders = {"lr": log_slider("η (lr)", 1e-2, 2.0, 0.5), "eps": log_slider("ε (eps)", 1e-10, 1.0, 1e-10)}
    return rate_explorer(BOWL, lambda lr, eps: Adagrad(lr=lr, eps=eps), sliders, steps=20, **kw)


def test_explorer_draws_the_rate_figure_at_start():
    explorer = make_explorer()
    assert isinstance(explorer, Explorer) and explorer.renders == 1
    assert len(explorer.figure.axes) == 3


def test_moving_a_slider_reruns_with_the_new_value():
    explorer = make_explorer()
    explorer.sliders["eps"].value = 1.0
    assert explorer.renders == 2
    # with ε = 1 ≫ √G the rate is about η/ε: AdaGrad turns into gradient descent
    rate = rate_lines(explorer.figure)[0].get_ydata()
    assert rate[0] == pytest.approx(0.5 / (1.0 + 2.5), rel=1e-6)


def test_start_sliders_move_the_start():
    explorer = make_explorer()
    explorer.sliders["x0"].value = 1.0
    path = [ln for ln in explorer.figure.axes[0].lines if not ln.get_label().startswith("_")][0]
    assert path.get_xdata()[0] == pytest.approx(1.0, abs=0.05)


def test_start_sliders_can_begin_at_a_given_point():
    explorer = make_explorer(start=(-2.5, 2.5))
    assert explorer.sliders["y0"].value == pytest.approx(2.5)


def test_without_start_sliders_the_surface_start_is_used():
    explorer = make_explorer(start=False)
    assert "x0" not in explorer.sliders and explorer.renders == 1


def test_a_refused_setting_shows_the_error_instead_of_a_figure():
    explorer = rate_explorer(BOWL, lambda lr: Adagrad(lr=-lr), {"lr": (0.1, 1.0, 0.1, 0.5)}, steps=5)
    assert explorer.error is not None and explorer.renders == 0


@pytest.mark.parametrize("kw", [dict(steps=0), dict(sliders=[]), dict(make_optimizer=3),
                                dict(sliders={"x0": (0.0, 1.0, 0.1, 0.5)}), dict(start=(10.0, 0.0)),
                                dict(start=(1.0, 2.0, 3.0))])
def test_rate_explorer_rejects_bad_arguments(kw):
    args = dict(surface=BOWL, make_optimizer=lambda lr: Adagrad(lr=lr),
                sliders={"lr": (0.1, 1.0, 0.1, 0.5)}, steps=5)
    args.update(kw)
    with pytest.raises((TypeError, ValueError)):
        rate_explorer(**args)


def make_adam(lr, beta1, beta2, eps):
    return Adam(lr=lr, betas=(beta1, beta2), eps=eps)


ADAM_SLIDERS = {"lr": (0.0, 1.0, 0.1, 0.1), "beta1": (0.0, 1.0, 0.01, 0.9),
                "beta2": (0.5, 0.9999, 0.0001, 0.999), "eps": (0.0, 1.0, 0.1, 0.0)}


def test_an_adam_explorer_redraws_when_beta1_moves():
    ex = rate_explorer(Quadratic((1.0, 25.0)), make_adam, ADAM_SLIDERS, steps=20)
    ex.sliders["beta1"].value = 0.5
    assert ex.renders == 2 and "β₁ = 0.5" in ex.figure.get_suptitle()


def test_an_adam_explorer_shows_the_error_of_a_refused_beta():
    ex = rate_explorer(Quadratic(), make_adam, ADAM_SLIDERS, steps=5)
    ex.sliders["beta1"].value = 1.0
    assert ex.error is not None and "betas[0]" in ex.error
