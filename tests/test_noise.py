"""Specification of chapter 9's gradient-noise formulas (optlib.lab.ch09_early_stopping_noise)."""

import numpy as np
import pytest

from optlib.lab.ch09_early_stopping_noise import (
    HoldWeightSpread,
    espnet_noise_std,
    noise_spread,
    noise_variance,
)
from optlib.nn import MLP
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


def test_espnet_noise_std_is_eta_over_steps_of_duration():
    assert espnet_noise_std(0, eta=0.3) == 0.3
    assert espnet_noise_std(99, eta=0.3) == 0.3                      # still the first block
    assert espnet_noise_std(100, eta=0.3) == pytest.approx(0.3 / 2**0.55)
    np.testing.assert_allclose(espnet_noise_std(np.array([0, 250]), 1.0, duration=50),
                               [1.0, 6**-0.55])


def test_espnet_noise_std_rejects_negative_steps_and_bad_duration():
    with pytest.raises(ValueError, match="t must"):
        espnet_noise_std(-1)
    with pytest.raises(ValueError, match="duration"):
        espnet_noise_std(1, duration=0)


def test_hold_weight_spread_rescales_weights_to_their_start_and_leaves_biases():
    model = MLP([4, 8, 3], seed=0)
    hold = HoldWeightSpread(model)
    start = {k: v.copy() for k, v in model.parameters().items()}
    for p in model.parameters().values():
        p += 1.0 + 0.5 * np.arange(p.size).reshape(p.shape)   # an update that grows everything
    assert hold.on_step(1, 0.0, None, model) is False
    for name, p in model.parameters().items():
        if name.endswith("weight"):
            assert p.std() == pytest.approx(start[name].std(), rel=1e-6)
        else:
            assert not np.allclose(p, start[name])            # biases are not touched
