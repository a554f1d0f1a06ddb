"""Specification of the optimizers after Adam: Adafactor, Muon, Lion, schedule-free AdamW.

Closed forms and hand-derived first steps; argument checks; checkpoints. The step-for-step
comparison with the references is tests/against_torch/test_after_adam_vs_reference.py.
"""
import numpy as np
import pytest

import optlib
from optlib.optim import Adafactor, AdamWScheduleFree, Lion, Muon, registry
from optlib.optim.muon import newton_schulz

ALL = [Adafactor, Muon, Lion, AdamWScheduleFree]


def rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- Adafactor

def test_adafactor_first_step_on_a_vector_is_a_relative_sign_step():
    # v_1 = g² (β̂2_1 = 0), so U = g/|g|, RMS(U) = 1 (no clipping at d = 1) and the step is
    # α_1 = max(ε2, RMS(θ0)) · min(η, 1) in every coordinate.
    theta, g = np.array([3.0, -4.0, 0.0, 1.0]), np.array([0.5, -2.0, 1e-3, 7.0])
    p = theta.copy()
    Adafactor(lr=0.05).step([p], [g])
    alpha = max(1e-3, np.sqrt(np.mean(theta ** 2))) * 0.05
    np.testing.assert_allclose(p, theta - alpha * np.sign(g), rtol=1e-15)


def test_adafactor_factored_second_moment_is_exact_for_a_rank_one_g_squared():
    a, b = rng().uniform(0.5, 2, size=5), rng(1).uniform(0.5, 2, size=3)
    g = np.outer(a, b)                                   # g² = outer(a², b²): rank one
    p = rng(2).normal(size=(5, 3))
    opt = Adafactor()
    opt.step([p], [g])
    row, col = opt.state[0]["row_var"], opt.state[0]["col_var"]
    np.testing.assert_allclose(row[:, 0], (g ** 2).mean(axis=1))      # row means
    np.testing.assert_allclose(col[0, :], (g ** 2).mean(axis=0))      # column means
    np.testing.assert_allclose(row @ col / row.mean(), g ** 2, rtol=1e-13)


def test_adafactor_keeps_n_plus_m_numbers_for_a_matrix_and_the_last_two_axes_of_a_tensor():
    opt = Adafactor()
    p, q, v = np.ones((40, 30)), np.ones((2, 4, 5)), np.ones(7)
    opt.step([p, q, v], [np.ones((40, 30)), np.ones((2, 4, 5)), np.ones(7)])
    assert opt.state[0]["row_var"].shape == (40, 1) and opt.state[0]["col_var"].shape == (1, 30)
    assert opt.state[1]["row_var"].shape == (2, 4, 1) and opt.state[1]["col_var"].shape == (2, 1, 5)
    assert opt.state[2]["variance"].shape == (7,) and "row_var" not in opt.state[2]


def test_adafactor_second_step_averages_with_beta2_hat_equal_to_one_minus_t_to_the_decay():
    theta, g1, g2 = np.array([1.0, 2.0]), np.array([1.0, 3.0]), np.array([2.0, 1.0])
    opt = Adafactor(beta2_decay=-0.5)
    p = theta.copy()
    opt.step([p], [g1])
    opt.step([p], [g2])
    w = 2 ** -0.5                                        # 1 - β̂2_2
    np.testing.assert_allclose(opt.state[0]["variance"], (1 - w) * g1 ** 2 + w * g2 ** 2)


def test_adafactor_moves_a_zero_parameter_by_eps2_times_rho():
    p = np.zeros(3)
    Adafactor(lr=0.01, eps=(None, 1e-3)).step([p], [np.array([1.0, -1.0, 2.0])])
    np.testing.assert_allclose(p, -1e-3 * 0.01 * np.array([1.0, -1.0, 1.0]))


def test_adafactor_clipping_caps_the_rms_of_the_normalised_update_at_d():
    # A large second gradient against a small v: U's RMS exceeds d, the step is scaled down.
    theta = np.ones(4)
    opt = Adafactor(lr=1.0, d=1.0)
    p = theta.copy()
    opt.step([p], [np.full(4, 1e-3)])
    before = p.copy()
    opt.step([p], [np.full(4, 10.0)])
    alpha = max(1e-3, np.sqrt(np.mean(before ** 2))) * (1 / np.sqrt(2))
    np.testing.assert_allclose(np.sqrt(np.mean((p - before) ** 2)), alpha, rtol=1e-12)


