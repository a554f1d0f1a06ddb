"""Specification of optlib.lab.ch03_adagrad: a sparse-feature regression and rescaled surfaces."""

import math

import numpy as np
import pytest

from optlib.lab.ch03_adagrad import Rescaled, sparse_features, zipf_frequencies
from optlib.optim import SGD, Adadelta
from optlib.surfaces import Quadratic, Rosenbrock, run

# ------------------------------------------------------------------ zipf_frequencies


def test_zipf_frequencies_fall_as_a_power_of_the_rank():
    p = zipf_frequencies(100, p_max=0.5, exponent=1.0)
    assert p[0] == 0.5 and p[9] == pytest.approx(0.05) and p[99] == pytest.approx(0.005)
    assert np.all(np.diff(p) < 0)


def test_zipf_exponent_zero_makes_every_feature_equally_frequent():
    assert np.all(zipf_frequencies(5, p_max=0.3, exponent=0.0) == 0.3)


@pytest.mark.parametrize("kw", [dict(d=0), dict(d=2.5), dict(d=5, p_max=0.0), dict(d=5, p_max=1.5),
                                dict(d=5, exponent=-1.0), dict(d=5, exponent=math.nan)])
def test_zipf_frequencies_reject_bad_arguments(kw):
    with pytest.raises((TypeError, ValueError)):
        zipf_frequencies(**kw)


# ------------------------------------------------------------------ sparse_features


@pytest.fixture(scope="module")
def sparse():
    return sparse_features(n=4_000, d=50, noise=0.5, seed=0)


def test_sparse_features_have_the_requested_shapes_and_dtypes(sparse):
    assert sparse.X_train.shape == (4_000, 50) and sparse.y_train.shape == (4_000,)
    assert sparse.X_val.shape == (800, 50) and sparse.X_test.shape == (800, 50)
    assert sparse.X_train.dtype == np.float32 and sparse.y_train.dtype == np.float32


def test_a_feature_is_zero_or_plus_minus_one(sparse):
    assert set(np.unique(sparse.X_train)) <= {-1.0, 0.0, 1.0}


def test_features_are_active_as_often_as_their_frequency(sparse):
    observed = sparse.info["count"] / 4_000
    expected = sparse.info["frequency"]
    # binomial standard error, 5 sigma
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / 4_000) + 1e-3)
    assert np.array_equal(sparse.info["count"], np.count_nonzero(sparse.X_train, axis=0))


def test_the_gradient_of_a_feature_is_proportional_to_its_frequency(sparse):
    # at w = 0 the gradient of the mean squared error is -2/N Xᵀy, whose mean is -2 p_j w*_j
    X, y = sparse.X_train.astype(float), sparse.y_train.astype(float)
    g = -2 * X.T @ y / len(X)
    p, w = sparse.info["frequency"], sparse.info["weights"]
    standard_error = 2 * np.sqrt(p * np.mean(y**2) / len(X))
    assert np.all(np.abs(g - (-2 * p * w)) < 5 * standard_error)


def test_optimum_is_the_least_squares_solution_of_the_training_set(sparse):
    X, y = sparse.X_train.astype(float), sparse.y_train.astype(float)
    w = sparse.info["optimum"]
    assert np.allclose(X.T @ (X @ w - y), 0, atol=1e-6 * len(X))
    assert sparse.info["min_loss"] == pytest.approx(np.mean((X @ w - y) ** 2), rel=1e-9)


def test_min_loss_is_close_to_the_noise_variance(sparse):
    assert 0.25 * 0.8 < sparse.info["min_loss"] < 0.25 * 1.05


def test_same_seed_same_data_other_seed_other_data():
    a, b = sparse_features(n=200, d=10, seed=3), sparse_features(n=200, d=10, seed=3)
    c = sparse_features(n=200, d=10, seed=4)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_train, c.y_train)


def test_a_feature_that_never_appears_does_not_break_the_optimum():
    data = sparse_features(n=50, d=40, p_max=0.5, seed=0)     # p_40 = 0.0125: likely absent
    assert np.all(np.isfinite(data.info["optimum"]))
    assert np.allclose(data.info["optimum"][data.info["count"] == 0], 0, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(n=0), dict(noise=-1.0), dict(n_held=0), dict(d=0)])
def test_sparse_features_reject_bad_arguments(kw):
    with pytest.raises(ValueError):
        sparse_features(**{"n": 100, "d": 5, **kw})


# ------------------------------------------------------------------ Rescaled


def test_rescaled_loss_is_the_original_at_the_scaled_point():
    base, c = Rosenbrock(), 100.0
    s = Rescaled(base, c)
    theta = np.array([[0.3, -0.7], [1.0, 1.0]])
    assert np.allclose(s(c * theta), base(theta))


def test_rescaled_gradient_is_divided_by_the_scale():
    base, c = Rosenbrock(), 0.01
    s = Rescaled(base, c)
    theta = np.array([0.3, -0.7])
    assert np.allclose(s.grad(c * theta), base.grad(theta) / c)


def test_rescaled_surface_moves_minima_start_and_bounds():
    s = Rescaled(Rosenbrock(), 10.0)
    assert np.allclose(s.minima, [[10.0, 10.0]]) and np.allclose(s.start, 10 * Rosenbrock().start)
    assert s.bounds == ((-20.0, 20.0), (-10.0, 30.0)) and s.min_value == 0.0


def test_rescaled_keeps_float32():
    s = Rescaled(Quadratic(), 3.0)
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert s(x).dtype == np.float32 and s.grad(x).dtype == np.float32


def test_gradient_descent_is_unit_free_only_if_its_rate_scales_with_c_squared():
    base, c = Quadratic((1.0, 10.0), angle=0.5), 100.0
    reference = run(SGD(lr=0.1), base, steps=30)
    scaled = run(SGD(lr=0.1 * c**2), Rescaled(base, c), steps=30)
    assert np.allclose(scaled.path, c * reference.path) and np.allclose(scaled.losses, reference.losses)
    unscaled = run(SGD(lr=0.1), Rescaled(base, c), steps=30)
    assert unscaled.losses[-1] > 0.9 * unscaled.losses[0]     # η has units: it crawls


def test_adadelta_with_epsilon_scaled_like_theta_squared_nearly_repeats_its_path():
    base, c = Quadratic((1.0, 10.0), angle=0.5), 0.1
    reference = run(Adadelta(), base, steps=300)
    scaled = run(Adadelta(eps=1e-6 * c**2), Rescaled(base, c), steps=300)
    # ε also sits in the denominator, where it should scale as 1/c²: not exact, but close
    assert np.allclose(scaled.path / c, reference.path, atol=1e-3)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.inf])
def test_rescaled_rejects_a_scale_that_is_not_positive(scale):
    with pytest.raises(ValueError):
        Rescaled(Quadratic(), scale)


def test_rescaled_needs_a_surface():
    with pytest.raises(TypeError):
        Rescaled(lambda x: x, 2.0)
