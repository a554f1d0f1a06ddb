"""Specification of optlib.lab.ch02_momentum: closed-form rates on quadratics, and their measurement."""
import math

import numpy as np
import pytest

import optlib.lab.ch02_momentum as th
from optlib.optim import SGD
from optlib.surfaces import Quadratic, run


def distances_of(optimizer, bowl, steps):
    return th.distances(run(optimizer, bowl, steps=steps), bowl.minima[0])


# --------------------------------------------------------------------------- closed forms


def test_condition_number_is_largest_over_smallest_eigenvalue():
    assert th.condition_number([4.0, 0.5, 2.0]) == 8.0


def test_gd_rate_is_the_worst_factor_over_the_eigenvalues():
    assert th.gd_rate(0.1, [1.0, 10.0]) == pytest.approx(0.9)      # max(|1-0.1|, |1-1|)
    assert th.gd_rate(0.19, [1.0, 10.0]) == pytest.approx(0.9)     # max(0.81, |1-1.9|)
    assert th.gd_rate(0.3, [1.0, 10.0]) == pytest.approx(2.0)      # diverges


def test_gd_rate_broadcasts_over_an_array_of_learning_rates():
    rates = th.gd_rate(np.array([0.1, 0.19]), [1.0, 10.0])
    np.testing.assert_allclose(rates, [0.9, 0.9])


def test_gd_optimal_equalizes_the_extreme_directions():
    lr, rate = th.gd_optimal([1.0, 10.0])
    assert lr == pytest.approx(2 / 11)
    assert rate == pytest.approx(9 / 11)
    assert th.gd_rate(lr, [1.0, 10.0]) == pytest.approx(rate)
    for other in (0.9 * lr, 1.1 * lr):
        assert th.gd_rate(other, [1.0, 10.0]) > rate


def test_heavy_ball_optimal_has_the_square_root_of_kappa():
    lr, beta, rate = th.heavy_ball_optimal([1.0, 100.0])
    assert lr == pytest.approx((2 / 11) ** 2)
    assert beta == pytest.approx((9 / 11) ** 2)
    assert rate == pytest.approx(9 / 11)                            # (√100 - 1)/(√100 + 1)
    assert th.heavy_ball_rate(lr, beta, [1.0, 100.0]) == pytest.approx(rate, rel=1e-6)


def test_heavy_ball_optimal_is_a_local_minimum_of_the_rate():
    lam = [0.01, 1.0]
    lr, beta, rate = th.heavy_ball_optimal(lam)
    for dl, db in ((1.05, 0), (0.95, 0), (1, 0.02), (1, -0.02)):
        assert th.heavy_ball_rate(lr * dl, beta + db, lam) > rate - 1e-12


def test_heavy_ball_with_zero_momentum_is_gradient_descent():
    for lr in (0.05, 0.15, 0.25):
        assert th.heavy_ball_rate(lr, 0.0, [1.0, 10.0]) == pytest.approx(th.gd_rate(lr, [1.0, 10.0]))


def test_under_damped_heavy_ball_has_rate_square_root_of_beta_whatever_the_lr():
    # complex roots when (1-√β)² < ηλ < (1+√β)²
    for lr in (0.5, 1.0, 2.0, 3.0):
        assert th.heavy_ball_rate(lr, 0.81, [1.0]) == pytest.approx(0.9)


def test_heavy_ball_rate_is_the_largest_root_modulus_of_its_polynomial():
    rng = np.random.default_rng(0)
    for lr, beta, lam in zip(rng.uniform(0, 5, 20), rng.uniform(0, 0.99, 20), rng.uniform(0.1, 2, 20)):
        roots = np.roots([1, -(1 + beta - lr * lam), beta])
        assert th.heavy_ball_rate(lr, beta, [lam]) == pytest.approx(np.abs(roots).max(), rel=1e-6)


def test_nesterov_rate_is_the_largest_root_modulus_of_its_polynomial():
    rng = np.random.default_rng(1)
    for lr, beta, lam in zip(rng.uniform(0, 2, 20), rng.uniform(0, 0.99, 20), rng.uniform(0.1, 2, 20)):
        s = 1 - lr * lam
        roots = np.roots([1, -(1 + beta) * s, beta * s])
        assert th.nesterov_rate(lr, beta, [lam]) == pytest.approx(np.abs(roots).max(), rel=1e-6)


def test_rates_broadcast_over_a_grid_of_lr_and_momentum():
    lr, beta = np.meshgrid(np.linspace(0.1, 3, 4), np.linspace(0, 0.9, 3))
    assert th.heavy_ball_rate(lr, beta, [1.0, 2.0]).shape == (3, 4)
    assert th.nesterov_rate(lr, beta, [1.0, 2.0]).shape == (3, 4)
    assert th.heavy_ball_stable(lr, beta, [1.0]).shape == (3, 4)


