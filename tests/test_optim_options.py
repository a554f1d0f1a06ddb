"""Specification of the options torch.optim 2.13 has and of paths mutation testing missed.

``maximize`` (all nine optimizers) and ``decoupled_weight_decay`` (Adam, NAdam, RAdam)
with PyTorch's semantics (issue 14, "Parity"); then one test per update-rule path that
a mutant could change while every other test still passed.
"""

import math

import numpy as np
import pytest

from optlib.optim import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop

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
    "Adam-decoupled": lambda **kw: Adam(lr=0.01, decoupled_weight_decay=True, **kw),
    "AdamW": lambda **kw: AdamW(lr=0.01, **kw),
    "Adamax": lambda **kw: Adamax(lr=0.01, **kw),
    "NAdam": lambda **kw: NAdam(lr=0.01, **kw),
    "NAdam-decoupled": lambda **kw: NAdam(lr=0.01, decoupled_weight_decay=True, **kw),
    "RAdam": lambda **kw: RAdam(lr=0.01, betas=(0.9, 0.9), **kw),
    "RAdam-decoupled": lambda **kw: RAdam(lr=0.01, betas=(0.9, 0.9), decoupled_weight_decay=True, **kw),
}
variants = pytest.mark.parametrize("make", VARIANTS.values(), ids=VARIANTS.keys())
THETA0 = np.array([1.0, -2.0, 0.5, 4.0, -1.0])
GRADS = [np.array(v) for v in ([3.0, -0.5, 1e-3, 2e-9, 0.0], [-1.0, 2.0, 0.25, 0.0, 7.0],
                               [0.5, 0.5, -3.0, 1e-4, 1.0], [2.0, -1.0, 0.1, 0.3, -0.2])] * 2


def trajectory(opt, grads=GRADS, theta0=THETA0):
    theta, path = theta0.copy(), []
    for g in grads:
        opt.step([theta], [g.copy()])
        path.append(theta.copy())
    return np.array(path)


# ---------------------------------------------------------------- maximize

@variants
def test_maximize_on_g_is_minimize_on_minus_g_weight_decay_included(make):
    # torch: grad = -grad if maximize, then every rule (L2, decoupled decay) as usual.
    up = trajectory(make(maximize=True, weight_decay=0.1))
    down = trajectory(make(weight_decay=0.1), [-g for g in GRADS])
    np.testing.assert_array_equal(up, down)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam])
def test_maximize_climbs_a_concave_function(cls):
    # f(θ) = -(θ - 3)², g = -2(θ - 3): ascent moves θ toward 3, descent away from it.
    opt, theta = cls(lr=0.1, maximize=True, weight_decay=0.0), np.array([0.0])
    for _ in range(20):
        opt.step([theta], [-2 * (theta - 3)])
    assert 0.0 < theta[0] <= 3.5


def test_maximize_defaults_to_false_everywhere():
    for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam, RAdam):
        assert cls().hyper["maximize"] is False


def test_maximize_never_modifies_the_grads():
    g = np.array([1.0, -2.0])
    SGD(lr=0.1, momentum=0.9, maximize=True).step([np.zeros(2)], [g])
    np.testing.assert_array_equal(g, [1.0, -2.0])


# ---------------------------------------------------------------- decoupled_weight_decay

def test_adam_with_decoupled_weight_decay_is_adamw():
    for amsgrad in (False, True):
        a = trajectory(Adam(lr=0.01, weight_decay=0.1, amsgrad=amsgrad, decoupled_weight_decay=True))
        w = trajectory(AdamW(lr=0.01, weight_decay=0.1, amsgrad=amsgrad))
        np.testing.assert_array_equal(a, w)


def test_adamw_is_adam_with_decoupled_weight_decay_and_does_not_take_the_flag():
    assert issubclass(AdamW, Adam) and AdamW().hyper["decoupled_weight_decay"] is True
    assert AdamW.update is Adam.update
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        AdamW(decoupled_weight_decay=False)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adadelta, Adamax])
def test_optimizers_without_decoupled_weight_decay_in_torch_reject_it(cls):
    with pytest.raises(TypeError, match="decoupled_weight_decay"):
        cls(decoupled_weight_decay=True)