def test_adafactor_maximize_and_decoupled_weight_decay():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    up, down = theta.copy(), theta.copy()
    Adafactor(maximize=True).step([up], [g])
    Adafactor().step([down], [-g])
    np.testing.assert_array_equal(up, down)
    p = theta.copy()
    Adafactor(lr=0.1, weight_decay=0.5).step([p], [np.zeros(2)])   # U = 0: only the decay
    np.testing.assert_allclose(p, theta * (1 - 0.1 * 0.5))


def test_adafactor_leaves_an_empty_array_as_it_is():
    p = np.zeros((3, 0))
    Adafactor().step([p], [np.zeros((3, 0))])
    assert p.shape == (3, 0)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(beta2_decay=0.5), ValueError, "beta2_decay"),
    (dict(d=0.5), ValueError, "d must"),
    (dict(eps=1e-3), TypeError, "eps must be a pair"),
    (dict(eps=(-1.0, 1e-3)), ValueError, r"eps\[0\]"),
    (dict(eps=(None, -1.0)), ValueError, r"eps\[1\]"),
    (dict(lr=-1.0), ValueError, "lr"),
])
def test_adafactor_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        Adafactor(**kwargs)


# ----------------------------------------------------------------------------- Muon

def test_newton_schulz_brings_singular_values_near_one():
    G = rng().normal(size=(8, 5)) @ np.diag([10.0, 3.0, 1.0, 0.3, 0.1])
    s = np.linalg.svd(newton_schulz(G), compute_uv=False)
    assert s.min() > 0.6 and s.max() < 1.25              # Jordan's quintic: near 1, not at 1
    s = np.linalg.svd(newton_schulz(G, (1.5, -0.5, 0.0), ns_steps=60), compute_uv=False)
    np.testing.assert_allclose(s, 1.0, atol=1e-9)        # the convergent cubic: exactly UVᵀ


def test_newton_schulz_keeps_the_singular_vectors_and_is_transpose_equivariant():
    G = rng(3).normal(size=(4, 6))
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    O = newton_schulz(G, (1.5, -0.5, 0.0), ns_steps=60)
    np.testing.assert_allclose(O, U @ Vt, atol=1e-9)
    np.testing.assert_allclose(newton_schulz(G.T), newton_schulz(G).T, rtol=1e-12, atol=1e-15)


def test_muon_first_step_is_the_orthogonalized_gradient_times_the_adjusted_lr():
    # B_1 = (1-μ) g and the Nesterov direction is a multiple of g, which NS normalises away.
    theta, g = rng(4).normal(size=(6, 3)), rng(5).normal(size=(6, 3))
    for nesterov in (True, False):
        p = theta.copy()
        Muon(lr=0.02, weight_decay=0.1, nesterov=nesterov).step([p], [g])
        expected = theta * (1 - 0.02 * 0.1) - 0.02 * np.sqrt(6 / 3) * newton_schulz(g)
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-15)


def test_muon_match_rms_adamw_scales_by_a_fifth_of_the_square_root_of_the_larger_side():
    theta, g = np.zeros((4, 9)), rng(6).normal(size=(4, 9))
    p = theta.copy()
    Muon(lr=0.01, weight_decay=0.0, adjust_lr_fn="match_rms_adamw").step([p], [g])
    np.testing.assert_allclose(p, -0.01 * 0.2 * 3.0 * newton_schulz(g), rtol=1e-12)


def test_muon_singular_values_of_its_steps_stay_near_one_over_many_steps():
    p, opt = rng(7).normal(size=(10, 6)), Muon(lr=1.0, weight_decay=0.0)
    for k in range(20):
        before = p.copy()
        opt.step([p], [rng(100 + k).normal(size=(10, 6)) + p])
        s = np.linalg.svd(p - before, compute_uv=False) / np.sqrt(10 / 6)
        assert 0.6 < s.min() and s.max() < 1.25


def test_muon_refuses_a_parameter_that_is_not_a_matrix():
    with pytest.raises(ValueError, match=r"2-D.*params\['bias'\].*AdamW"):
        Muon().step({"W": np.ones((2, 2)), "bias": np.ones(2)},
                    {"W": np.ones((2, 2)), "bias": np.ones(2)})


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(momentum=-0.1), ValueError, "momentum"),
    (dict(ns_steps=100), ValueError, "ns_steps"),
    (dict(ns_steps=2.5), TypeError, "ns_steps"),
    (dict(ns_coefficients=(1.0, 2.0)), TypeError, "ns_coefficients"),
    (dict(adjust_lr_fn="spectral"), ValueError, "adjust_lr_fn"),
    (dict(nesterov="yes"), TypeError, "nesterov"),
])
def test_muon_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        Muon(**kwargs)