def test_stability_region_is_lr_times_lambda_below_two_plus_two_beta():
    for beta in (0.0, 0.5, 0.9):
        edge = (2 + 2 * beta)
        assert th.heavy_ball_stable(0.99 * edge, beta, [1.0])
        assert not th.heavy_ball_stable(1.01 * edge, beta, [1.0])
        assert th.heavy_ball_rate(0.99 * edge, beta, [1.0]) < 1 < th.heavy_ball_rate(1.01 * edge, beta, [1.0])
    assert not th.heavy_ball_stable(0.0, 0.5, [1.0]), "η = 0 does not converge"


def test_stability_agrees_with_the_rate_on_a_grid():
    lr, beta = np.meshgrid(np.linspace(0.01, 4, 57), np.linspace(0, 0.98, 23))
    stable = th.heavy_ball_stable(lr, beta, [1.0])
    rate = th.heavy_ball_rate(lr, beta, [1.0])
    edge = np.abs(lr - (2 + 2 * beta)) < 1e-9
    assert np.array_equal(stable[~edge], rate[~edge] < 1)


def test_critical_momentum_gives_a_double_root_and_the_best_rate():
    lr, lam = 1.0, 0.01
    beta_c = th.critical_momentum(lr, lam)
    assert beta_c == pytest.approx(0.81)
    assert th.heavy_ball_rate(lr, beta_c, [lam]) == pytest.approx(1 - math.sqrt(lr * lam))
    for beta in (beta_c - 0.05, beta_c + 0.05):
        assert th.heavy_ball_rate(lr, beta, [lam]) > th.heavy_ball_rate(lr, beta_c, [lam])


def test_nesterov_standard_setting_has_rate_one_minus_one_over_root_kappa():
    lr, beta, rate = th.nesterov_standard([0.01, 1.0])
    assert (lr, beta, rate) == pytest.approx((1.0, 9 / 11, 0.9))
    assert th.nesterov_rate(lr, beta, [0.01, 1.0]) == pytest.approx(rate, rel=1e-6)


def test_nesterov_damps_a_steep_direction_more_than_heavy_ball():
    # same η and β: where ηλ is not small, the effective momentum β(1 - ηλ) is smaller
    assert th.nesterov_rate(0.5, 0.9, [1.0]) == pytest.approx(math.sqrt(0.45))
    assert th.heavy_ball_rate(0.5, 0.9, [1.0]) == pytest.approx(math.sqrt(0.9))


# --------------------------------------------------------------------------- against optlib runs


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_gd_at_its_optimal_rate_shrinks_exactly_at_the_predicted_rate(kappa):
    bowl = Quadratic(eigenvalues=(1.0, kappa), angle=0.4)
    lr, rate = th.gd_optimal(bowl.eigenvalues)
    e = distances_of(SGD(lr=lr), bowl, steps=th.predicted_steps(rate, 1e-9))
    assert th.measured_rate(e) == pytest.approx(rate, rel=1e-9)
    assert th.steps_to_shrink(e, 1e-6) == th.predicted_steps(rate, 1e-6)


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_heavy_ball_at_its_optimum_matches_theory(kappa):
    bowl = Quadratic(eigenvalues=(1.0, kappa), angle=0.4)
    lr, beta, rate = th.heavy_ball_optimal(bowl.eigenvalues)
    steps = 3 * th.predicted_steps(rate, 1e-6)
    e = distances_of(SGD(lr=lr, momentum=beta), bowl, steps=steps)
    # the double root adds a factor t, which fades as 1/t
    assert 1 - th.measured_rate(e) == pytest.approx(1 - rate, rel=0.05)
    measured = th.steps_to_shrink(e, 1e-6)
    assert th.predicted_steps(rate) < measured <= th.predicted_steps(rate, critical=True)


def test_measured_rate_of_an_oscillating_run_is_its_envelope():
    t = np.arange(400)
    e = 0.97**t * np.abs(np.cos(0.3 * t + 0.2)) + 1e-300
    assert th.measured_rate(e) == pytest.approx(0.97, abs=2e-3)


def test_measured_rate_of_a_diverging_run_is_above_one():
    e = 1.05 ** np.arange(200)
    assert th.measured_rate(e) == pytest.approx(1.05)


