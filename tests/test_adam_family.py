"""Specification of optlib.lab.ch05_adam: what Adam's family does, read off step by step."""
import math

import numpy as np
import pytest

from optlib.lab.ch05_adam import (
    AdamEpsHat,
    constant_gradient_step,
    epsilon_hat_to_eps,
    nadam_momentum,
    radam_rectifier,
    radam_rho,
)
from optlib.optim import SGD, Adam, AdamW, NAdam, RAdam
from optlib.optim.effective_rate import effective_rate
from optlib.surfaces import replay

# ------------------------------------------------------------------ bias correction

def test_corrected_adam_steps_eta_under_a_constant_gradient():
    assert np.allclose(constant_gradient_step(np.arange(1, 100)), 1.0)
    steps = np.abs(np.diff(replay(Adam(lr=0.01, eps=0.0), np.full(50, 3.0))))
    assert np.allclose(steps / 0.01, 1.0)


def test_uncorrected_step_matches_adams_raw_moments():
    opt = Adam(lr=1.0, eps=0.0)
    for t in range(1, 30):
        opt.step([np.zeros(1)], [np.array([2.0])])
        s = opt.state[0]
        raw = s["exp_avg"][0] / math.sqrt(s["exp_avg_sq"][0])      # η m_t / √v_t
        assert raw == pytest.approx(constant_gradient_step(t, correct_m=False, correct_v=False))


def test_each_missing_correction_has_its_closed_form():
    t = np.arange(1, 10)
    assert np.allclose(constant_gradient_step(t, correct_v=False), 1 / np.sqrt(1 - 0.999 ** t))
    assert np.allclose(constant_gradient_step(t, correct_m=False), 1 - 0.9 ** t)
    assert constant_gradient_step(1, correct_m=False, correct_v=False) == pytest.approx(0.1 / math.sqrt(0.001))


def test_constant_gradient_step_rejects_step_zero():
    with pytest.raises(ValueError, match="t must"):
        constant_gradient_step(0)


# ------------------------------------------------------------------ effective rate

def test_effective_rate_is_eta_over_root_vhat_plus_eps():
    opt = Adam(lr=0.1, eps=1e-3)
    replay(opt, [2.0, 4.0])
    v_hat = (0.999 * 0.001 * 4 + 0.001 * 16) / (1 - 0.999 ** 2)
    assert effective_rate(opt)[0] == pytest.approx(0.1 / (math.sqrt(v_hat) + 1e-3))


def test_effective_rate_uses_the_running_maximum_for_amsgrad():
    opt = Adam(lr=1.0, eps=0.0, betas=(0.9, 0.5), amsgrad=True)
    replay(opt, [10.0, 0.0, 0.0])
    v_max = 0.5 * 100                                          # v after step 1, never exceeded
    assert effective_rate(opt)[0] == pytest.approx(1 / math.sqrt(v_max / (1 - 0.5 ** 3)))


def test_effective_rate_tends_to_eta_over_eps_for_a_large_eps():
    opt = AdamW(lr=0.01, eps=100.0)
    replay(opt, np.random.default_rng(0).normal(size=(20, 5)))
    assert np.allclose(effective_rate(opt), 0.01 / 100, rtol=0.02)


def test_effective_rate_needs_an_adam_that_has_stepped():
    with pytest.raises(TypeError, match="Adam"):
        effective_rate(SGD(lr=0.1))
    with pytest.raises(KeyError, match="no state"):
        effective_rate(Adam())


# ------------------------------------------------------------------ ε-hat

def test_eps_hat_is_larger_early_and_equal_late():
    assert epsilon_hat_to_eps(1.0, 1) == pytest.approx(1 / math.sqrt(0.001))
    assert epsilon_hat_to_eps(1.0, 20_000) == pytest.approx(1.0, rel=1e-6)


def test_adam_eps_hat_follows_the_keras_formula():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(40, 3)) * [1e-4, 1.0, 10.0]
    lr, (b1, b2), eps_hat = 0.01, (0.9, 0.999), 1e-3
    path = replay(AdamEpsHat(lr=lr, eps=eps_hat), grads)
    theta, m, v = np.zeros(3), np.zeros(3), np.zeros(3)        # keras.optimizers.Adam, written out
    for t, g in enumerate(grads, start=1):
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g * g - v)
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        theta -= alpha * m / (np.sqrt(v) + eps_hat)
    assert np.allclose(path[-1], theta, rtol=1e-10, atol=1e-14)


def test_adam_eps_hat_keeps_the_users_eps():
    opt = AdamEpsHat(eps=1e-7)
    replay(opt, [1.0, 2.0])
    assert opt.hyper["eps"] == 1e-7


def test_adam_eps_hat_equals_adam_once_bias_correction_has_faded():
    grads = np.full(3, 1.0)
    a, b = AdamEpsHat(lr=0.1, eps=0.5), Adam(lr=0.1, eps=0.5)
    replay(a, np.zeros(20_000))                               # let 1 - β₂ᵗ reach 1
    replay(b, np.zeros(20_000))
    assert np.allclose(replay(a, grads), replay(b, grads), rtol=1e-5)


def test_epsilon_hat_rejects_a_negative_eps():
    with pytest.raises(ValueError, match="eps_hat"):
        epsilon_hat_to_eps(-1.0, 1)


# ------------------------------------------------------------------ NAdam

def test_nadam_momentum_matches_torch_and_keras_schedules():
    assert nadam_momentum(1) == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** 0.004))
    assert nadam_momentum(100, momentum_decay=1.0) == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** 100))
    assert nadam_momentum(10_000) == pytest.approx(0.81, abs=0.01)


def test_nadam_momentum_is_what_nadam_uses():
    # NAdam's first step is η (1-μ_1)/(1-μ_1) g/|g| + η μ_2/(1-μ_1 μ_2) m_1/|g|.
    lr, g = 0.1, 2.0
    mu1, mu2 = nadam_momentum(1), nadam_momentum(2)
    expected = lr * (1 + mu2 * 0.1 / (1 - mu1 * mu2))
    path = replay(NAdam(lr=lr, eps=0.0), [g])
    assert -path[1] == pytest.approx(expected)


# ------------------------------------------------------------------ RAdam

def test_radam_rho_starts_at_one_and_tends_to_rho_infinity():
    assert radam_rho(1) == pytest.approx(1.0)
    assert radam_rho(10**6) == pytest.approx(1999.0)
    assert radam_rho(5) == pytest.approx(5.0, abs=0.02), "ρ_t ≈ t for small t"


def test_radam_rectifier_is_zero_until_rho_exceeds_the_threshold():
    r = radam_rectifier(np.arange(1, 8))
    assert np.all(r[:5] == 0) and np.all(r[5:] > 0)
    assert radam_rectifier(5, threshold=4.0) > 0
    assert radam_rectifier(10**6) == pytest.approx(1.0)


def test_radam_steps_by_eta_times_the_rectifier_under_a_constant_gradient():
    lr = 0.01
    path = replay(RAdam(lr=lr, eps=0.0), np.full(300, 5.0))
    steps = -np.diff(path)
    t = np.arange(1, 301)
    on = t > 5
    assert np.allclose(steps[on], lr * radam_rectifier(t[on]))
    assert np.allclose(steps[~on], lr * 5.0), "momentum SGD steps η m̂_t = η g before that"


def test_radam_rectifier_rejects_a_threshold_below_four():
    with pytest.raises(ValueError, match="threshold"):
        radam_rectifier(10, threshold=3.0)
