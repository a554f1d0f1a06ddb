"""Specification of optlib.optim: the update rules of torch.optim, checked by hand.

Each closed form below is derived on paper from the update rule (the docstring of the
class, which follows PyTorch's single-tensor path), not copied from the implementation.
Notation as in COURSE.md §5: θ params, g grad, t step (from 1), η lr, β momentum/betas,
m/v exp_avg/exp_avg_sq, ε eps, λ weight_decay.
"""

import copy
import math
import warnings

import numpy as np
import pytest

from optlib.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop
from optlib.surfaces import Quadratic, Rosenbrock, run

CLASSES = [SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam]
ADAM_FAMILY = [Adam, AdamW, Adamax, NAdam, RAdam]     # the optimizers that take ``betas``

# Every option that changes the update rule; ``**kw`` lets a test add weight_decay.
VARIANTS = {
    "SGD": lambda **kw: SGD(lr=0.1, **kw),
    "SGD-momentum-dampening": lambda **kw: SGD(lr=0.1, momentum=0.9, dampening=0.3, **kw),
    "SGD-nesterov": lambda **kw: SGD(lr=0.1, momentum=0.9, nesterov=True, **kw),
    "Adagrad": lambda **kw: Adagrad(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, **kw),
    "RMSprop": lambda **kw: RMSprop(lr=0.01, **kw),
    "RMSprop-centered-momentum": lambda **kw: RMSprop(lr=0.01, momentum=0.9, centered=True, **kw),
    "Adadelta": lambda **kw: Adadelta(**kw),
    "Adam": lambda **kw: Adam(lr=0.01, **kw),
    "Adam-amsgrad": lambda **kw: Adam(lr=0.01, amsgrad=True, **kw),
    "AdamW": lambda **kw: AdamW(lr=0.01, **kw),
    "AdamW-amsgrad": lambda **kw: AdamW(lr=0.01, amsgrad=True, **kw),
    "Adamax": lambda **kw: Adamax(lr=0.01, **kw),
    "NAdam": lambda **kw: NAdam(lr=0.01, **kw),
    "RAdam": lambda **kw: RAdam(lr=0.01, **kw),
}
variants = pytest.mark.parametrize("make", VARIANTS.values(), ids=VARIANTS.keys())
L2_VARIANTS = {k: v for k, v in VARIANTS.items() if not k.startswith("AdamW")}

G = np.array([3.0, -0.5, 1e-3, 2e-9, 0.0])   # spans the scale of ε on purpose
THETA0 = np.array([1.0, -2.0, 0.5, 4.0, -1.0])


def first_step(opt, g=G, theta0=None):
    """θ_0 - θ_1 after one step from ``theta0`` (default 0, so the difference is exact)."""
    theta0 = np.zeros_like(g) if theta0 is None else theta0
    theta = theta0.copy()
    opt.step([theta], [g.copy()])
    return theta0 - theta


def fresh_params(dtype=np.float64):
    rng = np.random.default_rng(0)
    return {"w": rng.standard_normal((3, 4)).astype(dtype),
            "b": rng.standard_normal(4).astype(dtype)}


def grads_at(params, t, dtype=None):
    """A gradient that depends on θ (as a real one does) plus step-t noise."""
    rng = np.random.default_rng(100 + t)
    return {k: (p + rng.standard_normal(p.shape)).astype(dtype or p.dtype)
            for k, p in params.items()}


def take_steps(opt, params, steps, start=0, dtype=None):
    for t in range(start, start + steps):
        opt.step(params, grads_at(params, t, dtype))


def assert_params_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


# =========================================================================== closed forms

# ---------------------------------------------------------------- SGD

def test_sgd_on_a_1d_quadratic_follows_the_exact_trajectory():
    # f = λθ²/2, g = λθ, so θ_t = θ_{t-1} - ηλθ_{t-1} = (1 - ηλ)^t θ_0.
    lam, lr, theta0 = 3.0, 0.1, 2.0
    opt, theta = SGD(lr=lr), np.array([theta0])
    for t in range(1, 31):
        opt.step([theta], [lam * theta])
        assert theta[0] == pytest.approx((1 - lr * lam) ** t * theta0, rel=1e-12)


def test_sgd_without_momentum_steps_by_lr_times_g():
    np.testing.assert_allclose(first_step(SGD(lr=0.1)), 0.1 * G, rtol=1e-15)


def test_sgd_momentum_first_buffer_is_the_raw_gradient_without_dampening():
    opt = SGD(lr=0.1, momentum=0.9, dampening=0.5)
    step = first_step(opt)
    np.testing.assert_array_equal(opt.state[0]["momentum_buffer"], G)      # b_1 = g_1
    np.testing.assert_allclose(step, 0.1 * G, rtol=1e-15)                 # θ_1 = θ_0 - η b_1


def test_sgd_momentum_second_buffer_is_beta_b1_plus_undamped_part_of_g2():
    lr, beta, tau = 0.1, 0.9, 0.5
    g1, g2 = G, np.array([-1.0, 2.0, 0.25, 0.0, 7.0])
    opt, theta = SGD(lr=lr, momentum=beta, dampening=tau), np.zeros(5)
    opt.step([theta], [g1.copy()])
    opt.step([theta], [g2.copy()])
    b2 = beta * g1 + (1 - tau) * g2
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], b2, rtol=1e-15)
    np.testing.assert_allclose(theta, -lr * g1 - lr * b2, rtol=1e-14)     # θ_2 = θ_1 - η b_2


def test_nesterov_first_step_is_lr_times_one_plus_beta_times_g():
    # b_1 = g_1, update direction g_1 + β b_1 = (1 + β) g_1.
    step = first_step(SGD(lr=0.1, momentum=0.9, nesterov=True))
    np.testing.assert_allclose(step, 0.1 * 1.9 * G, rtol=1e-15)


# ---------------------------------------------------------------- Adam family

