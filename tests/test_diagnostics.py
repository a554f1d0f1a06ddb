"""Specification of optlib.train.diagnostics: per-layer update ratios, gradient norms, dead ReLUs."""

import numpy as np
import pytest

from optlib.data import make_blobs
from optlib.train.diagnostics import DeadReLUs, UpdateMonitor, dead_relu_fraction
from optlib.nn.losses import softmax_cross_entropy
from optlib.nn import MLP, Linear
from optlib.optim import SGD
from optlib.optim.lr_scheduler import constant
from optlib.train.loop import fit


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


def test_monitored_training_is_identical_to_unmonitored():
    X, y = make_blobs(n=100, centers=3, seed=0)
    a, b = MLP([2, 8, 3], seed=0), MLP([2, 8, 3], seed=0)
    fit(a, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), X, y, epochs=2, progress=False)
    mon = UpdateMonitor(SGD(lr=0.1, momentum=0.9))
    fit(b, softmax_cross_entropy, mon, X, y, epochs=2, progress=False,
        schedule=constant(0.1))
    for name, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[name])
    assert len(mon.steps) == 8 and set(mon.ratio) == set(a.parameters())
    assert mon.arrays("ratio")["0.weight"].shape == (8,)


def test_arrays_rejects_unknown_quantities():
    with pytest.raises(ValueError, match="what must be"):
        UpdateMonitor(SGD(lr=0.1)).arrays("lr")


def test_a_unit_with_negative_bias_and_zero_weights_is_dead():
    model = MLP([2, 4, 3], seed=0)
    w, b = model.parameters()["0.weight"], model.parameters()["0.bias"]
    w[:2] = 0.0
    b[:2] = -1.0                                          # units 0 and 1: always 0
    b[2:] = 10.0                                          # units 2 and 3: always on
    X = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    assert dead_relu_fraction(model, X) == {1: 0.5}


def test_dead_relu_fraction_keeps_the_mode_and_needs_a_sequential():
    model = MLP([2, 4, 3], seed=0).eval()
    dead_relu_fraction(model, np.ones((3, 2), dtype=np.float32))
    assert model.training is False
    with pytest.raises(TypeError, match="must be a Sequential"):
        dead_relu_fraction(Linear(2, 3), np.ones((3, 2)))


def test_a_huge_learning_rate_kills_relus_and_the_callback_sees_it():
    X, y = make_blobs(n=300, centers=3, seed=0)
    dead = DeadReLUs(X)
    fit(MLP([2, 32, 32, 3], seed=0), softmax_cross_entropy, SGD(lr=50.0), X, y, epochs=2,
        batch_size=30, callbacks=[dead], progress=False)
    assert len(dead.fractions) == 2
    assert max(dead.fractions[-1].values()) > 0.5


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="optimizer must have a step"):
        UpdateMonitor(object())
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        UpdateMonitor(SGD(lr=0.1), every=0)
