"""Specification of optlib.viz.explorer: explorers that work with and without a display."""

import matplotlib

matplotlib.use("Agg")  # before pyplot: the tests never need a display

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from optlib.optim import SGD, Adam  # noqa: E402
from optlib.surfaces import Quadratic, Rosenbrock  # noqa: E402
from optlib.viz import plot  # noqa: E402
from optlib.viz.explorer import (  # noqa: E402
    Explorer,
    explorer,
    explorer_figure,
    log_slider,
    loss_title,
    run_label,
    surface_explorer,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def momentum(lr, momentum):
    return SGD(lr=lr, momentum=momentum)


def make_explorer(**kw):
    sliders = {"lr": log_slider("η (lr)", 1e-4, 1e-2, 1e-3), "momentum": (0.0, 0.99, 0.01, 0.9)}
    return surface_explorer(Rosenbrock(), momentum, sliders, steps=50, **kw)


def path_line(fig):
    """The optimizer's path on the map (the one labelled line)."""
    (line,) = [ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]
    return line


def start_marker(fig):
    """The hollow start circle on the map: its (x, y)."""
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "white"]
    return line.get_xdata()[0], line.get_ydata()[0]


# ------------------------------------------------------------------ log_slider


def test_log_slider_spans_the_decades_from_lo_to_hi():
    s = log_slider("η", 1e-4, 1.0, 1e-2)
    assert isinstance(s, widgets.FloatLogSlider)
    assert s.min == pytest.approx(-4) and s.max == pytest.approx(0) and s.base == 10
    assert s.value == pytest.approx(1e-2)
    assert s.description == "η"


@pytest.mark.parametrize("lo, hi, default", [(0.0, 1.0, 0.5), (1.0, 0.1, 0.5), (1e-3, 1.0, 2.0)])
def test_log_slider_rejects_an_impossible_range(lo, hi, default):
    with pytest.raises(ValueError):
        log_slider("η", lo, hi, default)


# ------------------------------------------------------------------ explorer


def two_lines(a, b):
    """A pure figure function: slider values in, Figure out."""
    fig = Figure()
    fig.add_subplot().plot([0, 1], [a, a if b == "flat" else -a])
    return fig


def test_explorer_draws_the_figure_function_once_at_start():
    calls = []

    def draw(a, b):
        calls.append((a, b))
        return two_lines(a, b)

    ex = explorer(draw, {"a": (0, 10, 1, 3), "b": ["flat", "down"]})
    assert isinstance(ex, Explorer) and isinstance(ex, widgets.VBox)
    assert calls == [(3, "flat")] and ex.renders == 1 and isinstance(ex.figure, Figure)


def test_explorer_redraws_with_the_new_value_when_a_slider_moves():
    ex = explorer(two_lines, {"a": (0, 10, 1, 3), "b": ["flat", "down"]})
    ex.sliders["b"].value = "down"
    assert ex.renders == 2 and ex.values() == {"a": 3, "b": "down"}
    assert list(ex.figure.axes[0].lines[0].get_ydata()) == [3, -3]


def test_explorer_figure_is_the_figure_function_at_the_slider_values():
    ex = explorer(two_lines, {"a": (0, 10, 1, 3), "b": ["flat", "down"]})
    ex.sliders["a"].value = 7
    again = ex.draw(**ex.values())
    assert list(again.axes[0].lines[0].get_ydata()) == list(ex.figure.axes[0].lines[0].get_ydata())


def test_explorer_shows_why_a_setting_was_refused():
    def draw(a):
        raise ValueError("a must be small")

    ex = explorer(draw, {"a": (0, 10, 1, 3)})
    assert ex.figure is None and ex.renders == 0 and "a must be small" in ex.error


@pytest.mark.parametrize("figure, sliders", [("draw", {"a": (0, 1, 1, 0)}), (two_lines, {}),
                                             (two_lines, [("a", (0, 1, 1, 0))])])