@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.0), (0.99, 0.5)])
def test_adam_first_step_is_lr_g_over_abs_g_plus_eps_whatever_the_betas(betas):
    # m̂_1 = g, v̂_1 = g², so θ_1 = θ_0 - η g/(|g| + ε): about η per coordinate.
    lr, eps = 0.01, 1e-8
    step = first_step(Adam(lr=lr, betas=betas, eps=eps))
    np.testing.assert_allclose(step, lr * G / (np.abs(G) + eps), rtol=1e-12, atol=0)


def test_adam_first_step_without_bias_correction_would_be_3_16_times_larger():
    lr, (beta1, beta2), eps = 0.01, (0.9, 0.999), 1e-8
    g = np.array([3.0, -0.5])
    uncorrected = lr * (1 - beta1) * g / (np.sqrt((1 - beta2) * g * g) + eps)   # m_1/(√v_1 + ε)
    step = first_step(Adam(lr=lr, betas=(beta1, beta2), eps=eps), g, np.zeros(2))
    factor = (1 - beta1) / math.sqrt(1 - beta2)
    assert factor == pytest.approx(3.162, abs=1e-3)           # the first step would be 3.16 η
    np.testing.assert_allclose(uncorrected / step, factor, rtol=1e-6)


def test_adam_second_step_divides_bias_corrected_m_by_bias_corrected_root_v():
    lr, (beta1, beta2), eps = 0.01, (0.8, 0.9), 1e-8
    g1, g2 = G, np.array([-1.0, 2.0, 0.25, 0.0, 7.0])
    m2 = beta1 * (1 - beta1) * g1 + (1 - beta1) * g2
    v2 = beta2 * (1 - beta2) * g1**2 + (1 - beta2) * g2**2
    opt, theta = Adam(lr=lr, betas=(beta1, beta2), eps=eps), np.zeros(5)
    opt.step([theta], [g1.copy()])
    opt.step([theta], [g2.copy()])
    step2 = lr * (m2 / (1 - beta1**2)) / (np.sqrt(v2 / (1 - beta2**2)) + eps)
    np.testing.assert_allclose(theta, -lr * g1 / (np.abs(g1) + eps) - step2, rtol=1e-12)


def test_adamw_first_step_is_decoupled_decay_then_the_adam_step():
    lr, lam, eps = 0.01, 0.1, 1e-8
    theta = THETA0.copy()
    AdamW(lr=lr, weight_decay=lam, eps=eps).step([theta], [G.copy()])
    expected = THETA0 * (1 - lr * lam) - lr * G / (np.abs(G) + eps)
    np.testing.assert_allclose(theta, expected, rtol=1e-12)


def test_adamw_default_weight_decay_is_torch_s_one_hundredth():
    assert AdamW().hyper["weight_decay"] == 0.01
    assert Adam().hyper["weight_decay"] == 0.0


def test_adamax_first_step_is_lr_g_over_abs_g_plus_eps():
    # m_1 = (1-β1) g, u_1 = max(0, |g| + ε), θ_1 = θ_0 - η/(1-β1) · m_1/u_1.
    lr, eps = 0.002, 1e-8
    np.testing.assert_allclose(first_step(Adamax(lr=lr, eps=eps)),
                               lr * G / (np.abs(G) + eps), rtol=1e-12, atol=0)


def test_adamax_exp_inf_is_the_max_of_decayed_u_and_abs_g_plus_eps():
    # ε goes inside the max: u_t = max(β2 u_{t-1}, |g_t| + ε), not max(β2 u_{t-1}, |g_t|) + ε.
    beta2, eps = 0.999, 1e-8
    opt, theta = Adamax(betas=(0.9, beta2), eps=eps), np.zeros(2)
    g1, g2 = np.array([1e-8, 1.0]), np.array([0.0, 0.5])
    opt.step([theta], [g1])
    u1 = np.abs(g1) + eps
    np.testing.assert_allclose(opt.state[0]["exp_inf"], u1, rtol=1e-15)
    opt.step([theta], [g2])
    np.testing.assert_allclose(opt.state[0]["exp_inf"],
                               np.maximum(beta2 * u1, np.abs(g2) + eps), rtol=1e-15)


def test_amsgrad_denominator_keeps_the_max_of_raw_v_when_v_decreases():
    lr, (beta1, beta2), eps = 0.1, (0.9, 0.999), 1e-8
    g1, g2 = 1.0, 0.01                      # a large then a small gradient: v falls
    v1 = (1 - beta2) * g1**2
    v2 = beta2 * v1 + (1 - beta2) * g2**2
    m2 = beta1 * (1 - beta1) * g1 + (1 - beta1) * g2
    assert v2 < v1

    def second_step(amsgrad):
        opt, theta = Adam(lr=lr, amsgrad=amsgrad), np.zeros(1)
        opt.step([theta], [np.array([g1])])
        before = theta.copy()
        opt.step([theta], [np.array([g2])])
        return opt, (before - theta)[0]

    opt, step = second_step(amsgrad=True)
    assert opt.state[0]["exp_avg_sq"][0] == pytest.approx(v2, rel=1e-12)
    assert opt.state[0]["max_exp_avg_sq"][0] == pytest.approx(v1, rel=1e-12)   # raw, not v̂
    bc1, bc2 = 1 - beta1**2, 1 - beta2**2
    assert step == pytest.approx(lr / bc1 * m2 / (math.sqrt(v1 / bc2) + eps), rel=1e-10)
    assert step < second_step(amsgrad=False)[1]   # plain Adam divides by the smaller √v2


def test_amsgrad_max_exp_avg_sq_is_the_running_max_of_exp_avg_sq():
    opt, theta = Adam(lr=0.01, amsgrad=True), np.zeros(1)
    running_max = 0.0
    for t in range(1, 30):
        opt.step([theta], [np.array([1.0 / t**2])])      # shrinking gradients
        running_max = max(running_max, opt.state[0]["exp_avg_sq"][0])
        assert opt.state[0]["max_exp_avg_sq"][0] == running_max
    assert opt.state[0]["exp_avg_sq"][0] < running_max  # v did fall; the max did not


