"""optlib.lab.ch06_comparing_optimizers: the twelve entrants, the learning-rate sweep and its rule, races, figures."""
import math
import warnings

import numpy as np
import pytest

from optlib import optim
from optlib.lab import ch06_comparing_optimizers as race
from optlib.optim import registry
from optlib.surfaces import Beale, Quadratic, Saddle
from optlib.viz import plot

# --------------------------------------------------------------------------- the field

def test_there_are_twelve_optimizers_in_the_books_order():
    assert race.NAMES == ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta",
                          "Adam", "AdaMax", "NAdam", "AMSGrad", "AdamW", "RAdam")


def test_groups_split_the_twelve_in_order_without_overlap():
    members = [n for group in race.GROUPS.values() for n in group]
    assert tuple(members) == race.NAMES
    assert all(len(group) == 3 for group in race.GROUPS.values())


def test_every_optimizer_is_named_and_coloured_as_in_the_rest_of_the_book():
    for name in race.NAMES:
        assert plot.display_name(race.make(name)) == name
        assert plot.color(name) == registry.get(name).color


def test_make_sets_the_variant_and_the_rate_and_keeps_torch_defaults():
    opt = race.make("Nesterov", 0.05)
    assert isinstance(opt, optim.SGD) and opt.lr == 0.05
    assert opt.hyper["momentum"] == 0.9 and opt.hyper["nesterov"] is True
    ams = race.make("AMSGrad", 0.1)
    assert isinstance(ams, optim.Adam) and ams.hyper["amsgrad"] is True
    assert race.make("AdamW").hyper["weight_decay"] == 0.01


def test_make_returns_a_fresh_optimizer_each_time():
    assert race.make("Adam", 0.1) is not race.make("Adam", 0.1)


def test_default_lr_is_pytorchs():
    assert race.default_lr("SGD") == 1e-3
    assert race.default_lr("AdaGrad") == 1e-2
    assert race.default_lr("AdaDelta") == 1.0
    assert race.default_lr("AdaMax") == 2e-3
    assert race.make("NAdam").lr == race.default_lr("NAdam") == 2e-3


def test_unknown_name_is_rejected_with_the_allowed_names():
    with pytest.raises(ValueError, match="name must be one of .*'SGD'"):
        race.make("Sophia", 1e-3)
    with pytest.raises(ValueError, match="name must be one of"):
        race.group_of("Sophia")


def test_group_of_finds_the_group():
    assert race.group_of("AdaDelta") == "adaptive: sum / average"
    assert race.group_of("RAdam") == "Adam with fixes"


# --------------------------------------------------------------------------- grid

def test_default_grid_has_two_rates_per_decade_from_1e4_to_100():
    assert len(race.GRID) == 13
    assert race.GRID[0] == 1e-4 and race.GRID[-1] == 100.0
    assert 3e-4 in race.GRID and 0.3 in race.GRID            # exact decimals, no 3.0000000000000004e-4
    assert np.all(np.diff(race.GRID) > 0)


def test_lr_grid_takes_other_mantissas_and_bounds():
    assert list(race.lr_grid(0.01, 1, mantissas=(1, 2, 5))) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]


@pytest.mark.parametrize("kwargs", [dict(lo=0), dict(lo=1, hi=0.1), dict(mantissas=(10,)),
                                    dict(hi=math.inf)])
def test_lr_grid_rejects_bad_bounds(kwargs):
    with pytest.raises(ValueError):
        race.lr_grid(**kwargs)


# --------------------------------------------------------------------------- the rule

def test_best_index_picks_the_lowest_final_loss():
    assert race.best_index([3.0, 1.0, 2.0], [-1, -1, -1]) == 1


def test_below_the_target_the_first_to_get_there_wins():
    # both end below tol = 1e-6; the second got there at step 50, the first at 80
    assert race.best_index([1e-20, 1e-9, 1e-3], [80, 50, -1], tol=1e-6) == 1