def test_explorer_refuses_a_non_callable_or_no_sliders(figure, sliders):
    with pytest.raises(TypeError, match="figure|sliders"):
        explorer(figure, sliders)


def test_symbols_of_known_arguments_label_the_sliders():
    ex = explorer(lambda lr, min_delta, patience: Figure(),
                  {"lr": (0.1, 1.0, 0.1, 0.5), "min_delta": (0.0, 0.1, 0.01, 0.0),
                   "patience": (1, 40, 1, 10)})
    assert [w.description for w in ex.sliders.values()] == ["η (lr)", "δ (min_delta)",
                                                            "p (patience)"]


# ------------------------------------------------------------------ labels


def test_run_label_names_the_optimizer_and_its_hyper_parameters_in_the_books_notation():
    assert run_label(SGD(lr=0.05, momentum=0.8)) == "Momentum, η = 0.05, β = 0.8"
    assert run_label(Adam(lr=0.1), eps=True) == "Adam, η = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-08"


def test_loss_title_gives_the_final_gap_or_the_step_of_divergence():
    from optlib.surfaces import run
    assert "after 5 steps" in loss_title(run(SGD(lr=0.1), Quadratic(), steps=5))
    assert loss_title(run(SGD(lr=5.0), Quadratic(), steps=50)).startswith("diverged at step")


# ------------------------------------------------------------------ explorer_figure


def test_explorer_figure_returns_a_figure_with_map_and_loss_panels():
    fig = explorer_figure(Rosenbrock(), momentum(1e-3, 0.9), steps=50)
    assert isinstance(fig, Figure)
    ax_map, ax_loss = fig.axes
    assert ax_loss.get_yscale() == "log"
    assert ax_map.get_xlim() == Rosenbrock().bounds[0]


def test_explorer_figure_is_not_left_open_in_pyplot():
    before = plt.get_fignums()
    explorer_figure(Quadratic(), SGD(lr=0.1), steps=10)
    assert plt.get_fignums() == before


def test_explorer_figure_labels_with_the_book_name_and_colour():
    fig = explorer_figure(Quadratic(), momentum(0.05, 0.8), steps=20)
    path = path_line(fig)
    assert path.get_label().startswith("Momentum")
    assert path.get_color() == plot.color("Momentum")
    assert "after 20 steps" in fig.axes[1].get_title()


def test_explorer_figure_starts_where_it_is_told():
    fig = explorer_figure(Quadratic(), SGD(lr=0.1), start=(1.0, -2.0), steps=5)
    assert start_marker(fig) == (1.0, -2.0)


def test_explorer_figure_of_a_divergent_run_does_not_raise_and_says_so():
    fig = explorer_figure(Quadratic(), SGD(lr=0.5), steps=2000)  # overflows to inf, then nan
    assert "diverged" in fig.axes[1].get_title()
    fig.canvas.draw()


def test_explorer_figure_accepts_a_schedule():
    fig = explorer_figure(Quadratic(), Adam(lr=0.1), steps=10, schedule=lambda t: 0.1 / (1 + t))
    assert isinstance(fig, Figure)


# ------------------------------------------------------------------ surface_explorer


def test_surface_explorer_builds_headless_and_draws_once():
    ex = make_explorer()
    assert isinstance(ex, Explorer) and isinstance(ex, widgets.VBox)
    assert set(ex.sliders) == {"lr", "momentum", "x0", "y0"}
    assert ex.renders == 1
    assert isinstance(ex.figure, Figure) and len(ex.figure.axes) == 2


def test_start_sliders_cover_the_surface_bounds_and_begin_at_its_start():
    ex = make_explorer()
    R = Rosenbrock()
    assert (ex.sliders["x0"].min, ex.sliders["x0"].max) == R.bounds[0]
    assert (ex.sliders["y0"].min, ex.sliders["y0"].max) == R.bounds[1]
    assert (ex.sliders["x0"].value, ex.sliders["y0"].value) == pytest.approx(tuple(R.start))


