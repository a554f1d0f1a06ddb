"""Specification of optlib.optim.scheduled: named schedule shapes and a self-scheduling optimizer."""

import numpy as np
import pytest

from optlib.data import make_blobs
from optlib.nn.losses import softmax_cross_entropy
from optlib.nn import MLP
from optlib.optim import SGD
from optlib.optim.scheduled import SHAPES, Scheduled, make_schedule
from optlib.optim.lr_scheduler import cosine
from optlib.train.loop import fit

T = 300


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_peaks_at_peak_lr_and_never_exceeds_it(shape):
    rates = np.array([make_schedule(shape, 0.5, T)(t) for t in range(T)])
    assert rates.max() == pytest.approx(0.5) and rates.min() >= 0


@pytest.mark.parametrize("shape, last", [("constant", 0.5), ("step", 0.005),
                                         ("exponential", 0.005), ("1/t", 0.5 / 11),
                                         ("cosine", 0.0), ("warmup+cosine", 0.0)])
def test_shapes_end_where_the_docstring_says(shape, last):
    # the last step of training is t = T - 1
    assert make_schedule(shape, 0.5, T)(T - 1) == pytest.approx(last, rel=0.02, abs=1e-4)


def test_step_drops_by_ten_at_a_third_and_two_thirds():
    s = make_schedule("step", 1.0, T)
    assert (s(99), s(100), s(199), s(200)) == pytest.approx((1.0, 0.1, 0.1, 0.01))


def test_warmup_rises_from_zero_over_a_tenth_of_training():
    s = make_schedule("warmup+cosine", 1.0, T)
    assert s(0) == 0.0 and s(15) == pytest.approx(0.5) and s(30) == pytest.approx(1.0)


def test_make_schedule_rejects_unknown_shapes_and_short_runs():
    with pytest.raises(ValueError, match="shape must be one of"):
        make_schedule("linear", 0.1, T)
    with pytest.raises(ValueError, match="total_steps must be an integer >= 10"):
        make_schedule("cosine", 0.1, 5)


def test_scheduled_sets_the_rate_before_each_step():
    p, opt = [np.zeros(1)], Scheduled(SGD(lr=123.0), lambda t: 0.1 * (t + 1))
    for _ in range(3):
        opt.step(p, [np.ones(1)])
    np.testing.assert_allclose(p[0], -(0.1 + 0.2 + 0.3))
    assert opt.t == 3 and opt.lr == pytest.approx(0.3) and opt.peak_lr == pytest.approx(0.3)
    assert opt.hyper["lr"] == pytest.approx(0.3)


def test_scheduled_matches_fit_with_the_same_schedule():
    X, y = make_blobs(n=90, centers=3, seed=0)
    a, b = MLP([2, 8, 3], seed=0), MLP([2, 8, 3], seed=0)
    fit(a, softmax_cross_entropy, SGD(lr=0.3), X, y, epochs=3, batch_size=10,
        schedule=cosine(0.3, 27), progress=False)
    fit(b, softmax_cross_entropy, Scheduled(SGD(lr=0.3), cosine(0.3, 27)), X, y, epochs=3,
        batch_size=10, progress=False)
    for name, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[name])


def test_scheduled_rejects_bad_arguments():
    with pytest.raises(TypeError, match="optimizer must have a step"):
        Scheduled(object(), cosine(0.1, 10))
    with pytest.raises(TypeError, match="schedule must be a callable"):
        Scheduled(SGD(lr=0.1), 0.1)
