"""Specification of optlib.viz.plot: the book's colours, figure style and plots."""

import matplotlib

matplotlib.use("Agg")  # before pyplot: the tests never need a display

import re  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.display import HTML  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from optlib.optim import (  # noqa: E402
    SGD,
    Adagrad,
    Adam,
    Adamax,
    RMSprop,
    registry,  # noqa: E402
)
from optlib.surfaces import Quadratic, Rosenbrock, Saddle, Trajectory, run  # noqa: E402
from optlib.viz import plot  # noqa: E402

OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta",
              "Adam", "AdaMax", "NAdam", "AMSGrad", "AdamW", "RAdam"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def rosenbrock_runs():
    R = Rosenbrock()
    return {
        "GD": run(SGD(lr=1e-3), R, steps=150),
        "Momentum": run(SGD(lr=1e-3, momentum=0.9), R, steps=150),
        "RMSprop": run(RMSprop(lr=1e-2), R, steps=150),
        "Adam": run(Adam(lr=0.1), R, steps=150),
    }


def divergent_path():
    path = np.array([[-2.5, 1.5], [1.0, -2.0], [50.0, 80.0], [1e200, -1e200], [np.inf, np.nan]])
    return path


# ------------------------------------------------------------------ colours


def colour_of(name):
    return registry.get(name).color


def lab(colour):
    """CIELAB coordinates of a colour (D65), to measure how far apart two colours look."""
    rgb = np.array(matplotlib.colors.to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_color_reads_each_optimizers_colour_from_the_registry():
    assert [plot.color(name) for name in OPTIMIZERS] == [colour_of(name) for name in OPTIMIZERS]


def test_gd_and_sgd_share_a_colour():
    assert plot.color("GD") == plot.color("SGD")


def test_color_ignores_case_and_accepts_pytorch_spellings():
    assert plot.color("adam") == colour_of("Adam")
    assert plot.color("Adagrad") == colour_of("AdaGrad")
    assert plot.color("Adamax") == colour_of("AdaMax")


def test_color_of_a_label_starting_with_an_optimizer_name_is_that_optimizers_colour():
    assert plot.color("Adam, lr=0.01") == colour_of("Adam")
    assert plot.color("AdamW (wd=0.1)") == colour_of("AdamW")
    assert plot.color("GD lr=0.5") == colour_of("GD")


def test_color_of_an_unknown_label_is_deterministic_and_from_the_categorical_palette():
    c = plot.color("batch size 32")
    assert c == plot.color("batch size 32") and c in plot.CATEGORICAL
    assert plot.color("Adamant") in plot.CATEGORICAL  # a prefix needs a word boundary


def test_line_style_gives_colour_line_style_and_marker_of_an_optimizer():
    assert plot.line_style("Nesterov, η = 0.1") == registry.get("Nesterov").style
    assert plot.line_style("batch size 32") == {"color": plot.color("batch size 32"),
                                                "linestyle": "-", "marker": ""}


def test_non_optimizer_palette_never_reuses_or_imitates_an_optimizers_colour():
    optimizer_colours = [lab(colour_of(name)) for name in OPTIMIZERS]
    for name, colour in plot.PALETTE.items():
        nearest = min(np.linalg.norm(lab(colour) - o) for o in optimizer_colours)
        assert nearest >= 15, f"{name} looks like an optimizer's colour (CIELAB distance {nearest:.0f})"


def test_baseline_is_a_dark_grey_that_is_not_sgds_near_black():
    r, g, b = matplotlib.colors.to_rgb(plot.BASELINE)
    assert r == g == b and np.linalg.norm(lab(plot.BASELINE) - lab(colour_of("SGD"))) >= 10


def test_non_optimizer_palette_colours_are_distinct_from_each_other():
    colours = [lab(c) for c in plot.CATEGORICAL + (plot.BASELINE,)]
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(colours) for b in colours[i + 1:]]
    assert min(gaps) >= 25


def test_categorical_is_the_palette_in_order():
    assert plot.CATEGORICAL == tuple(plot.PALETTE.values())


def test_shade_lightens_and_darkens_a_colour():
    assert plot.shade("Momentum", 0.0) == matplotlib.colors.to_hex(colour_of("Momentum"))
    assert plot.shade("Momentum", 1.0) == "#ffffff" and plot.shade("#0072B2", -1.0) == "#000000"
    light, dark = lab(plot.shade("Adam", 0.5)), lab(plot.shade("Adam", -0.5))
    assert light[0] > lab(colour_of("Adam"))[0] > dark[0]