def test_moving_a_slider_reruns_and_redraws():
    ex = make_explorer()
    first = ex.figure
    ex.sliders["lr"].value = 5e-3
    assert ex.renders == 2 and ex.figure is not first
    assert "η = 0.005" in ex.figure.axes[1].get_title()


def test_moving_the_start_sliders_moves_the_start():
    ex = make_explorer()
    ex.sliders["x0"].value = 1.5
    ex.sliders["y0"].value = -0.5
    assert start_marker(ex.figure) == pytest.approx((1.5, -0.5))


def test_a_slider_value_that_diverges_redraws_without_error():
    ex = make_explorer()
    ex.sliders["lr"].value = 1e-2
    ex.sliders["momentum"].value = 0.99
    ex.figure.canvas.draw()
    assert ex.renders == 3


def test_without_start_sliders_only_the_optimizer_sliders_exist():
    ex = make_explorer(start=False)
    assert set(ex.sliders) == {"lr", "momentum"}


def test_slider_specs_become_the_matching_widgets():
    ex = surface_explorer(
        Quadratic(),
        lambda lr, amsgrad, n: Adam(lr=lr, amsgrad=amsgrad),
        {"lr": (0.01, 1.0, 0.01, 0.1), "amsgrad": False, "n": (1, 10, 1, 3)},
        steps=5, start=False,
    )
    assert isinstance(ex.sliders["lr"], widgets.FloatSlider)
    assert isinstance(ex.sliders["amsgrad"], widgets.Checkbox)
    assert isinstance(ex.sliders["n"], widgets.IntSlider)
    assert ex.sliders["lr"].description == "η (lr)"
    ex.sliders["amsgrad"].value = True
    assert path_line(ex.figure).get_label().startswith("AMSGrad")


def test_a_list_becomes_a_dropdown():
    ex = surface_explorer(Quadratic(), lambda lr: SGD(lr=lr), {"lr": [0.1, 0.01]}, steps=5)
    assert isinstance(ex.sliders["lr"], widgets.Dropdown)
    ex.sliders["lr"].value = 0.01
    assert ex.renders == 2


@pytest.mark.parametrize("spec, error", [((1.0, 0.0, 0.1, 0.5), ValueError), ("fast", TypeError),
                                         ((0.0, 1.0, 0.1), TypeError)])
def test_bad_slider_specs_are_rejected(spec, error):
    with pytest.raises(error, match="sliders"):
        surface_explorer(Quadratic(), lambda lr: SGD(lr=lr), {"lr": spec})


def test_slider_names_x0_y0_are_reserved_for_the_start():
    with pytest.raises(ValueError, match="start point"):
        surface_explorer(Quadratic(), lambda x0: SGD(lr=x0), {"x0": (0.0, 1.0, 0.1, 0.5)})


def test_steps_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="steps"):
        surface_explorer(Quadratic(), lambda lr: SGD(lr=lr), {"lr": (0.0, 1.0, 0.1, 0.5)}, steps=0)


def test_settings_the_optimizer_refuses_are_reported_not_raised():
    ex = surface_explorer(Quadratic(), lambda lr, nesterov: SGD(lr=lr, nesterov=nesterov),
                          {"lr": (0.01, 1.0, 0.01, 0.1), "nesterov": False}, steps=5)
    ex.sliders["nesterov"].value = True  # SGD: nesterov needs momentum > 0
    assert "nesterov" in ex.error
    assert ex.renders == 1
    ex.sliders["nesterov"].value = False
    assert ex.error is None and ex.renders == 2


def test_values_reports_the_current_settings():
    ex = make_explorer()
    values = ex.values()
    assert values["lr"] == pytest.approx(1e-3) and values["momentum"] == pytest.approx(0.9)
    assert np.isfinite(values["x0"]) and np.isfinite(values["y0"])
