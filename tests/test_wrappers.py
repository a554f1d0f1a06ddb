"""Specification of optlib.optim.wrappers: gradient noise, update monitoring, a self-scheduling optimizer."""

import math

import numpy as np
import pytest

from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD, Adam
from optlib.optim.lr_scheduler import Constant, CosineAnnealingLR, StepLR
from optlib.optim.wrappers import GradientNoise, Scheduled, UpdateMonitor
from optlib.train.loop import fit

# --------------------------------------------------------------------------- GradientNoise


def test_added_noise_has_the_annealed_standard_deviation():
    # With a zero gradient and plain SGD (lr=1), each step moves θ by exactly -ξ_t.
    opt = GradientNoise(SGD(lr=1.0), eta=0.3, gamma=0.55, seed=0)
    theta = np.zeros(200_000)
    for t in (1, 2, 3):
        before = theta.copy()
        opt.step([theta], [np.zeros_like(theta)])
        step = before - theta
        assert step.std() == pytest.approx(math.sqrt(0.3 / (1 + t) ** 0.55), rel=0.01)
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


def test_plugs_into_fit_unchanged_including_schedules(make_blobs):
    X, y = make_blobs(n=120, centers=3, std=0.5, seed=0)
    opt = GradientNoise(SGD(lr=0.1), eta=0.01, seed=0)
    h = fit(MLP([2, 8, 3], seed=0), softmax_cross_entropy, opt, X, y, epochs=3, batch_size=20,
            schedule=StepLR(0.1, step_size=6, gamma=0.5), progress=False)
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


# --------------------------------------------------------------------------- UpdateMonitor


def test_plain_sgd_ratio_is_lr_times_gradient_norm_over_weight_norm():
    p = {"w": np.array([3.0, 4.0])}                       # norm 5
    g = {"w": np.array([1.0, 0.0])}
    mon = UpdateMonitor(SGD(lr=0.1))
    mon.step(p, g)
    assert mon.update_norm["w"] == [pytest.approx(0.1)]
    assert mon.weight_norm["w"] == [pytest.approx(5.0)]
    assert mon.ratio["w"] == [pytest.approx(0.02)]
    assert mon.grad_norm["w"] == [pytest.approx(1.0)]
    np.testing.assert_allclose(p["w"], [2.9, 4.0])        # and the step was taken


def test_a_zero_array_has_an_infinite_ratio():
    mon = UpdateMonitor(SGD(lr=0.1))
    mon.step([np.zeros(2)], [np.ones(2)])
    assert mon.ratio[0] == [np.inf]


def test_every_records_only_some_steps_but_all_steps_are_taken():
    p, g = [np.ones(3)], [np.ones(3)]
    mon = UpdateMonitor(SGD(lr=0.1), every=3)
    for _ in range(7):
        mon.step(p, g)
    assert mon.steps == [1, 4, 7] and mon.t == 7
    np.testing.assert_allclose(p[0], 1 - 0.7)


def test_monitored_training_is_identical_to_unmonitored(make_blobs):
    X, y = make_blobs(n=100, centers=3, seed=0)
    a, b = MLP([2, 8, 3], seed=0), MLP([2, 8, 3], seed=0)
    fit(a, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), X, y, epochs=2, progress=False)
    mon = UpdateMonitor(SGD(lr=0.1, momentum=0.9))
    fit(b, softmax_cross_entropy, mon, X, y, epochs=2, progress=False,
        schedule=Constant(0.1))
    for name, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[name])
    assert len(mon.steps) == 8 and set(mon.ratio) == set(a.parameters())
    assert mon.arrays("ratio")["0.weight"].shape == (8,)


def test_arrays_rejects_unknown_quantities():
    with pytest.raises(ValueError, match="what must be one of"):
        UpdateMonitor(SGD(lr=0.1)).arrays("lr")


def test_update_monitor_names_bad_arguments():
    with pytest.raises(TypeError, match="optimizer must have a step"):
        UpdateMonitor(object())
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        UpdateMonitor(SGD(lr=0.1), every=0)


# --------------------------------------------------------------------------- Scheduled


def test_scheduled_sets_the_rate_before_each_step():
    p, opt = [np.zeros(1)], Scheduled(SGD(lr=123.0), lambda t: 0.1 * (t + 1))
    for _ in range(3):
        opt.step(p, [np.ones(1)])
    np.testing.assert_allclose(p[0], -(0.1 + 0.2 + 0.3))
    assert opt.t == 3 and opt.lr == pytest.approx(0.3) and opt.peak_lr == pytest.approx(0.3)
    assert opt.hyper["lr"] == pytest.approx(0.3)


def test_scheduled_matches_fit_with_the_same_schedule(make_blobs):
    X, y = make_blobs(n=90, centers=3, seed=0)
    a, b = MLP([2, 8, 3], seed=0), MLP([2, 8, 3], seed=0)
    fit(a, softmax_cross_entropy, SGD(lr=0.3), X, y, epochs=3, batch_size=10,
        schedule=CosineAnnealingLR(0.3, 27), progress=False)
    fit(b, softmax_cross_entropy, Scheduled(SGD(lr=0.3), CosineAnnealingLR(0.3, 27)), X, y, epochs=3,
        batch_size=10, progress=False)
    for name, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[name])


def test_scheduled_rejects_bad_arguments():
    with pytest.raises(TypeError, match="optimizer must have a step"):
        Scheduled(object(), CosineAnnealingLR(0.1, 10))
    with pytest.raises(TypeError, match="schedule must be a callable"):
        Scheduled(SGD(lr=0.1), 0.1)


def test_wrappers_state_dicts_hold_the_wrapped_optimizer():
    for wrapper in (UpdateMonitor(Adam(lr=0.1)), Scheduled(Adam(lr=0.1), Constant(0.1))):
        p = [np.ones(3)]
        wrapper.step(p, [np.ones(3)])
        saved = wrapper.state_dict()
        wrapper.step(p, [np.ones(3)])
        wrapper.load_state_dict(saved)
        assert wrapper.t == 1 and wrapper.optimizer.state[0]["step"] == 1
