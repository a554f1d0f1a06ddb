"""Specification of optlib.lab.ch03_adagrad: effective per-coordinate rates and moving-average weights."""

import math

import numpy as np
import pytest

from optlib import nn
from optlib.lab.ch03_adagrad import (
    RateRecorder,
    ema_weights,
    ema_window,
    half_life,
    run_with_rates,
    updates,
)
from optlib.nn import losses
from optlib.optim import SGD, Adadelta, Adagrad, RMSprop
from optlib.optim.effective_rate import effective_rate
from optlib.surfaces import Quadratic, run
from optlib.train.loop import fit

RNG = np.random.default_rng(0)
GRADS = [RNG.normal(size=3) for _ in range(5)]


@pytest.mark.parametrize("make", [
    lambda: Adagrad(lr=0.1),
    lambda: Adagrad(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.2, eps=1e-3),
    lambda: RMSprop(lr=0.01),
    lambda: RMSprop(lr=0.01, alpha=0.9, centered=True, eps=1e-4),
], ids=["adagrad", "adagrad-options", "rmsprop", "rmsprop-centered"])
def test_the_step_is_minus_the_effective_rate_times_the_gradient(make):
    optimizer, theta = make(), np.zeros(3)
    for g in GRADS:
        before = theta.copy()
        optimizer.step([theta], [g])
        assert np.allclose(theta - before, -effective_rate(optimizer) * g, rtol=1e-12, atol=1e-15)


def test_adagrad_rate_never_increases():
    optimizer = Adagrad(lr=0.1)
    rates = []
    for g in GRADS:
        optimizer.step([np.zeros(3)], [g])
        rates.append(effective_rate(optimizer))
    assert np.all(np.diff(rates, axis=0) <= 0)


def test_adadelta_rate_is_the_next_step_for_a_gradient_of_the_current_size():
    optimizer, theta = Adadelta(rho=0.9), np.zeros(3)
    optimizer.step([theta], [np.ones(3)])
    rate = effective_rate(optimizer)
    state = optimizer.state[0]
    assert np.allclose(rate, np.sqrt(state["acc_delta"] + 1e-6) / np.sqrt(state["square_avg"] + 1e-6))
    # a gradient equal to the RMS so far leaves square_avg unchanged: the step is rate × g
    g = np.sqrt(state["square_avg"])
    before = theta.copy()
    optimizer.step([theta], [g])
    assert np.allclose(before - theta, rate * g)


def test_effective_rate_reads_a_named_parameter():
    optimizer = RMSprop(lr=0.01)
    params = {"w": np.zeros(2), "b": np.zeros(1)}
    optimizer.step(params, {"w": np.array([1.0, 2.0]), "b": np.array([4.0])})
    assert effective_rate(optimizer, "b").shape == (1,)
    assert effective_rate(optimizer, "w")[1] == pytest.approx(0.01 / (math.sqrt(0.01 * 4) + 1e-8))


def test_effective_rate_needs_an_adaptive_optimizer_with_state():
    with pytest.raises(TypeError):
        effective_rate(SGD(lr=0.1))
    with pytest.raises(KeyError, match="no step taken"):
        effective_rate(Adagrad())


def test_a_coordinate_without_gradient_gets_lr_over_eps_in_adagrad():
    optimizer = Adagrad(lr=0.1)
    optimizer.step([np.zeros(2)], [np.array([1.0, 0.0])])
    assert effective_rate(optimizer)[1] == pytest.approx(0.1 / 1e-10)


# ------------------------------------------------------------------ RateRecorder


def test_recorder_behaves_like_the_optimizer_it_wraps():
    a, b = np.zeros(3), np.zeros(3)
    plain, recorder = Adagrad(lr=0.1), RateRecorder(Adagrad(lr=0.1))
    for g in GRADS:
        plain.step([a], [g])
        recorder.step([b], [g])
    assert np.array_equal(a, b)
    recorder.lr = 0.5
    assert recorder.optimizer.lr == 0.5 and recorder.lr == 0.5


def test_recorder_keeps_one_rate_array_per_step():
    recorder = RateRecorder(RMSprop(lr=0.01))
    for g in GRADS:
        recorder.step([np.zeros(3)], [g])
    assert recorder.rates.shape == (5, 3) and list(recorder.steps) == [1, 2, 3, 4, 5]
    assert np.allclose(recorder.rates[-1], effective_rate(recorder.optimizer))


def test_recorder_can_reduce_and_thin_out():
    recorder = RateRecorder(Adagrad(lr=0.1), reduce=np.median, every=2)
    for g in GRADS:
        recorder.step([np.zeros(3)], [g])
    assert recorder.rates.shape == (2,) and list(recorder.steps) == [2, 4]


def test_recorder_can_record_the_size_of_each_step():
    recorder, theta = RateRecorder(Adagrad(lr=0.1), step_sizes=True), np.zeros(3)
    for g in GRADS:
        recorder.step([theta], [g])
    assert recorder.sizes.shape == (5, 3)
    assert np.allclose(recorder.sizes, recorder.rates * np.abs(np.array(GRADS)))