def test_shade_refuses_an_amount_outside_minus_one_to_one():
    with pytest.raises(ValueError, match="amount"):
        plot.shade("Adam", 1.5)


def test_display_name_follows_the_book_not_the_class():
    assert plot.display_name(SGD(lr=0.1)) == "SGD"
    assert plot.display_name(SGD(lr=0.1, momentum=0.9)) == "Momentum"
    assert plot.display_name(SGD(lr=0.1, momentum=0.9, nesterov=True)) == "Nesterov"
    assert plot.display_name(Adam(amsgrad=True)) == "AMSGrad"
    assert plot.display_name(Adam()) == "Adam"
    assert plot.display_name(Adagrad()) == "AdaGrad"
    assert plot.display_name(Adamax()) == "AdaMax"


# ------------------------------------------------------------------ style


def test_use_style_sets_the_book_figure_style_and_can_be_called_twice():
    with matplotlib.rc_context():
        plot.use_style()
        plot.use_style()
        rc = matplotlib.rcParams
        assert tuple(rc["figure.figsize"]) == (7.0, 3.6)
        assert rc["figure.dpi"] == 100 and rc["savefig.dpi"] == 110
        assert rc["figure.constrained_layout.use"]
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        assert rc["axes.grid"]
        assert rc["animation.embed_limit"] <= 5


# ------------------------------------------------------------------ contours