def radam_rho(t, beta2):
    """ρ_t = ρ_∞ - 2tβ2^t/(1 - β2^t), ρ_∞ = 2/(1 - β2) - 1 (Liu et al. 2020, eq. 6)."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def test_radam_rho_exceeds_5_first_at_step_6_for_beta2_0999():
    # By hand: ρ_1 = 1999 - 2·0.999/0.001 = 1 exactly. With δ = 1 - β2 and
    # 1/(e^x - 1) ≈ 1/x - 1/2 + x/12 for x = -t ln β2, ρ_t ≈ t - (t² - 1)δ/6:
    # ρ_5 ≈ 5 - 0.004 (still <= 5), ρ_6 ≈ 6 - 0.0058 (> 5).
    rhos = {t: radam_rho(t, 0.999) for t in range(1, 10)}
    assert rhos[1] == pytest.approx(1.0, abs=1e-9)
    assert rhos[5] == pytest.approx(5 - 24 * 0.001 / 6, abs=1e-5)
    assert rhos[6] == pytest.approx(6 - 35 * 0.001 / 6, abs=1e-5)
    assert min(t for t, r in rhos.items() if r > 5) == 6


RADAM_GRADS = [np.array(v) for v in ([1.0, -2.0], [0.5, 3.0], [-1.0, 1.0], [2.0, 0.1],
                                      [0.3, -0.3], [1.5, 2.5])]


def radam_run(lr=0.01, betas=(0.9, 0.999)):
    """Six RAdam steps; returns the steps θ_{t-1} - θ_t and the hand-computed m_t, v_t."""
    opt, theta = RAdam(lr=lr, betas=betas), np.zeros(2)
    steps, moments = [], []
    m = v = np.zeros(2)
    for g in RADAM_GRADS:
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        before = theta.copy()
        opt.step([theta], [g.copy()])
        steps.append(before - theta)
        moments.append((m, v))
    return steps, moments


def test_radam_first_five_steps_are_momentum_sgd_with_bias_corrected_m():
    lr, beta1 = 0.01, 0.9
    steps, moments = radam_run(lr)
    for t in range(1, 6):
        m, _ = moments[t - 1]
        np.testing.assert_allclose(steps[t - 1], lr * m / (1 - beta1**t), rtol=1e-12)


def test_radam_sixth_step_uses_the_rectified_adaptive_rate():
    lr, (beta1, beta2), eps, t = 0.01, (0.9, 0.999), 1e-8, 6
    steps, moments = radam_run(lr)
    m, v = moments[t - 1]
    rho_inf, rho = 2 / (1 - beta2) - 1, radam_rho(t, beta2)
    r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    expected = lr * m / (1 - beta1**t) * r * math.sqrt(1 - beta2**t) / (np.sqrt(v) + eps)
    np.testing.assert_allclose(steps[t - 1], expected, rtol=1e-10)
    assert not np.allclose(steps[t - 1], lr * m / (1 - beta1**t))   # no longer plain SGD


def test_nadam_first_step_follows_the_mu_schedule():
    # μ_t = β1(1 - ½·0.96^(tψ)). With √v̂_1 = |g| and m_1 = (1-β1)g:
    # θ_1 = θ_0 - η(1-μ_1)/(1-μ_1)·g/(|g|+ε) - η μ_2/(1-μ_1μ_2)·(1-β1)g/(|g|+ε).
    lr, beta1, eps, psi = 0.002, 0.9, 1e-8, 4e-3
    mu1 = beta1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = beta1 * (1 - 0.5 * 0.96 ** (2 * psi))
    assert 0.45 < mu1 < mu2 < 0.451                  # μ starts near β1/2 and warms up
    opt = NAdam(lr=lr, eps=eps, momentum_decay=psi)
    step = first_step(opt)
    factor = 1 + mu2 * (1 - beta1) / (1 - mu1 * mu2)
    np.testing.assert_allclose(step, lr * factor * G / (np.abs(G) + eps), rtol=1e-12, atol=0)
    assert opt.state[0]["mu_product"] == pytest.approx(mu1, rel=1e-15)


def test_nadam_mu_product_is_the_product_of_the_mus_so_far():
    beta1, psi = 0.9, 4e-3
    opt, theta = NAdam(momentum_decay=psi), np.zeros(2)
    for _ in range(4):
        opt.step([theta], [np.ones(2)])
    mus = [beta1 * (1 - 0.5 * 0.96 ** (t * psi)) for t in range(1, 5)]
    assert opt.state[0]["mu_product"] == pytest.approx(math.prod(mus), rel=1e-14)


# ---------------------------------------------------------------- RMSprop

def test_rmsprop_first_step_has_no_bias_correction():
    # v_1 = (1-α)g², so θ_1 = θ_0 - η g/(√(1-α)|g| + ε): about 10η for α = 0.99.
    lr, alpha, eps = 0.01, 0.99, 1e-8
    step = first_step(RMSprop(lr=lr, alpha=alpha, eps=eps))
    np.testing.assert_allclose(step, lr * G / (math.sqrt(1 - alpha) * np.abs(G) + eps),
                               rtol=1e-12, atol=0)
    assert step[0] == pytest.approx(10 * lr, rel=1e-6)


def test_centered_rmsprop_first_step_divides_by_root_alpha_one_minus_alpha():
    # v_1 - ḡ_1² = (1-α)g² - (1-α)²g² = α(1-α)g².
    lr, alpha, eps = 0.01, 0.99, 1e-8
    step = first_step(RMSprop(lr=lr, alpha=alpha, eps=eps, centered=True))
    np.testing.assert_allclose(step, lr * G / (math.sqrt(alpha * (1 - alpha)) * np.abs(G) + eps),
                               rtol=1e-10, atol=0)


def test_rmsprop_momentum_buffer_accumulates_normalised_gradients():
    lr, alpha, beta, eps = 0.01, 0.9, 0.8, 1e-8
    g1, g2 = G, np.array([-1.0, 2.0, 0.25, 0.0, 7.0])
    opt, theta = RMSprop(lr=lr, alpha=alpha, momentum=beta, eps=eps), np.zeros(5)
    opt.step([theta], [g1.copy()])
    opt.step([theta], [g2.copy()])
    v1 = (1 - alpha) * g1**2
    v2 = alpha * v1 + (1 - alpha) * g2**2
    b1 = g1 / (np.sqrt(v1) + eps)
    b2 = beta * b1 + g2 / (np.sqrt(v2) + eps)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], b2, rtol=1e-12)
    np.testing.assert_allclose(theta, -lr * b1 - lr * b2, rtol=1e-12)


# ---------------------------------------------------------------- Adagrad, Adadelta

def test_adagrad_first_step_is_lr_g_over_abs_g_plus_eps():
    lr, eps = 0.01, 1e-10
    np.testing.assert_allclose(first_step(Adagrad(lr=lr, eps=eps)),
                               lr * G / (np.abs(G) + eps), rtol=1e-14, atol=0)


def test_adagrad_sum_accumulates_the_squared_gradients():
    gs = [G, np.array([-1.0, 2.0, 0.25, 0.0, 7.0]), np.array([0.5, 0.5, -3.0, 1e-4, 1.0])]
    opt, theta = Adagrad(lr=0.01), THETA0.copy()
    for g in gs:
        opt.step([theta], [g.copy()])
    np.testing.assert_allclose(opt.state[0]["sum"], sum(g * g for g in gs), rtol=1e-15)


def test_adagrad_lr_decay_divides_the_rate_by_one_plus_t_minus_one_times_decay():
    lr, decay, eps, g = 0.1, 0.5, 1e-10, 2.0
    opt, theta = Adagrad(lr=lr, lr_decay=decay, eps=eps), np.array([0.0])
    for t in range(1, 6):
        before = theta[0]
        opt.step([theta], [np.array([g])])
        rate = lr / (1 + (t - 1) * decay)
        assert before - theta[0] == pytest.approx(rate * g / (math.sqrt(t * g * g) + eps),
                                                  rel=1e-12)


def test_adagrad_initial_accumulator_value_starts_the_sum():
    lr, g0, eps = 0.01, 4.0, 1e-10
    opt = Adagrad(lr=lr, initial_accumulator_value=g0, eps=eps)
    step = first_step(opt)
    np.testing.assert_allclose(opt.state[0]["sum"], g0 + G * G, rtol=1e-15)
    np.testing.assert_allclose(step, lr * G / (np.sqrt(g0 + G * G) + eps), rtol=1e-14)


def test_adadelta_first_step_is_lr_root_eps_over_root_of_new_v_plus_eps_times_g():
    # u_0 = 0, so Δ_1 = √ε/√((1-ρ)g² + ε)·g: tiny, the units come from ε at first.
    lr, rho, eps = 1.0, 0.9, 1e-6
    opt = Adadelta(lr=lr, rho=rho, eps=eps)
    step = first_step(opt)
    delta = math.sqrt(eps) / np.sqrt((1 - rho) * G * G + eps) * G
    np.testing.assert_allclose(step, lr * delta, rtol=1e-12, atol=0)
    np.testing.assert_allclose(opt.state[0]["acc_delta"], (1 - rho) * delta**2, rtol=1e-12)


# =========================================================================== weight decay

@pytest.mark.parametrize("make", L2_VARIANTS.values(), ids=L2_VARIANTS.keys())
def test_l2_weight_decay_adds_lambda_theta_to_the_gradient(make):
    lam = 0.1
    with_l2, plain = make(weight_decay=lam), make(weight_decay=0.0)
    a, b = fresh_params(), fresh_params()
    for t in range(3):
        g = grads_at(a, t)
        with_l2.step(a, g)
        plain.step(b, {k: g[k] + lam * b[k] for k in g})
    assert_params_equal(a, b)


def test_sgd_weight_decay_with_zero_gradient_shrinks_theta_by_one_minus_lr_lambda():
    lr, lam = 0.1, 0.5
    opt, theta = SGD(lr=lr, weight_decay=lam), THETA0.copy()
    for t in range(1, 6):
        opt.step([theta], [np.zeros_like(theta)])
        np.testing.assert_allclose(theta, THETA0 * (1 - lr * lam) ** t, rtol=1e-14)


def test_adamw_with_zero_gradient_shrinks_theta_by_exactly_one_minus_lr_lambda_per_step():
    lr, lam = 0.01, 0.1
    opt, theta, expected = AdamW(lr=lr, weight_decay=lam), THETA0.copy(), THETA0.copy()
    for _ in range(5):
        opt.step([theta], [np.zeros_like(theta)])
        expected *= 1 - lr * lam
        np.testing.assert_array_equal(theta, expected)


def test_adam_l2_with_zero_gradient_moves_every_weight_by_about_lr_whatever_its_size():
    # The penalty gradient λθ is normalised like any gradient: the first step is
    # η·λθ/(|λθ| + ε) ≈ η sign(θ), not the ηλθ of decoupled decay.
    lr, lam = 0.01, 0.1
    theta0 = np.array([1e-3, 1.0, -1e3])
    adam = first_step(Adam(lr=lr, weight_decay=lam), np.zeros(3), theta0)
    adamw = first_step(AdamW(lr=lr, weight_decay=lam), np.zeros(3), theta0)
    np.testing.assert_allclose(adam, lr * np.sign(theta0), rtol=1e-4)
    np.testing.assert_allclose(adamw, lr * lam * theta0, rtol=1e-12)


# =========================================================================== grads are inputs

@variants
def test_step_never_modifies_the_grads(make):
    opt, params = make(weight_decay=0.1), fresh_params()
    for t in range(3):
        grads = grads_at(params, t)
        saved = copy.deepcopy(grads)
        opt.step(params, grads)
        assert_params_equal(grads, saved)


@variants
def test_step_updates_the_param_arrays_in_place(make):
    opt, params = make(), fresh_params()
    arrays, before = dict(params), copy.deepcopy(params)
    opt.step(params, grads_at(params, 0))
    for k in params:
        assert params[k] is arrays[k]
        assert not np.array_equal(params[k], before[k])


# =========================================================================== convergence

QUADRATIC = Quadratic(eigenvalues=(1.0, 50.0), angle=0.5)   # κ = 50, rotated axes
ROSENBROCK = Rosenbrock()

# (make, lr decay factor per step or None, steps). A decaying lr is what lets the
# sign-like methods (RMSprop, Adadelta, NAdam) settle instead of hovering at ~η.
QUADRATIC_RUNS = {
    "SGD": (lambda: SGD(lr=0.02), None, 1000),
    "SGD-momentum": (lambda: SGD(lr=0.005, momentum=0.9), None, 500),
    "SGD-nesterov": (lambda: SGD(lr=0.002, momentum=0.9, nesterov=True), None, 500),
    "Adagrad": (lambda: Adagrad(lr=2.0), None, 500),
    "RMSprop": (lambda: RMSprop(lr=0.5), 0.995, 1000),
    "RMSprop-centered-momentum": (lambda: RMSprop(lr=0.05, momentum=0.9, centered=True), 0.998, 500),
    "Adadelta": (lambda: Adadelta(lr=2.0), 0.998, 2000),
    "Adam": (lambda: Adam(lr=0.1), None, 1000),
    "Adam-amsgrad": (lambda: Adam(lr=0.1, amsgrad=True), None, 1000),
    "AdamW": (lambda: AdamW(lr=0.1), None, 1000),
    "Adamax": (lambda: Adamax(lr=1.0), None, 500),
    "NAdam": (lambda: NAdam(lr=0.1), None, 1000),
    "RAdam": (lambda: RAdam(lr=0.03), None, 2000),
}
ROSENBROCK_RUNS = {
    "SGD": (lambda: SGD(lr=0.002), None, 5000),
    "SGD-momentum": (lambda: SGD(lr=0.002, momentum=0.9), None, 2000),
    "SGD-nesterov": (lambda: SGD(lr=0.001, momentum=0.9, nesterov=True), None, 2000),
    "Adagrad": (lambda: Adagrad(lr=1.0), None, 5000),
    "RMSprop": (lambda: RMSprop(lr=0.05), 0.998, 3000),
    "RMSprop-centered-momentum": (lambda: RMSprop(lr=0.02, momentum=0.9, centered=True), 0.998, 2000),
    "Adadelta": (lambda: Adadelta(lr=2.0), 0.999, 5000),
    "Adam": (lambda: Adam(lr=0.02), None, 3000),
    "Adam-amsgrad": (lambda: Adam(lr=0.1, amsgrad=True), None, 2000),
    "AdamW": (lambda: AdamW(lr=0.1), 0.9995, 3000),
    "Adamax": (lambda: Adamax(lr=0.02), None, 5000),
    "NAdam": (lambda: NAdam(lr=0.1), 0.999, 3000),
    # With β2 = 0.999 the 5 SGD steps at the start (|g| ≈ 215) throw RAdam far out;
    # β2 = 0.99 ends that phase after 2 steps (ρ_t > 5 from t = 3).
    "RAdam": (lambda: RAdam(lr=0.005, betas=(0.9, 0.99)), 0.999, 3000),
}


def converge(runs, name, surface):
    make, decay, steps = runs[name]
    opt = make()
    lr = opt.lr
    schedule = None if decay is None else (lambda t: lr * decay**t)
    return run(opt, surface, steps=steps, schedule=schedule), steps


@pytest.mark.parametrize("name", QUADRATIC_RUNS)
def test_converges_on_an_ill_conditioned_quadratic(name):
    traj, steps = converge(QUADRATIC_RUNS, name, QUADRATIC)
    assert traj.losses[0] > 100
    assert traj.losses[-steps // 10:].max() < 1e-6       # and stays there


@pytest.mark.parametrize("name", ROSENBROCK_RUNS)
def test_converges_on_rosenbrock(name):
    traj, steps = converge(ROSENBROCK_RUNS, name, ROSENBROCK)
    assert traj.losses[0] > 24
    assert traj.losses[-steps // 10:].max() < 1e-3
    assert np.abs(traj.path[-1] - ROSENBROCK.minima[0]).max() < 0.1


# =========================================================================== dtypes

@variants
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_params_and_state_keep_their_dtype(make, dtype):
    opt, params = make(weight_decay=0.1), fresh_params(dtype)
    take_steps(opt, params, 3)
    for k, p in params.items():
        assert p.dtype == dtype
        for name, value in opt.state[k].items():
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype, name


@variants
def test_float64_grads_given_to_float32_params_keep_float32(make):
    opt, params = make(weight_decay=0.1), fresh_params(np.float32)
    take_steps(opt, params, 3, dtype=np.float64)
    for k, p in params.items():
        assert p.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[k].values() if isinstance(v, np.ndarray))


@variants
def test_float32_run_tracks_the_float64_run(make):
    single, double = fresh_params(np.float32), fresh_params(np.float64)
    opt32, opt64 = make(), make()
    for t in range(5):
        grads = grads_at(double, t)
        opt32.step(single, {k: g.astype(np.float32) for k, g in grads.items()})
        opt64.step(double, grads)
    for k in double:
        np.testing.assert_allclose(single[k], double[k], rtol=1e-4, atol=1e-5)


# =========================================================================== interfaces and state

@variants
def test_dict_and_list_interfaces_give_identical_results(make):
    as_dict, as_list = fresh_params(), fresh_params()
    keys = list(as_dict)
    opt_dict, opt_list = make(), make()
    for t in range(5):
        opt_dict.step(as_dict, grads_at(as_dict, t))
        g = grads_at(as_list, t)
        opt_list.step([as_list[k] for k in keys], [g[k] for k in keys])
    assert_params_equal(as_dict, as_list)


def test_state_is_kept_per_array():
    # Each array is normalised by its own v: a tiny and a huge gradient both move by ≈ η,
    # exactly as two separate optimizers would move them.
    together = {"small": np.array([1.0]), "big": np.array([1.0])}
    grads = {"small": np.array([1e-3]), "big": np.array([1e3])}
    Adam(lr=0.01).step(together, grads)
    for k in grads:
        alone = np.array([1.0])
        Adam(lr=0.01).step([alone], [grads[k]])
        assert np.array_equal(together[k], alone)
        assert 1.0 - together[k][0] == pytest.approx(0.01, rel=1e-4)


@variants
def test_each_array_has_its_own_step_count_starting_at_1(make):
    opt, params = make(), fresh_params()
    assert opt.state == {}
    opt.step(params, grads_at(params, 0))
    assert {k: s["step"] for k, s in opt.state.items()} == {"w": 1, "b": 1}
    take_steps(opt, params, 2, start=1)
    assert {k: s["step"] for k, s in opt.state.items()} == {"w": 3, "b": 3}


@variants
def test_state_dict_round_trip_continues_bit_for_bit(make):
    opt, params = make(weight_decay=0.05), fresh_params()
    take_steps(opt, params, 10)
    saved, resumed = opt.state_dict(), copy.deepcopy(params)
    take_steps(opt, params, 10, start=10)

    fresh = make(weight_decay=0.05)
    fresh.load_state_dict(saved)
    take_steps(fresh, resumed, 10, start=10)
    assert_params_equal(params, resumed)


@variants
def test_load_state_dict_restores_the_hyper_parameters(make):
    opt, params = make(weight_decay=0.05), fresh_params()
    take_steps(opt, params, 3)
    default = type(opt)()                      # torch defaults, not the ones above
    default.load_state_dict(opt.state_dict())
    assert default.hyper == opt.hyper
    assert repr(default) == repr(opt)


@variants
def test_state_dict_is_a_deep_copy(make):
    opt, twin = make(), make()
    params, twin_params = fresh_params(), fresh_params()
    take_steps(opt, params, 5)
    take_steps(twin, twin_params, 5)
    saved = opt.state_dict()
    saved["hyper"]["lr"] = 123.0
    for s in saved["state"].values():
        s["step"] = 999
        for value in s.values():
            if isinstance(value, np.ndarray):
                value[...] = 7.0
    take_steps(opt, params, 5, start=5)
    take_steps(twin, twin_params, 5, start=5)
    assert_params_equal(params, twin_params)


@variants
def test_load_state_dict_copies_so_the_dict_can_change_afterwards(make):
    opt, params = make(), fresh_params()
    take_steps(opt, params, 5)
    saved = opt.state_dict()
    pristine = copy.deepcopy(saved)
    a, b = make(), make()
    a.load_state_dict(saved)
    b.load_state_dict(pristine)
    for s in saved["state"].values():
        for value in s.values():
            if isinstance(value, np.ndarray):
                value[...] = 7.0
    pa, pb = copy.deepcopy(params), copy.deepcopy(params)
    take_steps(a, pa, 5, start=5)
    take_steps(b, pb, 5, start=5)
    assert_params_equal(pa, pb)


def test_setting_lr_changes_the_next_step():
    opt, theta = SGD(lr=0.1), np.array([1.0])
    opt.lr = 0.5
    assert opt.lr == 0.5
    opt.step([theta], [np.array([2.0])])
    assert theta[0] == pytest.approx(0.0)


@variants
def test_lr_zero_leaves_params_unchanged(make):
    opt, params = make(weight_decay=0.1), fresh_params()
    before = copy.deepcopy(params)
    opt.lr = 0.0
    take_steps(opt, params, 3)
    assert_params_equal(params, before)


@pytest.mark.parametrize("bad, error", [(-1.0, ValueError), (math.nan, ValueError),
                                        (math.inf, ValueError), ("0.1", TypeError),
                                        (None, TypeError)])
def test_setting_lr_is_validated_and_a_rejected_value_is_not_kept(bad, error):
    opt = Adam(lr=0.01)
    with pytest.raises(error, match=r"\blr\b"):
        opt.lr = bad
    assert opt.lr == 0.01


# =========================================================================== bad input

@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("lr", [-1.0, -1e-12, math.nan, math.inf, -math.inf])
def test_rejects_negative_or_non_finite_lr(cls, lr):
    with pytest.raises(ValueError, match=r"\blr\b"):
        cls(lr=lr)


# The ranges torch.optim 2.13 accepts (checked in each class's __init__): betas in [0, 1),
# Adadelta's rho in [0, 1], SGD's and RMSprop's momentum and RMSprop's alpha >= 0.
UNIT_INTERVAL = (
    [(Adadelta, "rho", "rho")]
    + [(cls, "betas0", r"betas\[0\]") for cls in ADAM_FAMILY]
    + [(cls, "betas1", r"betas\[1\]") for cls in ADAM_FAMILY]
)


def _decay_kwargs(arg, value):
    if arg == "betas0":
        return {"betas": (value, 0.999)}
    if arg == "betas1":
        return {"betas": (0.9, value)}
    return {arg: value}


@pytest.mark.parametrize("cls, arg, message", UNIT_INTERVAL,
                         ids=[f"{c.__name__}-{a}" for c, a, _ in UNIT_INTERVAL])
@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_rejects_decay_rates_outside_zero_one(cls, arg, message, value):
    with pytest.raises(ValueError, match=message):
        cls(**_decay_kwargs(arg, value))


@pytest.mark.parametrize("cls", ADAM_FAMILY)
@pytest.mark.parametrize("which", [0, 1])
def test_rejects_betas_of_one_as_torch_does(cls, which):
    betas = (1.0, 0.999) if which == 0 else (0.9, 1.0)
    with pytest.raises(ValueError, match=rf"betas\[{which}\]"):
        cls(betas=betas)


def test_adadelta_accepts_rho_of_one_as_torch_does():
    Adadelta(rho=1.0)


MOMENTUM_LIKE = [(SGD, "momentum"), (RMSprop, "momentum"), (RMSprop, "alpha")]


@pytest.mark.parametrize("cls, arg", MOMENTUM_LIKE, ids=[f"{c.__name__}-{a}" for c, a in MOMENTUM_LIKE])
@pytest.mark.parametrize("value", [1.0, 1.5])
def test_momentum_and_alpha_of_one_and_above_are_accepted_as_torch_does(cls, arg, value):
    assert cls(**{arg: value}).hyper[arg] == value


@pytest.mark.parametrize("cls, arg", MOMENTUM_LIKE, ids=[f"{c.__name__}-{a}" for c, a in MOMENTUM_LIKE])
@pytest.mark.parametrize("value", [-0.1, math.nan, math.inf])
def test_momentum_and_alpha_must_be_finite_and_at_least_zero(cls, arg, value):
    with pytest.raises(ValueError, match=arg):
        cls(**{arg: value})


ZERO_RATES = [(SGD, {"momentum": 0.0}), (RMSprop, {"alpha": 0.0, "momentum": 0.0}),
              (Adadelta, {"rho": 0.0})] + [(cls, {"betas": (0.0, 0.0)}) for cls in ADAM_FAMILY]


@pytest.mark.parametrize("cls, kwargs", ZERO_RATES, ids=[c.__name__ for c, _ in ZERO_RATES])
def test_accepts_decay_rates_of_zero(cls, kwargs):
    opt = cls(**kwargs)          # 0 means no averaging; only 1 and beyond are rejected
    theta = np.zeros(2)
    opt.step([theta], [np.ones(2)])
    assert np.isfinite(theta).all()


NON_NEGATIVE = (
    [(cls, "weight_decay") for cls in CLASSES]
    + [(cls, "eps") for cls in CLASSES if cls is not SGD]
    + [(Adagrad, "lr_decay"), (Adagrad, "initial_accumulator_value"), (NAdam, "momentum_decay")]
)


@pytest.mark.parametrize("cls, arg", NON_NEGATIVE,
                         ids=[f"{c.__name__}-{a}" for c, a in NON_NEGATIVE])
@pytest.mark.parametrize("value", [-1e-8, math.nan, math.inf])
def test_rejects_negative_or_non_finite_non_negative_arguments(cls, arg, value):
    with pytest.raises(ValueError, match=arg):
        cls(**{arg: value})


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5])
def test_sgd_accepts_any_finite_dampening_as_torch_does(value):
    assert SGD(momentum=0.9, dampening=value).hyper["dampening"] == value


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_sgd_rejects_a_non_finite_dampening(value):
    with pytest.raises(ValueError, match="dampening"):
        SGD(momentum=0.9, dampening=value)


def test_nesterov_requires_momentum():
    with pytest.raises(ValueError, match="nesterov"):
        SGD(lr=0.1, nesterov=True)


def test_nesterov_rejects_dampening():
    with pytest.raises(ValueError, match="nesterov"):
        SGD(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


FLAGS = [(SGD, "nesterov"), (RMSprop, "centered"), (Adam, "amsgrad"), (AdamW, "amsgrad"),
         (Adam, "decoupled_weight_decay"), (NAdam, "decoupled_weight_decay"),
         (RAdam, "decoupled_weight_decay")] + [(cls, "maximize") for cls in CLASSES]


def _with_flag(cls, arg, value):
    return cls(momentum=0.9, **{arg: value}) if cls is SGD else cls(**{arg: value})


@pytest.mark.parametrize("cls, arg", FLAGS, ids=[f"{c.__name__}-{a}" for c, a in FLAGS])
@pytest.mark.parametrize("value", [2, 0.5, "yes", None])
def test_rejects_flags_that_are_not_true_false_one_or_zero(cls, arg, value):
    with pytest.raises(TypeError, match=arg):
        _with_flag(cls, arg, value)


@pytest.mark.parametrize("cls, arg", FLAGS, ids=[f"{c.__name__}-{a}" for c, a in FLAGS])
@pytest.mark.parametrize("value, meaning", [(1, True), (0, False), (np.True_, True)])
def test_accepts_one_and_zero_as_flags_and_stores_a_bool(cls, arg, value, meaning):
    assert _with_flag(cls, arg, value).hyper[arg] is meaning


@pytest.mark.parametrize("cls", ADAM_FAMILY)
@pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999)])
def test_rejects_betas_that_are_not_a_pair(cls, betas):
    with pytest.raises(TypeError, match="betas"):
        cls(betas=betas)


def test_rejects_unknown_arguments_and_names_them():
    with pytest.raises(TypeError, match="learning_rate"):
        SGD(learning_rate=0.1)


def test_rejects_params_and_grads_with_different_keys():
    with pytest.raises(ValueError, match="same keys"):
        SGD(lr=0.1).step({"w": np.zeros(2)}, {"v": np.zeros(2)})


def test_rejects_params_and_grads_with_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        SGD(lr=0.1).step([np.zeros(2), np.zeros(3)], [np.zeros(2)])


def test_rejects_a_grad_of_another_shape_and_names_it():
    with pytest.raises(ValueError, match=r"grads\['b'\].*shape"):
        SGD(lr=0.1).step({"w": np.zeros(2), "b": np.zeros(3)},
                         {"w": np.zeros(2), "b": np.zeros((3, 1))})


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_rejects_integer_params(dtype):
    with pytest.raises(TypeError, match=r"params\[0\].*floating"):
        SGD(lr=0.1).step([np.zeros(3, dtype=dtype)], [np.zeros(3)])


@pytest.mark.parametrize("params, grads", [
    pytest.param([1.5], [0.1], id="python-float-param-and-grad"),
    pytest.param([[1.0, 2.0]], [[0.1, 0.2]], id="list-param-and-list-grad"),
    pytest.param([1.5], [np.array(0.1)], id="python-float-param-ndarray-grad"),
    pytest.param([[1.0, 2.0]], [np.array([0.1, 0.2])], id="list-param-ndarray-grad"),
    pytest.param({"w": [1.0, 2.0]}, {"w": np.array([0.1, 0.2])}, id="dict-of-list-param"),
])
def test_rejects_params_that_are_not_ndarrays(params, grads):
    with pytest.raises(TypeError, match=r"params\[.*\] must be a numpy ndarray"):
        SGD(lr=0.1).step(params, grads)


@pytest.mark.parametrize("params, grads", [
    ({"w": np.zeros(2)}, [np.zeros(2)]),
    ([np.zeros(2)], {"w": np.zeros(2)}),
    (np.zeros(2), np.zeros(2)),
])
def test_rejects_a_mix_of_dict_and_list(params, grads):
    with pytest.raises(TypeError, match="params and grads must both be dicts"):
        SGD(lr=0.1).step(params, grads)


def test_rejects_a_read_only_param():
    theta = np.zeros(2)
    theta.flags.writeable = False
    with pytest.raises(ValueError, match=r"params\[0\].*writeable"):
        SGD(lr=0.1).step([theta], [np.ones(2)])


def test_rejects_params_that_differ_from_those_the_state_belongs_to():
    opt = Adam()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="params do not match"):
        opt.step([np.zeros(3)], [np.ones(3)])


@pytest.mark.parametrize("source, target", [(Adam, AdamW), (SGD, Adam), (AdamW, Adam)])
def test_rejects_a_state_dict_from_another_optimizer(source, target):
    opt = source()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match=f"state_dict is from {source.__name__}"):
        target().load_state_dict(opt.state_dict())


def test_rejects_something_that_is_not_a_state_dict():
    with pytest.raises(TypeError, match="state_dict"):
        Adam().load_state_dict({"lr": 0.1})


def test_rejects_a_state_dict_for_params_of_other_shapes():
    saved = Adam()
    saved.step({"w": np.zeros(2)}, {"w": np.ones(2)})
    used = Adam()
    used.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match="state_dict belongs to different params"):
        used.load_state_dict(saved.state_dict())


def test_a_fresh_optimizer_loaded_for_other_shapes_rejects_its_first_step():
    saved = Adam()
    saved.step({"w": np.zeros(2)}, {"w": np.ones(2)})
    fresh = Adam()
    fresh.load_state_dict(saved.state_dict())
    with pytest.raises(ValueError, match="params do not match"):
        fresh.step({"w": np.zeros(3)}, {"w": np.ones(3)})


# =========================================================================== divergence is data

def test_sgd_divergence_on_a_quadratic_is_inf_and_nan_not_an_error():
    opt, theta = SGD(lr=1.0), QUADRATIC.start.copy()     # η λ_max = 50 ≫ 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(400):
            with np.errstate(all="ignore"):      # only the test's own gradient is silenced
                g = QUADRATIC.grad(theta)
            opt.step([theta], [g])
    assert not np.isfinite(theta).any()
    assert np.isnan(theta).any()


@variants
def test_non_finite_gradients_propagate_without_warnings(make):
    opt, theta = make(weight_decay=0.1), np.array([1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step([theta], [np.array([np.inf, np.nan, 1.0])])
    assert not np.isfinite(theta[0])
    assert np.isnan(theta[1])
    assert np.isfinite(theta[2])


def test_a_none_grad_skips_its_array_and_keeps_its_step_count():
    params = {"a": np.ones(2), "b": np.ones(2)}
    opt = Adam(lr=0.1)
    opt.step(params, {"a": np.ones(2), "b": np.ones(2)})
    opt.step(params, {"a": np.ones(2), "b": None})
    assert opt.state["a"]["step"] == 2 and opt.state["b"]["step"] == 1
    assert params["b"][0] > params["a"][0]


def test_loading_a_state_dict_with_bad_hyper_parameters_leaves_the_optimizer_unchanged():
    opt = SGD(lr=0.1)
    bad = opt.state_dict()
    bad["hyper"]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        opt.load_state_dict(bad)
    assert opt.lr == 0.1


def test_loading_a_fresh_state_dict_resets_a_stepped_optimizer():
    params = [np.ones(3)]
    opt = Adam(lr=0.1)
    fresh = opt.state_dict()
    opt.step(params, [np.ones(3)])
    opt.load_state_dict(fresh)
    assert opt.state == {}


# --------------------------------------------------------------------------- wrappers

def test_a_wrapper_forwards_lr_hyper_and_step_to_the_wrapped_optimizer():
    from optlib.optim import OptimizerWrapper
    inner = SGD(lr=0.1)
    wrapper = OptimizerWrapper(inner)
    wrapper.lr = 0.5
    assert inner.lr == 0.5 and wrapper.hyper["lr"] == 0.5
    theta = np.array([1.0])
    wrapper.step([theta], [np.array([1.0])])
    assert theta[0] == 0.5


def test_a_wrapper_needs_something_with_a_step_method():
    from optlib.optim import OptimizerWrapper
    with pytest.raises(TypeError, match="optimizer must have a step"):
        OptimizerWrapper(object())