@pytest.mark.parametrize("cls", [Adam, NAdam, RAdam])
def test_decoupled_weight_decay_with_zero_gradient_shrinks_by_one_minus_lr_lambda(cls):
    # m = v = 0, so the step itself is 0 and only θ ← (1 - ηλ)θ remains, exactly.
    lr, lam = 0.01, 0.1
    opt, theta, expected = cls(lr=lr, weight_decay=lam, decoupled_weight_decay=True), \
        THETA0.copy(), THETA0.copy()
    for _ in range(8):
        opt.step([theta], [np.zeros(5)])
        expected *= 1 - lr * lam
        np.testing.assert_array_equal(theta, expected)


@pytest.mark.parametrize("cls", [Adam, NAdam, RAdam])
def test_decoupled_weight_decay_shrinks_then_takes_the_step_of_the_raw_gradient(cls):
    # θ_t = (1 - ηλ)θ_{t-1} - s_t, with s_t the step the optimizer takes without decay
    # (for these three it does not depend on θ).
    lr, lam = 0.01, 0.1
    steps = -np.diff(np.vstack([THETA0, trajectory(cls(lr=lr))]), axis=0)
    expected, theta = [], THETA0.copy()
    for s in steps:
        theta = (1 - lr * lam) * theta - s
        expected.append(theta)
    decoupled = trajectory(cls(lr=lr, weight_decay=lam, decoupled_weight_decay=True))
    np.testing.assert_allclose(decoupled, expected, rtol=1e-12)
    assert not np.allclose(decoupled, trajectory(cls(lr=lr, weight_decay=lam)), rtol=1e-6)


# ---------------------------------------------------------------- paths mutation testing missed

def test_nadam_momentum_decay_sets_the_mu_schedule():
    # With ψ = 0.5 instead of the default: μ_t = β1(1 - ½·0.96^(tψ)), and
    # θ_1 = θ_0 - η(1 + μ_2(1-β1)/(1-μ_1μ_2))·g/(|g|+ε) (see test_optim's first-step test).
    lr, beta1, eps, psi = 0.002, 0.9, 1e-8, 0.5
    mu1 = beta1 * (1 - 0.5 * 0.96 ** (1 * psi))
    mu2 = beta1 * (1 - 0.5 * 0.96 ** (2 * psi))
    g, theta = GRADS[0], np.zeros(5)
    opt = NAdam(lr=lr, eps=eps, momentum_decay=psi)
    opt.step([theta], [g.copy()])
    factor = 1 + mu2 * (1 - beta1) / (1 - mu1 * mu2)
    np.testing.assert_allclose(-theta, lr * factor * g / (np.abs(g) + eps), rtol=1e-12, atol=0)
    assert opt.state[0]["mu_product"] == pytest.approx(mu1, rel=1e-15)


def test_nadam_trajectories_differ_with_momentum_decay():
    default, fast, none = (trajectory(NAdam(lr=0.01, momentum_decay=psi)) for psi in (4e-3, 0.5, 0.0))
    assert not np.allclose(default, fast, rtol=1e-6) and not np.allclose(default, none, rtol=1e-6)


def test_nadam_with_zero_momentum_decay_keeps_mu_at_half_beta1():
    opt = NAdam(betas=(0.8, 0.999), momentum_decay=0.0)
    trajectory(opt, GRADS[:3])
    assert opt.state[0]["mu_product"] == pytest.approx(0.4 ** 3, rel=1e-14)