def test_a_run_below_the_target_beats_one_above_it():
    assert race.best_index([1e-3, 1e-7], [-1, 400], tol=1e-6) == 1


def test_a_diverged_run_never_wins():
    assert race.best_index([np.inf, np.nan, 5.0], [-1, -1, -1]) == 2


def test_ties_go_to_the_smaller_rate():
    assert race.best_index([1.0, 1.0], [-1, -1]) == 0


def test_best_index_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same length"):
        race.best_index([1.0, 2.0], [-1])


# --------------------------------------------------------------------------- sweeps

def test_sweep_on_a_quadratic_finds_the_largest_stable_rate():
    # curvatures 1 and 10: gradient descent diverges for lr > 2/10 = 0.2
    bowl = Quadratic(eigenvalues=(1.0, 10.0))
    s = race.sweep("SGD", race.surface_objective(bowl, steps=100), lrs=[0.01, 0.03, 0.1, 0.3])
    assert s.best_lr == 0.1
    assert s.finals[3] > 1e10, "lr = 0.3 > 0.2 diverges"
    assert s.finals[0] > s.finals[1] > s.finals[2], "larger safe rates go further"


def test_sweep_records_one_curve_and_one_final_per_rate():
    s = race.sweep("Adam", race.surface_objective(Beale(), steps=20), lrs=[0.1, 0.01])
    assert list(s.lrs) == [0.01, 0.1], "rates are sorted"
    assert len(s.curves) == 2 and all(len(c) == 21 for c in s.curves)
    assert [c[-1] for c in s.curves] == list(s.finals)


def test_sweep_marks_when_each_rate_reached_the_target():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    s = race.sweep("SGD", race.surface_objective(bowl, steps=50), lrs=[0.5, 1.0], tol=1e-6)
    assert s.hits[1] == 1, "lr = 1/λ lands on the minimum in one step"
    assert s.hits[0] > 1 and s.best_lr == 1.0


def test_sweep_counts_a_non_finite_final_loss_as_infinite():
    s = race.sweep("SGD", lambda opt: np.array([1.0, np.nan]), lrs=[0.1])
    assert s.finals[0] == np.inf


def test_sweep_rejects_bad_arguments():
    objective = race.surface_objective(Beale(), steps=1)
    with pytest.raises(ValueError, match="lrs"):
        race.sweep("Adam", objective, lrs=[0.0, 0.1])
    with pytest.raises(ValueError, match="tol"):
        race.sweep("Adam", objective, lrs=[0.1], tol=-1)
    with pytest.raises(TypeError, match="evaluate"):
        race.sweep("Adam", 3.0)


def test_width_counts_the_decades_of_good_rates():
    s = race.Sweep(name="SGD", lrs=np.array([0.01, 0.1, 1.0, 10.0]),
                   finals=np.array([5.0, 1.0, 1.2, np.inf]), hits=np.full(4, -1), tol=0.0,
                   curves=())
    assert s.width(1.5) == pytest.approx(1.0), "0.1 and 1 are within 1.5"
    assert s.width(1.0) == 0.0, "a single rate spans no decade"
    assert math.isnan(s.width(0.5))
    assert list(s.within(1.5)) == [False, True, True, False]


def test_longest_run_counts_only_neighbouring_good_rates():
    s = race.Sweep(name="Adam", lrs=np.array([0.01, 0.1, 1.0, 10.0, 100.0]),
                   finals=np.array([1e-9, 5.0, 1e-9, 1e-9, 1e-9]), hits=np.full(5, -1),
                   tol=1e-6, curves=())
    assert s.width(1e-6) == pytest.approx(4.0), "width ignores the failure at 0.1"
    assert list(s.longest_run(1e-6)) == [1.0, 10.0, 100.0], "the failure breaks the run"


