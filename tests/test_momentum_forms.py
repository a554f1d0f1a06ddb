"""Specification of optlib.lab.ch02_momentum: the papers' forms of momentum, against PyTorch's."""
import numpy as np
import pytest

import optlib.lab.ch02_momentum as mf
from optlib.optim import SGD
from optlib.surfaces import Quadratic, Rosenbrock, run

BOWL = Quadratic(eigenvalues=(0.05, 1.0), angle=0.5)


def test_heavy_ball_velocity_form_equals_pytorch_form_at_constant_lr():
    ours = mf.heavy_ball(BOWL.grad, BOWL.start, lr=0.5, momentum=0.9, steps=100)
    torch_form = run(SGD(lr=0.5, momentum=0.9), BOWL, steps=100)
    np.testing.assert_allclose(ours.path, torch_form.path, rtol=0, atol=1e-12)


def test_equivalence_holds_on_a_non_quadratic_surface():
    surface = Rosenbrock()
    ours = mf.heavy_ball(surface.grad, surface.start, lr=1e-3, momentum=0.9, steps=200)
    np.testing.assert_allclose(ours.path, run(SGD(lr=1e-3, momentum=0.9), surface, steps=200).path,
                               rtol=1e-12, atol=1e-12)


def test_velocity_is_minus_lr_times_pytorchs_buffer():
    opt = SGD(lr=0.5, momentum=0.9)
    ours = mf.heavy_ball(BOWL.grad, BOWL.start, lr=0.5, momentum=0.9, steps=10)
    run(opt, BOWL, steps=10)
    np.testing.assert_allclose(ours.velocity[-1], -0.5 * opt.state[0]["momentum_buffer"], atol=1e-12)


def test_forms_differ_when_the_learning_rate_changes():
    schedule = lambda t: 0.5 if t < 20 else 0.05                       # noqa: E731
    ours = mf.heavy_ball(BOWL.grad, BOWL.start, lr=schedule, momentum=0.9, steps=40)
    torch_form = run(SGD(lr=0.5, momentum=0.9), BOWL, steps=40, schedule=schedule)
    np.testing.assert_allclose(ours.path[:21], torch_form.path[:21], atol=1e-12)
    assert np.abs(ours.path[22:] - torch_form.path[22:]).max() > 1e-3


def test_zero_momentum_is_gradient_descent():
    ours = mf.heavy_ball(BOWL.grad, BOWL.start, lr=0.5, momentum=0.0, steps=30)
    np.testing.assert_allclose(ours.path, run(SGD(lr=0.5), BOWL, steps=30).path, atol=1e-12)


def test_pytorch_nesterov_iterates_are_the_lookahead_points():
    beta = 0.9
    ours = mf.nesterov_lookahead(BOWL.grad, BOWL.start, lr=0.5, momentum=beta, steps=100)
    torch_form = run(SGD(lr=0.5, momentum=beta, nesterov=True), BOWL, steps=100)
    np.testing.assert_allclose(torch_form.path, ours.path + beta * ours.velocity, atol=1e-12)
    assert np.abs(torch_form.path - ours.path).max() > 1e-2, "the two sequences are not the same points"


def test_lookahead_reads_the_gradient_ahead():
    seen = []

    def grad(theta):
        seen.append(theta.copy())
        return BOWL.grad(theta)

    out = mf.nesterov_lookahead(grad, BOWL.start, lr=0.5, momentum=0.9, steps=3)
    np.testing.assert_allclose(seen[2], out.path[2] + 0.9 * out.velocity[2])


def test_runs_start_at_rest_and_record_every_step():
    out = mf.heavy_ball(BOWL.grad, [1.0, 2.0], lr=0.1, momentum=0.5, steps=7)
    assert out.path.shape == out.velocity.shape == (8, 2)
    np.testing.assert_array_equal(out.path[0], [1.0, 2.0])
    np.testing.assert_array_equal(out.velocity[0], [0.0, 0.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=-1.0), "lr"), (dict(lr="a"), "lr"), (dict(momentum=1.0), "momentum"),
    (dict(steps=-1), "steps"), (dict(theta0=[np.nan, 0.0]), "theta0"),
])
def test_bad_arguments_are_refused_with_their_names(kwargs, match):
    args = dict(grad=BOWL.grad, theta0=[1.0, 1.0], lr=0.1, momentum=0.9, steps=5)
    args.update(kwargs)
    with pytest.raises((TypeError, ValueError), match=match):
        mf.heavy_ball(**args)


def test_grad_must_be_callable():
    with pytest.raises(TypeError, match="grad"):
        mf.nesterov_lookahead(np.zeros(2), [1.0, 1.0], lr=0.1, momentum=0.9, steps=5)