# ----------------------------------------------------------------------------- Lion

@pytest.mark.parametrize("beta1", [0.0, 0.5, 0.9, 0.99])
def test_lion_first_step_is_minus_lr_times_the_sign_of_the_gradient(beta1):
    theta, g = np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.3, -1e-20, 0.0, -7.0])
    p = theta.copy()
    Lion(lr=0.1, betas=(beta1, 0.99)).step([p], [g])
    np.testing.assert_array_equal(p, theta - 0.1 * np.sign(g))


def test_lion_second_step_takes_the_sign_of_the_fast_interpolation_and_keeps_the_slow_one():
    g1, g2 = np.array([1.0, 1.0]), np.array([-0.05, -0.2])
    opt, p = Lion(lr=0.1, betas=(0.9, 0.99)), np.zeros(2)
    opt.step([p], [g1])
    opt.step([p], [g2])
    m1 = 0.01 * g1                                       # (1-β2) g1
    c2 = 0.9 * m1 + 0.1 * g2                             # [0.004, -0.011]
    np.testing.assert_allclose(p, -0.1 * np.sign(g1) - 0.1 * np.sign(c2))
    np.testing.assert_allclose(opt.state[0]["exp_avg"], 0.99 * m1 + 0.01 * g2)


def test_lion_weight_decay_is_decoupled_and_scaled_by_the_lr():
    theta = np.array([2.0, -4.0])
    p = theta.copy()
    Lion(lr=0.1, weight_decay=0.5).step([p], [np.array([1.0, 0.0])])
    np.testing.assert_allclose(p, theta * (1 - 0.05) - 0.1 * np.array([1.0, 0.0]))


def test_lion_keeps_one_state_array():
    opt = Lion()
    opt.step([np.ones(3)], [np.ones(3)])
    assert set(opt.state[0]) == {"step", "exp_avg"}


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
    (dict(betas=0.9), TypeError, "betas"),
    (dict(weight_decay=-1), ValueError, "weight_decay"),
    (dict(eps=1e-8), TypeError, "unexpected"),
])
def test_lion_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        Lion(**kwargs)


# ----------------------------------------------------------------------------- schedule-free

def test_schedule_free_first_step_is_a_normalised_step_of_z_and_x_y_z_coincide():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, -3.0])
    opt, p = AdamWScheduleFree(lr=0.1), theta.copy()
    opt.step([p], [g])
    z1 = theta - 0.1 * g / (np.abs(g) + 1e-8)            # v̂_1 = g², c_2 = 1
    np.testing.assert_allclose(opt.state[0]["z"], z1, rtol=1e-15)
    np.testing.assert_allclose(p, z1, rtol=1e-15)
    opt.eval([p])
    np.testing.assert_allclose(p, z1, rtol=1e-14)


def test_schedule_free_x_is_the_average_of_the_z_iterates_for_a_constant_lr():
    opt, p, zs = AdamWScheduleFree(lr=0.05, betas=(0.8, 0.99)), rng(8).normal(size=5), []
    for k in range(12):
        opt.step([p], [rng(200 + k).normal(size=5) + p])
        zs.append(opt.state[0]["z"].copy())
    y, z = p.copy(), opt.state[0]["z"]
    opt.eval([p])
    np.testing.assert_allclose(p, np.mean(zs, axis=0), rtol=1e-12)        # x_t
    np.testing.assert_allclose(y, 0.2 * z + 0.8 * p, rtol=1e-12)          # y = (1-β1) z + β1 x


def test_schedule_free_warm_up_scales_the_first_steps_linearly():
    g = np.array([1.0])
    opt, p = AdamWScheduleFree(lr=0.1, warmup_steps=4), np.zeros(1)
    opt.step([p], [g])
    np.testing.assert_allclose(opt.state[0]["z"], -0.1 / 4 * g / (1 + 1e-8))
    assert opt.state[0]["lr_max"] == pytest.approx(0.025)


def test_schedule_free_train_eval_round_trip_restores_the_arrays():
    opt, p = AdamWScheduleFree(lr=0.05, weight_decay=0.01), rng(9).normal(size=(3, 4))
    for k in range(5):
        opt.step({"w": p}, {"w": rng(300 + k).normal(size=(3, 4))})
    y = p.copy()
    opt.eval({"w": p})
    assert not np.allclose(p, y) and opt.train_mode is False
    opt.eval({"w": p})                                   # a second eval changes nothing
    opt.train({"w": p})
    np.testing.assert_allclose(p, y, rtol=1e-13, atol=1e-15)
    assert opt.train_mode is True


