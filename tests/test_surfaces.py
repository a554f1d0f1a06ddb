"""Specification of optlib.surfaces: the 2-D test functions, the runner and the replay."""

import numpy as np
import pytest

from optlib.optim import SGD, Adam
from optlib.optim.effective_rate import effective_rate
from optlib.optim.lr_scheduler import Constant, StepLR
from optlib.surfaces import (
    Beale,
    Himmelblau,
    Quadratic,
    Rosenbrock,
    Saddle,
    Surface,
    Trajectory,
    Valley,
    replay,
    run,
)

SURFACES = [
    Quadratic(),
    Quadratic(eigenvalues=(2.0, 0.5), angle=0.7),
    Rosenbrock(),
    Rosenbrock(a=-0.5, b=10.0),
    Beale(),
    Saddle(),
    Valley(),
    Valley(k=3.0, c=0.5),
    Himmelblau(),
]
ids = [repr(s) for s in SURFACES]


def numerical_grad(surface, xy, h=1e-6):
    """Central differences, float64."""
    g = np.zeros(2)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        g[i] = (surface(xy + e) - surface(xy - e)) / (2 * h)
    return g


def numerical_hessian(surface, xy, h=1e-5):
    """Central differences of the analytic gradient."""
    H = np.zeros((2, 2))
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        H[:, i] = (surface.grad(xy + e) - surface.grad(xy - e)) / (2 * h)
    return H


def random_points(surface, n=8, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.bounds
    return np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])


# --------------------------------------------------------------------------- gradients and minima


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_gradient_matches_central_differences(surface):
    for xy in random_points(surface):
        expected = numerical_grad(surface, xy)
        np.testing.assert_allclose(surface.grad(xy), expected, rtol=1e-6,
                                   atol=1e-6 * (1 + np.abs(expected).max()))


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_minima_are_stationary_with_the_stated_value(surface):
    assert surface.minima.ndim == 2 and surface.minima.shape[1] == 2
    for xy in surface.minima:
        np.testing.assert_allclose(surface.grad(xy), 0.0, atol=1e-10)
        assert surface(xy) == pytest.approx(surface.min_value, abs=1e-12)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_minima_are_minima_not_saddles(surface):
    for xy in surface.minima:
        assert np.all(np.linalg.eigvalsh(numerical_hessian(surface, xy)) > 0)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_no_sampled_point_is_below_the_minimum_value(surface):
    (x0, x1), (y0, y1) = surface.bounds
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201)), axis=-1)
    assert surface(grid).min() >= surface.min_value - 1e-12


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_start_and_minima_lie_inside_the_plotting_window(surface):
    (x0, x1), (y0, y1) = surface.bounds
    for x, y in [surface.start, *surface.minima]:
        assert x0 <= x <= x1 and y0 <= y <= y1


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_every_surface_has_a_name_and_a_float64_start(surface):
    assert isinstance(surface, Surface) and isinstance(surface.name, str)
    assert surface.start.shape == (2,) and surface.start.dtype == np.float64


def test_himmelblau_has_four_distinct_minima():
    assert np.unique(np.round(Himmelblau().minima, 6), axis=0).shape == (4, 2)


def test_saddle_origin_has_zero_gradient_and_an_indefinite_hessian():
    s = Saddle()
    np.testing.assert_array_equal(s.grad(s.saddle), [0.0, 0.0])
    eigenvalues = np.linalg.eigvalsh(numerical_hessian(s, s.saddle))
    np.testing.assert_allclose(eigenvalues, [-1.0, 1.0], atol=1e-8)


def test_saddle_minima_are_zero_plus_minus_one_with_value_minus_a_quarter():
    s = Saddle()
    np.testing.assert_array_equal(s.minima, [[0.0, 1.0], [0.0, -1.0]])
    assert s.min_value == -0.25


def test_valley_has_its_minimum_at_the_origin_and_a_curved_floor():
    v = Valley()
    assert v(np.zeros(2)) == 0.0
    # On the floor y = sin x only the gentle slope c x²/2 is left.
    x = np.linspace(-4, 4, 9)
    floor = np.column_stack([x, np.sin(x)])
    np.testing.assert_allclose(v(floor), 0.5 * v.c * x**2)


def test_rosenbrock_minimum_moves_with_a():
    np.testing.assert_array_equal(Rosenbrock(a=2.0).minima, [[2.0, 4.0]])


# --------------------------------------------------------------------------- Quadratic


@pytest.mark.parametrize("angle", [0.0, 0.3, np.pi / 4, 2.0, -1.1])
def test_quadratic_hessian_has_the_requested_eigenvalues_at_any_angle(angle):
    q = Quadratic(eigenvalues=(0.5, 20.0), angle=angle)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [0.5, 20.0])
    np.testing.assert_allclose(numerical_hessian(q, np.array([0.3, -0.8])), q.A, atol=1e-6)
    np.testing.assert_allclose(q.A, q.A.T)


