"""Specification of chapter 9's gradient-noise formulas (optlib.lab.ch09_early_stopping_noise)."""

import numpy as np
import pytest

from optlib.lab.ch09_early_stopping_noise import noise_spread, noise_variance
from optlib.optim import SGD
from optlib.optim.wrappers import GradientNoise


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