def test_schedule_free_refuses_to_step_in_eval_mode():
    opt, p = AdamWScheduleFree(), np.ones(2)
    opt.step([p], [np.ones(2)])
    opt.eval([p])
    with pytest.raises(RuntimeError, match="train"):
        opt.step([p], [np.ones(2)])


def test_schedule_free_state_dict_keeps_the_mode():
    opt, p = AdamWScheduleFree(), np.ones(2)
    opt.step([p], [np.ones(2)])
    opt.eval([p])
    other = AdamWScheduleFree()
    other.load_state_dict(opt.state_dict())
    assert other.train_mode is False


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(betas=(0.0, 0.999)), ValueError, r"betas\[0\]"),
    (dict(warmup_steps=1.5), TypeError, "warmup_steps"),
    (dict(warmup_steps=-1), ValueError, "warmup_steps"),
    (dict(r=-1.0), ValueError, "r must"),
    (dict(weight_lr_power=-2.0), ValueError, "weight_lr_power"),
])
def test_schedule_free_rejects_bad_arguments_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        AdamWScheduleFree(**kwargs)


# ----------------------------------------------------------------------------- all four

def _problem(cls):
    shapes = [(4, 3), (2, 5)] if cls is Muon else [(4, 3), (5,), ()]
    return shapes, [rng(10 + i).normal(size=s) for i, s in enumerate(shapes)]


def _run(opt, params, steps, seed):
    for k in range(steps):
        opt.step(params, [rng(seed + k).normal(size=p.shape) + p for p in params])


@pytest.mark.parametrize("cls", ALL)
def test_state_dict_round_trip_continues_bit_for_bit(cls):
    shapes, params = _problem(cls)
    opt = cls(lr=0.01)
    _run(opt, params, 3, 500)
    saved, copies = opt.state_dict(), [p.copy() for p in params]
    _run(opt, params, 3, 600)
    resumed = cls()
    resumed.load_state_dict(saved)
    _run(resumed, copies, 3, 600)
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", ALL)
def test_float32_stays_float32(cls):
    shapes, params = _problem(cls)
    params = [p.astype(np.float32) for p in params]
    _run(cls(), params, 2, 700)
    assert all(p.dtype == np.float32 for p in params)


@pytest.mark.parametrize("cls", ALL)
def test_divergence_is_data_not_an_error(cls):
    shapes, params = _problem(cls)
    grads = [np.full(p.shape, np.nan) for p in params]
    cls().step(params, grads)                            # no exception


def test_the_four_are_top_level_names_and_registry_entries():
    for name, cls in zip(registry.AFTER_ADAM, ALL):
        assert getattr(optlib, cls.__name__) is cls and cls.__name__ in optlib.__all__
        opt = registry.make(name)
        assert type(opt) is cls and registry.display_name(opt) == name
    assert registry.lookup("Schedule-free AdamW, lr=0.01").name == "Schedule-free AdamW"
    assert registry.lookup("AdamW (wd=0.1)").name == "AdamW"
    assert len(registry.NAMES) == 12 and not set(registry.AFTER_ADAM) & set(registry.NAMES)


def test_the_four_have_colours_and_markers_no_other_optimizer_uses():
    entries = [registry.get(n) for n in registry.NAMES + registry.AFTER_ADAM]
    assert len({e.color.casefold() for e in entries}) == 16
    assert len({e.marker for e in entries}) == 16
    assert len({registry.get(n).linestyle for n in registry.AFTER_ADAM}) == 4


@pytest.mark.parametrize("cls, defaults", [
    (Adafactor, dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                     maximize=False)),
    (Muon, dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5,
                adjust_lr_fn=None)),
    (Lion, dict(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0)),
    (AdamWScheduleFree, dict(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                             warmup_steps=0, r=0.0, weight_lr_power=2.0)),
])
def test_defaults_are_the_references(cls, defaults):
    assert dict(cls().hyper) == defaults


def test_adafactor_load_state_dict_checks_the_factors_shapes():
    opt = Adafactor()
    opt.step([np.ones((4, 3))], [np.ones((4, 3))])
    saved = opt.state_dict()
    saved["state"][0]["row_var"] = np.ones((4, 3))
    with pytest.raises(ValueError, match="row_var"):
        Adafactor().load_state_dict(saved)