def test_measured_rates_match_theory_across_the_damping_regimes():
    bowl = Quadratic(eigenvalues=(0.01, 1.0), angle=0.3)
    for beta in (0.3, 0.81, 0.95):       # over-, critically and under-damped along the floor
        e = distances_of(SGD(lr=1.0, momentum=beta), bowl, steps=1500)
        predicted = th.heavy_ball_rate(1.0, beta, bowl.eigenvalues)
        assert 1 - th.measured_rate(e, windows=4) == pytest.approx(1 - predicted, rel=0.05)


def test_measured_nesterov_rate_matches_theory():
    bowl = Quadratic(eigenvalues=(0.05, 1.0), angle=0.3)
    e = distances_of(SGD(lr=0.8, momentum=0.7, nesterov=True), bowl, steps=600)
    assert th.measured_rate(e) == pytest.approx(th.nesterov_rate(0.8, 0.7, bowl.eigenvalues), rel=2e-3)


def test_steps_to_shrink_finds_the_first_step_below_the_factor():
    e = np.array([1.0, 0.5, 0.2, 0.05, 0.1, 0.01])
    assert th.steps_to_shrink(e, 0.1) == 3
    assert th.steps_to_shrink(e, 1e-3) is None


def test_predicted_steps_of_an_exact_power_is_not_rounded_up():
    assert th.predicted_steps(0.1, 1e-6) == 6
    assert th.predicted_steps(0.5, 0.3) == 2


def test_distances_accept_a_trajectory_or_a_path():
    path = np.array([[3.0, 4.0], [0.0, 1.0]])
    np.testing.assert_allclose(th.distances(path, [0.0, 0.0]), [5.0, 1.0])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [[], [1.0, 0.0], [1.0, -2.0], [1.0, math.inf], "ab"])
def test_bad_eigenvalues_are_refused(bad):
    with pytest.raises(ValueError, match="eigenvalues"):
        th.gd_optimal(bad)


def test_bad_hyper_parameters_are_refused_with_their_names():
    with pytest.raises(ValueError, match="lr"):
        th.gd_rate(-0.1, [1.0])
    with pytest.raises(ValueError, match="momentum"):
        th.heavy_ball_rate(0.1, 1.0, [1.0])
    with pytest.raises(ValueError, match="lr \\* eigenvalue"):
        th.critical_momentum(5.0, 1.0)
    with pytest.raises(TypeError, match="eigenvalue"):
        th.critical_momentum(0.5, [1.0, 2.0])
    with pytest.raises(ValueError, match="factor"):
        th.steps_to_shrink([1.0, 0.5], 1.5)
    with pytest.raises(ValueError, match="rate"):
        th.predicted_steps(1.0)


def test_measured_rate_refuses_too_few_steps_or_zero_errors():
    with pytest.raises(ValueError, match="windows"):
        th.measured_rate(np.ones(10))
    with pytest.raises(ValueError, match="0 throughout a window"):
        th.measured_rate(np.zeros(100))
    with pytest.raises(ValueError, match="finite"):
        th.measured_rate(np.full(100, np.inf))
    with pytest.raises(ValueError, match="windows"):
        th.measured_rate(np.ones(100), windows=1)


def test_eigen_coordinates_separate_the_floor_from_the_walls():
    bowl = Quadratic(eigenvalues=(0.1, 1.0), angle=0.7)
    coords = th.eigen_coordinates(run(SGD(lr=1.0), bowl, steps=5), bowl)
    assert np.all(coords[0] >= 0)
    np.testing.assert_allclose(coords[1:, 1], 0.0, atol=1e-12)          # 1 - ηλ = 0 across
    np.testing.assert_allclose(coords[1:, 0], coords[:-1, 0] * 0.9)     # 1 - ηλ = 0.9 along


def test_measure_returns_the_rate_and_the_steps_of_a_run():
    bowl = Quadratic(eigenvalues=(1.0, 10.0), angle=0.4)
    lr, rate = th.gd_optimal(bowl.eigenvalues)
    measured, steps = th.measure(SGD(lr=lr), bowl, steps=200)
    assert measured == pytest.approx(rate)
    assert steps == th.predicted_steps(rate)


def test_measure_reports_a_one_step_solve_as_rate_zero():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    rate, steps = th.measure(SGD(lr=1.0), bowl, steps=50)
    assert rate == 0.0 and steps == 1


def test_measure_reports_a_fast_overflow_as_rate_inf():
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    rate, steps = th.measure(SGD(lr=1e200), bowl, steps=50)
    assert rate == math.inf and steps is None


def test_measure_looks_past_a_momentary_zero():
    # ηλ = 1: the first step lands on the minimum, momentum carries the run away again
    bowl = Quadratic(eigenvalues=(1.0, 1.0))
    rate, _ = th.measure(SGD(lr=1.0, momentum=0.81), bowl, steps=200)
    assert rate == pytest.approx(0.9, rel=0.01)