def test_quadratic_kappa_is_largest_over_smallest_eigenvalue():
    assert Quadratic(eigenvalues=(4.0, 0.5)).kappa == 8.0
    assert Quadratic().kappa == 10.0


def test_quadratic_angle_zero_is_diagonal():
    np.testing.assert_allclose(Quadratic(eigenvalues=(1.0, 10.0)).A, np.diag([1.0, 10.0]))


def test_quadratic_rotation_turns_the_eigenvectors():
    q = Quadratic(eigenvalues=(1.0, 10.0), angle=np.pi / 2)
    np.testing.assert_allclose(q.A, np.diag([10.0, 1.0]), atol=1e-12)


@pytest.mark.parametrize("eigenvalues", [(0.0, 1.0), (-1.0, 1.0), (1.0,), (1.0, 2.0, 3.0),
                                         (1.0, np.inf), (np.nan, 1.0), 3.0])
def test_quadratic_rejects_bad_eigenvalues(eigenvalues):
    with pytest.raises(ValueError, match="eigenvalues"):
        Quadratic(eigenvalues=eigenvalues)


def test_quadratic_rejects_non_finite_angle():
    with pytest.raises(ValueError, match="angle"):
        Quadratic(angle=np.nan)


# --------------------------------------------------------------------------- shapes and dtypes


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_call_and_grad_are_vectorised_over_a_grid(surface):
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 60), np.linspace(-1, 1, 50)), axis=-1)
    assert grid.shape == (50, 60, 2)
    values, grads = surface(grid), surface.grad(grid)
    assert values.shape == (50, 60)
    assert grads.shape == (50, 60, 2)
    np.testing.assert_allclose(values[7, 11], surface(grid[7, 11]))
    np.testing.assert_allclose(grads[7, 11], surface.grad(grid[7, 11]))


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_single_point_gives_scalar_loss_and_vector_gradient(surface):
    assert surface(surface.start).shape == ()
    assert surface.grad(surface.start).shape == (2,)


@pytest.mark.parametrize("surface", SURFACES, ids=ids)
def test_float32_input_stays_float32(surface):
    xy = random_points(surface, 5).astype(np.float32)
    assert surface(xy).dtype == np.float32
    assert surface.grad(xy).dtype == np.float32
    np.testing.assert_allclose(surface(xy), surface(xy.astype(np.float64)), rtol=1e-4, atol=1e-4)


def test_integer_input_is_computed_in_float64():
    assert Rosenbrock()(np.array([1, 1])).dtype == np.float64
    assert Rosenbrock().grad([0, 0]).dtype == np.float64


@pytest.mark.parametrize("xy", [np.zeros(3), np.zeros((4, 3)), np.float64(1.0)])
def test_points_must_have_a_last_axis_of_two(xy):
    with pytest.raises(ValueError, match="xy"):
        Beale()(xy)
    with pytest.raises(ValueError, match="xy"):
        Beale().grad(xy)


def test_surface_constants_are_read_only():
    r = Rosenbrock()
    with pytest.raises(ValueError):
        r.start[0] = 5.0
    with pytest.raises(ValueError):
        r.minima[0, 0] = 5.0


@pytest.mark.parametrize("make, name", [(lambda: Rosenbrock(b=0.0), "b"),
                                        (lambda: Rosenbrock(a=np.inf), "a"),
                                        (lambda: Valley(k=-1.0), "k"),
                                        (lambda: Valley(c=0.0), "c")])
def test_surface_parameters_are_validated(make, name):
    with pytest.raises(ValueError, match=name):
        make()


# --------------------------------------------------------------------------- run


def test_run_returns_start_plus_one_point_per_step():
    traj = run(SGD(lr=1e-3), Rosenbrock(), steps=25)
    assert isinstance(traj, Trajectory)
    assert traj.path.shape == (26, 2) and traj.losses.shape == (26,)
    np.testing.assert_array_equal(traj.path[0], Rosenbrock().start)
    np.testing.assert_allclose(traj.losses, Rosenbrock()(traj.path))


def test_run_uses_the_given_start_and_does_not_modify_it():
    start = np.array([0.5, -0.5])
    traj = run(SGD(lr=0.1), Quadratic(), start=start, steps=3)
    np.testing.assert_array_equal(traj.path[0], [0.5, -0.5])
    np.testing.assert_array_equal(start, [0.5, -0.5])


def test_run_with_zero_steps_records_only_the_start():
    traj = run(SGD(lr=0.1), Beale(), steps=0)
    assert traj.path.shape == (1, 2)
    assert traj.losses[0] == Beale()(Beale().start)