def test_longest_run_prefers_smaller_rates_on_a_tie_and_is_empty_without_a_good_rate():
    s = race.Sweep(name="Adam", lrs=np.array([0.01, 0.1, 1.0]),
                   finals=np.array([0.5, 2.0, np.inf]), hits=np.full(3, -1), tol=0.0,
                   curves=())
    assert list(s.longest_run(1.0)) == [0.01]
    assert s.longest_run(0.1).size == 0
    assert s.longest_run(np.inf).size == 2, "a diverged run never counts as good"


def test_paired_wins_counts_the_seeds_on_which_one_beats_the_other():
    wins = race.paired_wins({"a": [0.1, 0.5, 0.3], "b": [0.2, 0.4, 0.3]})
    assert wins == {("a", "b"): 1, ("b", "a"): 1}, "a tie counts for neither"
    acc = race.paired_wins({"a": [0.9, 0.8], "b": [0.7, 0.7]}, lower_is_better=False)
    assert acc[("a", "b")] == 2 and acc[("b", "a")] == 0


def test_paired_wins_rejects_different_numbers_of_seeds():
    with pytest.raises(ValueError, match="same number of seeds"):
        race.paired_wins({"a": [1.0, 2.0], "b": [1.0]})


def test_tune_sweeps_every_name_in_order():
    sweeps = race.tune(race.surface_objective(Saddle(), steps=5), names=("RMSprop", "SGD"),
                       lrs=[0.1])
    assert list(sweeps) == ["RMSprop", "SGD"]


def test_surface_objective_returns_the_gap_from_the_start():
    s = Saddle()
    gaps = race.surface_objective(s, steps=3)(race.make("SGD", 0.1))
    assert len(gaps) == 4 and gaps[0] == pytest.approx(float(s(s.start)) - s.min_value)


def test_surface_objective_rejects_a_non_surface():
    with pytest.raises(TypeError, match="surface"):
        race.surface_objective("Beale", steps=3)


# --------------------------------------------------------------------------- races

def test_race_runs_every_entrant_from_the_same_start():
    runs = race.race(Beale(), {"Adam": 0.1, "SGD": 0.01}, steps=10, start=(2.0, 0.0))
    assert list(runs) == ["Adam", "SGD"]
    assert all(np.array_equal(r.path[0], [2.0, 0.0]) and len(r.path) == 11 for r in runs.values())


def test_first_to_lists_only_finishers_fastest_first():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    runs = race.race(bowl, {"Momentum": 0.01, "SGD": 0.5, "AdaDelta": 1e-4}, steps=300)
    order = race.first_to(runs, 1e-6)
    assert list(order) == ["SGD", "Momentum"] and "AdaDelta" not in order
    assert order["SGD"] == runs["SGD"].steps_to(1e-6)


def test_group_winners_prefers_the_first_finisher():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    runs = race.race(bowl, {"SGD": 0.5, "Momentum": 0.01, "Nesterov": 1e-4}, steps=300)
    assert race.group_winners(runs, 1e-6, {"g": ("Nesterov", "Momentum", "SGD")}) == {"g": "SGD"}


def test_group_winners_falls_back_to_the_lowest_final_gap():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    runs = race.race(bowl, {"SGD": 1e-3, "Momentum": 1e-3, "Nesterov": 1e-4}, steps=50)
    assert race.first_to(runs, 1e-6) == {}
    # momentum's buffer makes its steps up to 10 times longer: the lowest gap
    assert race.group_winners(runs, 1e-6, {"g": ("SGD", "Momentum", "Nesterov")}) == {"g": "Momentum"}


# --------------------------------------------------------------------------- training

@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 240)
    X = (rng.normal(size=(240, 4)) + 2.0 * np.eye(3, 4)[y]).astype(np.float32)
    return X, y