def test_contour_returns_axes_limited_to_the_surface_bounds_with_the_minimum_starred():
    R = Rosenbrock()
    ax = plot.contour(R)
    assert isinstance(ax, Axes)
    assert ax.get_xlim() == R.bounds[0] and ax.get_ylim() == R.bounds[1]
    stars = [line for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1
    np.testing.assert_allclose(np.c_[stars[0].get_data()], R.minima)


def test_contour_draws_into_a_given_axes():
    fig, ax = plt.subplots()
    assert plot.contour(Quadratic(), ax=ax) is ax


def test_contour_handles_a_negative_minimum_value():
    S = Saddle()  # min_value = -0.25: log levels of the gap L - L*
    ax = plot.contour(S, log=True)
    assert len([line for line in ax.lines if line.get_marker() == "*"][0].get_xdata()) == 2


def test_contour_with_linear_levels_and_lines_only():
    ax = plot.contour(Quadratic(), log=False, filled=False, levels=10)
    assert isinstance(ax, Axes)


def test_contour_rejects_fewer_than_two_levels():
    with pytest.raises(ValueError, match="levels"):
        plot.contour(Quadratic(), levels=1)


# ------------------------------------------------------------------ trajectories


def test_plot_trajectory_returns_the_line_of_the_path_in_the_optimizers_colour():
    Q = Quadratic()
    ax = plot.contour(Q)
    line = plot.plot_trajectory(ax, run(SGD(lr=0.1), Q, steps=20), "GD")
    assert isinstance(line, Line2D)
    assert line.get_color() == colour_of("GD")
    assert len(line.get_xdata()) == 21


def test_plot_trajectory_accepts_a_plain_array():
    ax = plot.contour(Quadratic())
    line = plot.plot_trajectory(ax, np.array([[-2.0, 1.0], [-1.0, 0.5], [0.0, 0.0]]), "Adam")
    assert line.get_label() == "Adam"


def test_a_divergent_path_does_not_raise_nor_move_the_axes_and_is_labelled():
    Q = Quadratic()
    ax = plot.contour(Q)
    line = plot.plot_trajectory(ax, divergent_path(), "GD")
    assert ax.get_xlim() == Q.bounds[0] and ax.get_ylim() == Q.bounds[1]
    assert line.get_label() == "GD (diverged)"
    assert np.all(np.isfinite(line.get_xydata()))
    assert np.abs(line.get_xydata()).max() < 1e4  # cut far away, not at 1e200
    ax.figure.canvas.draw()


def test_a_path_that_is_nan_from_the_start_draws_nothing_and_does_not_raise():
    ax = plot.contour(Quadratic())
    line = plot.plot_trajectory(ax, np.full((5, 2), np.nan), "Adam")
    assert len(line.get_xdata()) == 0
    ax.figure.canvas.draw()


def test_a_trajectory_whose_loss_blew_up_is_labelled_diverged():
    Q = Quadratic()
    ax = plot.contour(Q)
    line = plot.plot_trajectory(ax, run(SGD(lr=0.25), Q, steps=40), "GD")
    assert line.get_label().endswith("(diverged)")


def test_plot_trajectory_rejects_a_path_of_the_wrong_shape():
    ax = plot.contour(Quadratic())
    with pytest.raises(ValueError, match="path"):
        plot.plot_trajectory(ax, np.zeros((5, 3)), "GD")


def test_trajectories_draws_one_legend_entry_per_run(rosenbrock_runs):
    ax = plot.trajectories(Rosenbrock(), rosenbrock_runs)
    legend = ax.figure.legends[0] if ax.figure.legends else ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(rosenbrock_runs)


def test_trajectories_into_a_given_axes_keeps_the_legend_on_that_axes(rosenbrock_runs):
    fig, (a, b) = plt.subplots(1, 2)
    assert plot.trajectories(Rosenbrock(), rosenbrock_runs, ax=a) is a
    assert a.get_legend() is not None and not fig.legends


def test_runs_sharing_an_optimizer_colour_get_distinguishable_shades():
    Q = Quadratic()
    runs = {"GD": run(SGD(lr=0.1), Q, steps=10), "GD, lr=0.05": run(SGD(lr=0.05), Q, steps=10)}
    ax = plot.trajectories(Q, runs, legend=False)
    colours = {line.get_label(): line.get_color() for line in ax.lines}
    assert colours["GD"] == colour_of("GD")
    assert colours["GD, lr=0.05"] != colours["GD"]


def test_trajectories_with_divergent_runs_render(rosenbrock_runs):
    runs = {**rosenbrock_runs, "SGD, lr=0.1": run(SGD(lr=0.1), Rosenbrock(), steps=30)}
    ax = plot.trajectories(Rosenbrock(), runs)
    ax.figure.canvas.draw()


# ------------------------------------------------------------------ loss curves


def test_loss_curves_uses_a_log_axis_and_returns_it():
    ax = plot.loss_curves({"Adam": np.geomspace(1, 1e-4, 50)})
    assert isinstance(ax, Axes)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "step"


def test_loss_curves_linear_axis_on_request():
    ax = plot.loss_curves({"Adam": np.linspace(1, 0, 50)}, log=False)
    assert ax.get_yscale() == "linear"


def test_a_divergent_curve_stops_without_gaps_and_is_marked():
    y = np.r_[np.geomspace(1, 10, 20), np.inf, np.nan, np.nan]
    ax = plot.loss_curves({"SGD": y})
    line = ax.lines[0]
    assert line.get_label() == "SGD (diverged)"
    assert np.all(np.isfinite(line.get_ydata())) and len(line.get_ydata()) == 20
    assert any(other.get_marker() == "x" for other in ax.lines)
    ax.figure.canvas.draw()


def test_an_isolated_nan_is_skipped_and_the_curve_joined():
    y = np.geomspace(1, 1e-3, 10)
    y[4] = np.nan
    ax = plot.loss_curves({"Adam": y})
    assert len(ax.lines[0].get_ydata()) == 9
    assert ax.lines[0].get_label() == "Adam (diverged)"  # nan counts as divergence


def test_a_blow_up_does_not_squash_the_other_curves():
    ax = plot.loss_curves({"Adam": np.geomspace(1, 1e-6, 50), "SGD": np.geomspace(1, 1e300, 50)})
    assert ax.get_ylim()[1] <= 1e4 * 1.01


def test_loss_curves_of_trajectories_show_the_gap_to_the_minimum():
    S = Saddle()  # losses reach -0.25: only the gap is positive
    traj = run(SGD(lr=0.1), S, steps=60)
    ax = plot.loss_curves({"GD": traj})
    np.testing.assert_allclose(ax.lines[0].get_ydata()[:3], traj.losses[:3] - S.min_value)
    assert "L^\\star" in ax.get_ylabel()


def test_loss_curves_reads_a_history_object():
    class History:
        loss = [1.0, 0.5, 0.25]

    ax = plot.loss_curves({"Adam": History()})
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.5, 0.25])


def test_loss_curves_accepts_x_values():
    ax = plot.loss_curves({"Adam": [1.0, 0.5, 0.25]}, x=[0, 10, 20], xlabel="epoch")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 10, 20])
    assert ax.get_xlabel() == "epoch"


def test_loss_curves_rejects_x_of_the_wrong_length():
    with pytest.raises(ValueError, match="x must have"):
        plot.loss_curves({"Adam": [1.0, 0.5, 0.25]}, x=[0, 1])