def test_centered_rmsprop_decays_its_gradient_average():
    # ḡ_2 = α(1-α)g_1 + (1-α)g_2: the first average is decayed by α, not kept whole.
    lr, alpha, eps = 0.01, 0.9, 1e-8
    g1, g2 = GRADS[0], GRADS[1]
    opt, theta = RMSprop(lr=lr, alpha=alpha, eps=eps, centered=True), np.zeros(5)
    opt.step([theta], [g1.copy()])
    after_one = theta.copy()
    opt.step([theta], [g2.copy()])
    gbar2 = alpha * (1 - alpha) * g1 + (1 - alpha) * g2
    v2 = alpha * (1 - alpha) * g1 ** 2 + (1 - alpha) * g2 ** 2
    np.testing.assert_allclose(opt.state[0]["grad_avg"], gbar2, rtol=1e-14)
    np.testing.assert_allclose(after_one - theta, lr * g2 / (np.sqrt(v2 - gbar2 ** 2) + eps),
                               rtol=1e-10)


def test_centered_rmsprop_in_float32_with_a_huge_gradient_steps_by_zero_not_nan():
    # v - ḡ² with ḡ² overflowing float32 is inf (one rounding, as torch's addcmul), not nan.
    p = np.ones(1, np.float32)
    RMSprop(centered=True).step([p], [np.full(1, 1e30, np.float32)])
    assert p[0] == 1.0


@pytest.mark.parametrize("make", [lambda: Adam(lr=0.1), lambda: RAdam(lr=0.1, betas=(0.9, 0.9)),
                                  lambda: NAdam(lr=0.1), lambda: Adamax(lr=0.1),
                                  lambda: Adagrad(lr=0.1, lr_decay=0.5)],
                         ids=["Adam", "RAdam", "NAdam", "Adamax", "Adagrad"])
def test_per_array_step_counts_stay_separate_after_a_none_gradient(make):
    # b skips step 2, so at step 3 its t is 2: its path is that of a run on its own
    # gradients [g1, g3] (bias corrections, μ_t, lr_decay all use the array's own t).
    g1, g2, g3 = GRADS[:3]
    opt, params = make(), {"a": THETA0.copy(), "b": THETA0.copy()}
    opt.step(params, {"a": g1.copy(), "b": g1.copy()})
    opt.step(params, {"a": g2.copy(), "b": None})
    opt.step(params, {"a": g3.copy(), "b": g3.copy()})
    assert opt.state["a"]["step"] == 3 and opt.state["b"]["step"] == 2
    np.testing.assert_array_equal(params["b"], trajectory(make(), [g1, g3])[-1])
    np.testing.assert_array_equal(params["a"], trajectory(make(), [g1, g2, g3])[-1])


def test_sgd_momentum_of_one_never_forgets_as_in_torch():
    # b_t = b_{t-1} + g_t: the buffer is the sum of all gradients.
    opt, theta = SGD(lr=0.1, momentum=1.0), np.zeros(1)
    for _ in range(4):
        opt.step([theta], [np.ones(1)])
    assert opt.state[0]["momentum_buffer"][0] == 4.0
    assert theta[0] == pytest.approx(-0.1 * (1 + 2 + 3 + 4))


def test_adadelta_rho_of_one_steps_by_lr_times_g():
    # v and u stay 0, so Δ_t = √ε/√ε · g_t = g_t.
    theta = np.zeros(5)
    Adadelta(lr=0.5, rho=1.0).step([theta], [GRADS[0].copy()])
    np.testing.assert_allclose(theta, -0.5 * GRADS[0], rtol=1e-15)


def test_sgd_dampening_above_one_reverses_the_new_gradient_s_part():
    # b_2 = β b_1 + (1 - τ) g_2 with τ = 1.5: the new gradient enters with weight -0.5.
    opt, theta = SGD(lr=1.0, momentum=0.5, dampening=1.5), np.zeros(1)
    opt.step([theta], [np.ones(1)])
    opt.step([theta], [np.ones(1)])
    assert opt.state[0]["momentum_buffer"][0] == pytest.approx(0.5 - 0.5)
    assert math.isclose(theta[0], -1.0)