@pytest.mark.parametrize("angle", [0.0, 0.4])
def test_gradient_descent_on_a_quadratic_matches_the_closed_form(angle):
    q, lr, steps = Quadratic(eigenvalues=(1.0, 10.0), angle=angle), 0.15, 30
    traj = run(SGD(lr=lr), q, steps=steps)
    M = np.eye(2) - lr * q.A
    expected = np.array([np.linalg.matrix_power(M, t) @ q.start for t in range(steps + 1)])
    np.testing.assert_allclose(traj.path, expected, rtol=1e-10, atol=1e-14)


def test_too_large_a_learning_rate_diverges_to_inf_or_nan_without_raising():
    # On a quadratic, gradient descent diverges when lr > 2 / λ_max = 0.2.
    traj = run(SGD(lr=1.0), Quadratic(eigenvalues=(1.0, 10.0)), steps=400)
    assert not np.all(np.isfinite(traj.losses))
    assert np.all(np.diff(traj.losses[:50]) > 0)  # it was growing, not jumping


def test_divergence_emits_no_runtime_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(SGD(lr=0.1), Rosenbrock(), steps=200)


def test_schedule_sets_lr_before_each_step():
    seen = []

    class Recorder:
        lr = None

        def step(self, params, grads):
            seen.append(self.lr)

    run(Recorder(), Quadratic(), steps=7, schedule=StepLR(1.0, step_size=3, gamma=0.5))
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_constant_schedule_gives_the_same_path_as_a_fixed_lr():
    a = run(SGD(lr=0.05), Valley(), steps=20)
    b = run(SGD(lr=123.0), Valley(), steps=20, schedule=Constant(0.05))
    np.testing.assert_array_equal(a.path, b.path)


def test_trajectory_arrays_are_read_only():
    traj = run(SGD(lr=0.1), Quadratic(), steps=2)
    with pytest.raises(ValueError):
        traj.losses[0] = 0.0


# --------------------------------------------------------------------------- steps_to


def test_steps_to_is_the_first_step_within_tol_of_the_minimum_value():
    traj = Trajectory(path=np.zeros((5, 2)), losses=np.array([3.0, 1.0, -0.2, 0.5, -0.25]),
                      min_value=-0.25)
    assert traj.steps_to(0.1) == 2
    assert traj.steps_to(0.0) == 4
    assert traj.steps_to(10.0) == 0


def test_steps_to_is_none_if_never_reached_and_nan_never_counts():
    traj = Trajectory(path=np.zeros((3, 2)), losses=np.array([1.0, np.nan, np.inf]))
    assert traj.steps_to(1e-3) is None


def test_steps_to_measures_escape_from_the_saddle():
    # Near the saddle, y grows by (1 + lr) per step, so escaping 1e-3 takes about
    # ln(1000) / ln(1.1) ≈ 72 steps at lr = 0.1; momentum escapes sooner.
    plain = run(SGD(lr=0.1), Saddle(), steps=300).steps_to(1e-3)
    heavy = run(SGD(lr=0.1, momentum=0.5), Saddle(), steps=300).steps_to(1e-3)
    assert 60 < plain < 120
    assert heavy < plain


@pytest.mark.parametrize("tol", [-1.0, np.nan, "1"])
def test_steps_to_rejects_bad_tol(tol):
    with pytest.raises((TypeError, ValueError), match="tol"):
        run(SGD(lr=0.1), Quadratic(), steps=1).steps_to(tol)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("steps", [-1, 2.5, True, "10"])
def test_run_rejects_bad_steps(steps):
    with pytest.raises((TypeError, ValueError), match="steps"):
        run(SGD(lr=0.1), Quadratic(), steps=steps)


@pytest.mark.parametrize("start", [[1.0], [1.0, 2.0, 3.0], [np.nan, 0.0], [[1.0, 2.0]], "ab"])
def test_run_rejects_bad_start(start):
    with pytest.raises(ValueError, match="start"):
        run(SGD(lr=0.1), Quadratic(), start=start)


def test_run_rejects_a_non_surface():
    with pytest.raises(TypeError, match="surface"):
        run(SGD(lr=0.1), lambda xy: 0.0)


def test_run_rejects_an_object_without_step():
    with pytest.raises(TypeError, match="optimizer"):
        run(object(), Quadratic())


def test_run_rejects_a_non_callable_schedule():
    with pytest.raises(TypeError, match="schedule"):
        run(SGD(lr=0.1), Quadratic(), schedule=0.1)


# --------------------------------------------------------------------------- LeastSquares

