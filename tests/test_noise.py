"""Specification of optlib.optim.noise: annealed Gaussian gradient noise as an optimizer wrapper."""

import math

import numpy as np
import pytest

from optlib.data import make_blobs
from optlib.nn.losses import softmax_cross_entropy
from optlib.nn import MLP
from optlib.optim.noise import GradientNoise, noise_spread, noise_variance
from optlib.optim import SGD, Adam
from optlib.optim.lr_scheduler import step_decay
from optlib.train.loop import fit


def test_variance_follows_eta_over_one_plus_t_to_the_gamma():
    assert noise_variance(1, eta=0.3, gamma=0.55) == pytest.approx(0.3 / 2**0.55)
    t = np.array([1, 9, 99])
    np.testing.assert_allclose(noise_variance(t, 1.0, 0.5), 1 / np.sqrt(1 + t))


def test_variance_is_constant_with_gamma_zero():
    assert noise_variance(1, 0.3, 0.0) == noise_variance(1000, 0.3, 0.0) == 0.3


def test_variance_rejects_step_zero_and_negative_scales():
    with pytest.raises(ValueError, match="t must be >= 1"):
        noise_variance(0)
    with pytest.raises(ValueError, match="eta must be a finite number >= 0"):
        noise_variance(1, eta=-1.0)
    with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
        noise_variance(1, gamma=float("nan"))


def test_added_noise_has_the_annealed_standard_deviation():
    # With a zero gradient and plain SGD (lr=1), each step moves θ by exactly -ξ_t.
    opt = GradientNoise(SGD(lr=1.0), eta=0.3, gamma=0.55, seed=0)
    theta = np.zeros(200_000)
    for t in (1, 2, 3):
        before = theta.copy()
        opt.step([theta], [np.zeros_like(theta)])
        step = before - theta
        assert step.std() == pytest.approx(math.sqrt(noise_variance(t, 0.3, 0.55)), rel=0.01)
        assert abs(step.mean()) < 0.01


def test_eta_zero_leaves_the_wrapped_optimizer_unchanged():
    rng = np.random.default_rng(1)
    g = rng.standard_normal(5)
    a, b = np.ones(5), np.ones(5)
    plain, wrapped = Adam(lr=0.1), GradientNoise(Adam(lr=0.1), eta=0.0)
    for _ in range(3):
        plain.step([a], [g])
        wrapped.step([b], [g])
    np.testing.assert_array_equal(a, b)


def test_the_callers_gradients_are_not_modified():
    g = {"w": np.ones(4, dtype=np.float32)}
    GradientNoise(SGD(lr=0.1), eta=1.0).step({"w": np.zeros(4, dtype=np.float32)}, g)
    np.testing.assert_array_equal(g["w"], np.ones(4))


def test_float32_parameters_stay_float32():
    p = np.zeros(3, dtype=np.float32)
    GradientNoise(SGD(lr=0.1), eta=1.0).step([p], [np.zeros(3, dtype=np.float32)])
    assert p.dtype == np.float32 and np.any(p != 0)


def test_same_seed_same_noise_different_seed_different_noise():
    def run(seed):
        p = np.zeros(10)
        GradientNoise(SGD(lr=1.0), eta=1.0, seed=seed).step([p], [np.zeros(10)])
        return p
    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_lr_reads_and_writes_the_wrapped_optimizer():
    inner = SGD(lr=0.1)
    opt = GradientNoise(inner, eta=0.01)
    assert opt.lr == 0.1
    opt.lr = 0.05
    assert inner.lr == 0.05


def test_plugs_into_fit_unchanged_including_schedules():
    X, y = make_blobs(n=120, centers=3, std=0.5, seed=0)
    opt = GradientNoise(SGD(lr=0.1), eta=0.01, seed=0)
    h = fit(MLP([2, 8, 3], seed=0), softmax_cross_entropy, opt, X, y, epochs=3, batch_size=20,
            schedule=step_decay(0.1, step_size=6, gamma=0.5), progress=False)
    assert opt.t == h.n_steps == 18
    assert h.lr[0] == 0.1 and h.lr[-1] == 0.025
    assert h.train_loss[-1] < h.train_loss[0]


def test_state_dict_resumes_the_same_noise_sequence():
    def make(seed):
        return GradientNoise(SGD(lr=0.5, momentum=0.9), eta=1.0, seed=seed)
    g = [np.ones(6)]
    straight, a = make(0), [np.zeros(6)]
    for _ in range(3):
        straight.step(a, g)
    first, b = make(0), [np.zeros(6)]
    first.step(b, g)
    saved = first.state_dict()
    resumed = make(99)                                # another seed: the state overrides it
    resumed.load_state_dict(saved)
    for _ in range(2):
        resumed.step(b, g)
    assert resumed.t == 3
    np.testing.assert_array_equal(a[0], b[0])


def test_rejects_an_object_without_step_and_bad_scales():
    with pytest.raises(TypeError, match="optimizer must have a step"):
        GradientNoise(object())
    with pytest.raises(ValueError, match="eta must be a finite number >= 0"):
        GradientNoise(SGD(lr=0.1), eta=-0.1)


def test_noise_spread_matches_a_random_walk_on_a_plateau():
    lr, steps = 0.05, 300
    opt = GradientNoise(SGD(lr=lr), eta=0.3, gamma=0.55, seed=0)
    theta = np.zeros(20_000)
    for _ in range(steps):
        opt.step([theta], [np.zeros_like(theta)])
    assert theta.std() == pytest.approx(noise_spread(lr, steps, eta=0.3, gamma=0.55), rel=0.02)


def test_noise_spread_is_zero_without_steps_and_rejects_bad_steps():
    assert noise_spread(0.1, 0) == 0.0
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        noise_spread(0.1, -1)
