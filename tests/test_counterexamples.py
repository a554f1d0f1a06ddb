"""Specification of optlib.lab.ch05_adam: Reddi et al.'s online problem, projected."""

import pytest

from optlib.lab.ch05_adam import inverse_sqrt, projected_online, reddi_gradients
from optlib.optim import SGD, Adam


def test_reddi_gradients_are_C_every_third_step_and_minus_one_otherwise():
    assert list(reddi_gradients(7, C=3.0)) == [3, -1, -1, 3, -1, -1, 3]


def test_reddi_gradients_rejects_a_bad_period():
    with pytest.raises(ValueError, match="period"):
        reddi_gradients(10, period=1)


def test_inverse_sqrt_is_alpha_over_root_t():
    s = inverse_sqrt(0.5)
    assert s(0) == 0.5 and s(3) == pytest.approx(0.25)


def test_projection_keeps_x_in_the_feasible_set():
    run = projected_online(SGD(lr=10.0), [-1.0, -1.0, 5.0], x0=0.0)
    assert list(run.x) == [0.0, 1.0, 1.0, -1.0]


def test_regret_compares_with_the_best_fixed_point():
    run = projected_online(SGD(lr=0.0), [3.0, -1.0, -1.0], x0=1.0)   # x stays at 1
    # paid 3 - 1 - 1 = 1; the best fixed x = -1 pays -1
    assert run.regret[-1] == pytest.approx(2.0)
    assert run.average_regret[-1] == pytest.approx(2.0 / 3)


def test_schedule_sets_the_rate_before_each_step():
    opt = SGD(lr=1.0)
    projected_online(opt, [0.0] * 4, x0=0.0, schedule=inverse_sqrt(1.0))
    assert opt.lr == pytest.approx(0.5), "the fourth step used α/√4"


def test_adam_goes_to_plus_one_and_amsgrad_to_minus_one():
    C, grads = 3.0, reddi_gradients(3000, C=3.0)
    betas = (0.0, 1 / (1 + C * C))
    adam = projected_online(Adam(betas=betas), grads, schedule=inverse_sqrt(0.5))
    ams = projected_online(Adam(betas=betas, amsgrad=True), grads, schedule=inverse_sqrt(0.5))
    assert adam.x[-3:].min() > 0.95 and adam.average_regret[-1] > 0.6
    assert ams.x[-3:].max() < -0.95 and ams.average_regret[-1] < 0.05


def test_rejects_a_start_outside_the_bounds():
    with pytest.raises(ValueError, match="inside bounds"):
        projected_online(SGD(lr=0.1), [1.0], x0=2.0)