def _least_squares(n=200, seed=0):
    from optlib.surfaces import LeastSquares
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 3.0]
    y = X @ np.array([0.5, -1.0]) + 0.1 * rng.normal(size=n)
    return LeastSquares(X, y), X, y


def test_least_squares_minimum_is_the_lstsq_solution():
    surface, X, y = _least_squares()
    best = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.allclose(surface.minima[0], best)
    assert np.allclose(surface.grad(best), 0, atol=1e-12)
    assert np.isclose(surface.min_value, np.mean((X @ best - y) ** 2) / 2)


def test_least_squares_loss_is_the_mean_squared_error_over_two():
    surface, X, y = _least_squares()
    theta = np.array([0.3, 0.7])
    assert np.isclose(surface(theta), np.mean((X @ theta - y) ** 2) / 2)


def test_least_squares_full_batch_gradient_is_the_exact_gradient():
    surface, X, y = _least_squares()
    theta = np.array([0.3, 0.7])
    assert np.allclose(surface.batch_grad(theta, np.arange(len(X))), surface.grad(theta))


def test_run_with_batch_size_uses_noisy_gradients_but_still_approaches_the_minimum():
    surface, _, _ = _least_squares()
    exact = run(SGD(lr=0.05), surface, steps=200)
    noisy = run(SGD(lr=0.05), surface, steps=200, batch_size=1, seed=0)
    assert not np.allclose(exact.path, noisy.path)
    assert noisy.losses[-1] - surface.min_value < 0.1 * (noisy.losses[0] - surface.min_value)


def test_run_with_batch_size_is_deterministic_by_seed():
    surface, _, _ = _least_squares()
    a = run(SGD(lr=0.05), surface, steps=50, batch_size=4, seed=3)
    b = run(SGD(lr=0.05), surface, steps=50, batch_size=4, seed=3)
    assert np.array_equal(a.path, b.path)


def test_run_with_batch_size_needs_a_surface_made_of_examples():
    with pytest.raises(TypeError, match="batch_size"):
        run(SGD(lr=0.1), Quadratic(), steps=3, batch_size=2)


def test_run_rejects_a_batch_size_larger_than_the_data():
    surface, _, _ = _least_squares(n=10)
    with pytest.raises(ValueError, match="batch_size"):
        run(SGD(lr=0.1), surface, steps=3, batch_size=11)


# --------------------------------------------------------------------------- replay

def test_replay_returns_the_path_of_a_fixed_gradient_sequence():
    path = replay(SGD(lr=0.5), [1.0, 2.0, -4.0], theta0=1.0)
    assert np.allclose(path, [1.0, 0.5, -0.5, 1.5])


def test_replay_updates_coordinates_side_by_side():
    grads = np.ones((4, 3)) * [1.0, 10.0, 100.0]
    path = replay(Adam(lr=0.1), grads)
    assert path.shape == (5, 3)
    assert np.allclose(path[-1], -0.4), "Adam's step is η whatever the gradient's scale"


def test_replay_records_a_value_after_every_step():
    path, rates = replay(Adam(lr=1.0, eps=0.0), [2.0, 2.0], record=effective_rate)
    assert rates.shape == (2, 1) and np.allclose(rates, 0.5)


def test_replay_rejects_grads_of_the_wrong_shape():
    with pytest.raises(ValueError, match="grads"):
        replay(SGD(lr=0.1), np.zeros((2, 2, 2)))


def test_replay_projects_onto_the_bounds_after_every_step():
    path = replay(SGD(lr=1.0), [-3.0, 5.0, -0.5], theta0=0.0, bounds=(-1.0, 1.0))
    assert np.allclose(path, [0.0, 1.0, -1.0, -0.5])


def test_replay_follows_a_schedule():
    path = replay(SGD(lr=123.0), [1.0, 1.0], schedule=lambda k: 0.1 * (k + 1))
    assert np.allclose(path, [0.0, -0.1, -0.3])


def test_replay_rejects_a_start_outside_the_bounds():
    with pytest.raises(ValueError, match="inside bounds"):
        replay(SGD(lr=0.1), [1.0], theta0=2.0, bounds=(-1.0, 1.0))


# --------------------------------------------------------------------------- record


def test_run_records_a_value_after_every_step():
    traj = run(Adam(lr=0.1), Quadratic(), steps=5, record=effective_rate)
    assert traj.records.shape == (5, 2)
    opt = Adam(lr=0.1)
    run(opt, Quadratic(), steps=5)
    assert np.array_equal(traj.records[-1], effective_rate(opt))


def test_run_without_record_has_no_records():
    assert run(SGD(lr=0.1), Quadratic(), steps=3).records is None


def test_run_rejects_a_non_callable_record():
    with pytest.raises(TypeError, match="record"):
        run(SGD(lr=0.1), Quadratic(), steps=3, record="rates")