def test_two_dimensional_losses_are_drawn_as_median_with_spread():
    runs = np.exp(-np.linspace(0, 3, 40))[None, :] * np.linspace(0.5, 2, 5)[:, None]
    ax = plot.loss_curves({"Adam": runs})
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.median(runs, axis=0))
    assert len(ax.collections) == 1  # the band


# ------------------------------------------------------------------ spread


def test_with_spread_draws_the_median_and_returns_its_line():
    fig, ax = plt.subplots()
    runs = np.random.default_rng(0).lognormal(size=(7, 30))
    line = plot.with_spread(ax, None, runs, "SGD")
    np.testing.assert_allclose(line.get_ydata(), np.median(runs, axis=0))
    assert line.get_color() == colour_of("SGD")
    assert len(ax.collections) == 1


def test_with_spread_min_max_band():
    fig, ax = plt.subplots()
    plot.with_spread(ax, np.arange(10), np.ones((3, 10)) * [[1], [2], [3]], "Adam", band="minmax", log=False)
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(1) and band[:, 1].max() == pytest.approx(3)


def test_with_spread_counts_a_nan_seed_as_diverged_without_raising():
    fig, ax = plt.subplots()
    runs = np.vstack([np.geomspace(1, 1e-2, 20)] * 3)
    runs[0, 10:] = np.nan
    runs[1, 12:] = np.inf
    line = plot.with_spread(ax, None, runs, "Adam")
    assert np.all(np.isfinite(line.get_ydata()))
    assert len(line.get_ydata()) == 12  # the median turns infinite from step 12
    fig.canvas.draw()


def test_with_spread_rejects_bad_arguments():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="runs"):
        plot.with_spread(ax, None, np.ones(5), "Adam")
    with pytest.raises(ValueError, match="band"):
        plot.with_spread(ax, None, np.ones((2, 5)), "Adam", band="std")


# ------------------------------------------------------------------ divergence


def test_diverged_at_is_none_for_a_converging_run():
    assert plot.diverged_at(np.geomspace(10, 1e-3, 30)) is None


def test_diverged_at_finds_the_first_non_finite_loss():
    assert plot.diverged_at([1.0, 2.0, np.inf, np.nan]) == 2


def test_diverged_at_finds_the_first_thousandfold_growth():
    assert plot.diverged_at([1.0, 10.0, 999.0, 1001.0, 5.0]) == 3


def test_diverged_at_of_a_trajectory_uses_the_gap():
    traj = Trajectory(path=np.zeros((3, 2)), losses=np.array([-0.24, -0.25, 1000.0]), min_value=-0.25)
    assert plot.diverged_at(traj) == 2


# ------------------------------------------------------------------ animation


def frame_count(html):
    return len(re.findall(r'frames\[\d+\] = "data:image/png;base64,', html))


def test_animate_returns_a_javascript_player_under_one_megabyte(rosenbrock_runs):
    before = plt.get_fignums()
    anim = plot.animate(Rosenbrock(), rosenbrock_runs, frames=60)
    assert isinstance(anim, HTML)
    html = anim.data
    assert "<script" in html and 'class="animation"' in html
    assert frame_count(html) == 60
    assert len(html.encode()) < 1_000_000
    assert plt.get_fignums() == before  # no static copy left for the notebook to show


def test_animate_shows_every_step_of_a_short_run():
    Q = Quadratic()
    anim = plot.animate(Q, {"GD": run(SGD(lr=0.1), Q, steps=9)}, frames=60)
    assert frame_count(anim.data) == 10


def test_animate_with_divergent_and_nan_runs_does_not_raise():
    Q = Quadratic()
    runs = {"GD": run(SGD(lr=0.3), Q, steps=30), "Adam": divergent_path()}
    assert frame_count(plot.animate(Q, runs, frames=10).data) == 10


def test_animate_rejects_no_frames():
    with pytest.raises(ValueError, match="frames"):
        plot.animate(Quadratic(), {"GD": np.zeros((3, 2))}, frames=0)


def test_still_is_the_last_frame_as_a_figure(rosenbrock_runs):
    fig = plot.still(Rosenbrock(), rosenbrock_runs)
    assert isinstance(fig, Figure)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    np.testing.assert_allclose(lines["Adam"].get_xydata(), rosenbrock_runs["Adam"].path)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(rosenbrock_runs)
