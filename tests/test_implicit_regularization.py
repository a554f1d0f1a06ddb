"""Specification of optlib.lab.ch09_early_stopping_noise: early-stopped GD vs. ridge on least squares."""

import numpy as np
import pytest

from optlib.data import linear_regression
from optlib.lab.ch09_early_stopping_noise import (
    equivalent_alpha,
    gd_filter,
    gd_iterate,
    ridge,
    ridge_filter,
)
from optlib.optim import SGD


@pytest.fixture(scope="module")
def problem():
    X, y, _, _ = linear_regression(n=30, d=20, noise=1.0, seed=0)
    return X.astype(np.float64), y[:, 0].astype(np.float64)


def test_gd_iterate_is_exactly_t_steps_of_gradient_descent_from_zero(problem):
    X, y = problem
    theta, opt = np.zeros(X.shape[1]), SGD(lr=0.2)
    for _ in range(40):
        opt.step([theta], [X.T @ (X @ theta - y) / len(X)])
    np.testing.assert_allclose(gd_iterate(X, y, 0.2, 40), theta, atol=1e-12)


def test_gd_iterate_of_several_step_counts_stacks_rows(problem):
    X, y = problem
    rows = gd_iterate(X, y, 0.1, [0, 5, 50])
    assert rows.shape == (3, X.shape[1])
    np.testing.assert_array_equal(rows[0], 0.0)
    np.testing.assert_allclose(rows[2], gd_iterate(X, y, 0.1, 50))


def test_ridge_solves_the_penalized_normal_equations(problem):
    X, y = problem
    alpha, n, d = 0.3, *X.shape
    expected = np.linalg.solve(X.T @ X / n + alpha * np.eye(d), X.T @ y / n)
    np.testing.assert_allclose(ridge(X, y, alpha), expected, atol=1e-10)
    assert ridge(X, y, [0.3, 1.0]).shape == (2, d)


def test_long_gd_and_weak_ridge_both_reach_least_squares(problem):
    X, y = problem
    theta_star = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(gd_iterate(X, y, 0.2, 200_000), theta_star, atol=1e-6)
    np.testing.assert_allclose(ridge(X, y, 1e-10), theta_star, atol=1e-6)


def test_filters_go_from_zero_for_flat_directions_to_one_for_steep_ones():
    lam = np.array([1e-6, 1.0, 100.0])
    assert gd_filter(lam, lr=0.01, steps=100) == pytest.approx([1e-6, 0.634, 1.0], abs=1e-3)
    assert ridge_filter(lam, alpha=1.0) == pytest.approx([1e-6, 0.5, 100 / 101], abs=1e-6)


def test_the_equivalent_alpha_makes_the_filters_differ_by_at_most_a_fifth():
    lam = np.logspace(-3, 0, 50)
    for t in (10, 100, 1000):
        alpha = equivalent_alpha(0.01, t)
        assert alpha == pytest.approx(1 / (0.01 * t))
        gap = np.abs(gd_filter(lam, 0.01, t) - ridge_filter(lam, alpha))
        assert gap.max() < 0.21                         # max of 1 - e^-x - x/(1+x) ≈ 0.2


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        gd_filter([1.0], lr=0.0, steps=1)
    with pytest.raises(ValueError, match="steps must be integers >= 0"):
        gd_filter([1.0], lr=0.1, steps=1.5)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        ridge_filter([1.0], alpha=-1.0)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        equivalent_alpha(0.1, 0)