def test_train_is_repeatable_for_a_seed(blobs):
    X, y = blobs
    a = race.train(race.make("Adam", 0.01), X, y, sizes=(4, 8, 3), epochs=2, batch_size=32)
    b = race.train(race.make("Adam", 0.01), X, y, sizes=(4, 8, 3), epochs=2, batch_size=32)
    assert np.array_equal(a.train_loss, b.train_loss) and a.train_loss[-1] < a.train_loss[0]


def test_train_stops_a_divergence_without_a_warning(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = race.train(race.make("SGD", 1e6), X, y, sizes=(4, 8, 3), epochs=3, batch_size=32)
    assert h.diverged


def test_training_objective_appends_inf_after_a_divergence(blobs):
    X, y = blobs
    objective = race.training_objective(X, y, sizes=(4, 8, 3), epochs=2, batch_size=32)
    assert objective(race.make("SGD", 1e6))[-1] == np.inf
    good = objective(race.make("SGD", 0.1))
    assert len(good) == 3 and np.all(np.isfinite(good))


# --------------------------------------------------------------------------- figures

@pytest.fixture(scope="module")
def beale_runs():
    return race.race(Beale(), {n: 0.01 for n in race.NAMES}, steps=30)


def test_race_figure_has_a_map_and_a_loss_panel_per_group(beale_runs):
    fig = race.race_figure(Beale(), beale_runs)
    axes = fig.get_axes()
    assert len(axes) == 8
    for k, members in enumerate(race.GROUPS.values()):
        labels = [t.get_text() for t in axes[4 + k].get_legend().get_texts()]
        assert [lab.replace(" (diverged)", "") for lab in labels] == list(members)
        assert axes[k].get_title() == list(race.GROUPS)[k]


def test_race_figure_floors_the_gap_axis(beale_runs):
    fig = race.race_figure(Beale(), beale_runs, floor=1e-3)
    assert all(ax.get_ylim()[0] >= 1e-3 for ax in fig.get_axes()[4:])


def test_sweep_figure_draws_one_curve_per_optimizer():
    sweeps = race.tune(race.surface_objective(Beale(), steps=5), lrs=[0.01, 0.1])
    fig = race.sweep_figure(sweeps)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["SGD", "Momentum", "Nesterov"]
    assert axes[0].get_xscale() == "log" and axes[0].get_yscale() == "log"


def test_grouped_curves_draws_medians_with_bands():
    curves = {n: np.abs(np.random.default_rng(0).normal(size=(3, 5))) + 0.1 for n in race.NAMES}
    fig = race.grouped_curves(curves, x=np.arange(5))
    axes = fig.get_axes()
    assert len(axes) == 4 and len(axes[3].get_lines()) >= 3 and axes[3].collections


def test_sweep_figure_puts_a_diverged_rate_at_the_top_as_a_cross():
    bowl = Quadratic(eigenvalues=(1.0, 10.0))
    sweeps = {"SGD": race.sweep("SGD", race.surface_objective(bowl, steps=100), lrs=[0.1, 0.3])}
    ax = race.sweep_figure(sweeps, groups={"g": ("SGD",)}).get_axes()[0]
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [0.3]
    assert crosses[0].get_ydata()[0] == pytest.approx(1e3 * bowl(bowl.start))


def test_sweep_figure_lays_out_without_warnings_when_nothing_diverged():
    import io
    bowl = Quadratic(eigenvalues=(1.0, 10.0))
    sweeps = {"SGD": race.sweep("SGD", race.surface_objective(bowl, steps=20), lrs=[0.01, 0.1])}
    fig = race.sweep_figure(sweeps, groups={"g": ("SGD",)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")


def test_html_table_has_one_row_per_entry_and_keeps_markup():
    table = race.html_table(["a", "b"], [["1", "<b>2</b>"], [3, 4]], caption="c").data
    assert table.count("<tr>") == 3 and "<b>2</b>" in table and "<caption>c</caption>" in table
    assert 'class="dataframe"' in table


def test_html_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="2 cells"):
        race.html_table(["a", "b"], [["1"]])