def test_recorder_can_record_the_gradients_rms():
    recorder = RateRecorder(Adagrad(lr=0.1), reduce=np.median, grad_rms=True)
    for g in GRADS:
        recorder.step([np.zeros(3)], [g])
    assert np.allclose(recorder.grad_rms, [np.sqrt(np.mean(g**2)) for g in GRADS])


def test_recorder_works_inside_fit():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=64).astype(np.float32)
    recorder = RateRecorder(Adagrad(lr=0.1), key="0.weight")
    history = fit(nn.MLP([4, 1]), losses.mse, recorder, X, y, epochs=2, batch_size=16, progress=False)
    assert recorder.rates.shape == (history.n_steps, 1, 4)


@pytest.mark.parametrize("kw", [dict(every=0), dict(reduce="median")])
def test_recorder_rejects_bad_arguments(kw):
    with pytest.raises((TypeError, ValueError)):
        RateRecorder(Adagrad(), **kw)


def test_recorder_needs_an_adaptive_optimizer():
    with pytest.raises(TypeError):
        RateRecorder(SGD(lr=0.1))


# ------------------------------------------------------------------ run_with_rates


def test_run_with_rates_follows_the_same_path_as_run():
    bowl = Quadratic((1.0, 20.0))
    trajectory, rates = run_with_rates(Adagrad(lr=0.5), bowl, steps=40)
    assert np.array_equal(trajectory.path, run(Adagrad(lr=0.5), bowl, steps=40).path)
    assert rates.shape == (40, 2)


def test_adagrad_gives_the_steep_coordinate_the_smaller_rate():
    _, rates = run_with_rates(Adagrad(lr=0.5), Quadratic((1.0, 20.0)), steps=40)
    assert np.all(rates[:, 1] < rates[:, 0] / 5)


# ------------------------------------------------------------------ updates


def test_updates_of_gradient_descent_are_minus_lr_times_the_gradients():
    grads = np.array([1.0, -2.0, 0.5])
    assert np.allclose(updates(SGD(lr=0.1), grads), [-0.1, 0.2, -0.05])


def test_updates_keep_the_shape_of_the_gradients():
    assert updates(Adagrad(lr=0.1), np.ones((4, 3))).shape == (4, 3)


def test_adagrad_on_a_constant_gradient_steps_eta_over_sqrt_t():
    steps = -updates(Adagrad(lr=0.1), np.ones(100))
    assert np.allclose(steps, 0.1 / np.sqrt(np.arange(1, 101)), rtol=1e-8)


def test_rmsprop_on_a_constant_gradient_steps_eta_over_sqrt_of_one_minus_alpha_to_the_t():
    t = np.arange(1, 301)
    steps = -updates(RMSprop(lr=0.01, alpha=0.99), np.ones(300))
    assert np.allclose(steps, 0.01 / np.sqrt(1 - 0.99**t), rtol=1e-6)
    assert steps[0] == pytest.approx(0.1, rel=1e-6)


def test_adadelta_first_step_is_sqrt_eps_over_one_minus_rho():
    first = -updates(Adadelta(rho=0.9, eps=1e-6), np.ones(1))[0]
    assert first == pytest.approx(math.sqrt(1e-6 / (0.1 + 1e-6)))


def test_updates_reject_3d_gradients():
    with pytest.raises(ValueError, match="grads"):
        updates(SGD(lr=0.1), np.ones((2, 2, 2)))


# ------------------------------------------------------------------ moving averages


def test_ema_weights_unroll_the_moving_average():
    alpha, g2 = 0.9, RNG.random(30)
    v = 0.0
    for x in g2:
        v = alpha * v + (1 - alpha) * x
    assert v == pytest.approx(ema_weights(alpha, 30) @ g2[::-1])


def test_ema_weights_sum_to_one_minus_alpha_to_the_t():
    assert ema_weights(0.99, 50).sum() == pytest.approx(1 - 0.99**50)


def test_ema_window_is_the_mean_age_of_the_gradients():
    alpha = 0.95
    k = np.arange(5_000)
    assert ema_window(alpha) == pytest.approx(np.sum((k + 1) * ema_weights(alpha, 5_000)))
    assert ema_window(0.9) == pytest.approx(10) and ema_window(0.99) == pytest.approx(100)


def test_half_life_halves_the_weight():
    for alpha in (0.9, 0.99):
        assert alpha ** half_life(alpha) == pytest.approx(0.5)
    assert half_life(0.0) == 0.0


@pytest.mark.parametrize("alpha", [1.0, -0.1, math.nan, True])
def test_moving_average_helpers_reject_alpha_outside_0_1(alpha):
    for f in (lambda: ema_weights(alpha, 3), lambda: ema_window(alpha), lambda: half_life(alpha)):
        with pytest.raises((TypeError, ValueError)):
            f()
