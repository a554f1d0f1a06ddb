"""Specification of optlib.train.lr_finder: the learning-rate range test."""

import numpy as np
import pytest

from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD, Adam
from optlib.optim.wrappers import GradientNoise, Scheduled, UpdateMonitor
from optlib.train.loop import fit
from optlib.train.lr_finder import StopOnRise, exponential_rates, range_test, smooth, suggest


@pytest.fixture(scope="module")
def blobs(make_blobs):
    return make_blobs(n=1_000, centers=4, std=1.0, seed=0)


def test_rates_are_geometric_from_min_to_max():
    r = exponential_rates(1e-4, 1.0, 5)
    np.testing.assert_allclose(r, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])


def test_rates_reject_bad_ranges():
    with pytest.raises(ValueError, match="lr_min must be < lr_max"):
        exponential_rates(1.0, 0.1, 10)
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        exponential_rates(1e-3, 1.0, 1)
    with pytest.raises(ValueError, match="lr_min must be a finite number > 0"):
        exponential_rates(0.0, 1.0, 10)


def test_smooth_is_a_bias_corrected_moving_average():
    x = np.array([2.0, 4.0, 6.0])
    s = smooth(x, beta=0.5)
    assert s[0] == 2.0                                   # bias correction: no pull towards 0
    assert s[1] == pytest.approx((0.25 * 2 + 0.5 * 4) / 0.75)
    np.testing.assert_array_equal(smooth(x, beta=0.0), x)
    np.testing.assert_allclose(smooth(np.full(50, 3.0), 0.9), 3.0)


def test_suggest_steepest_finds_the_fastest_fall_before_the_minimum():
    lrs = np.geomspace(1e-4, 10, 101)
    x = np.log10(lrs)
    loss = 2 - np.tanh(2 * (x + 1)) + np.where(x > 0, 10 * x**2, 0)   # falls fastest at 0.1
    assert suggest(lrs, loss, "steepest") == pytest.approx(0.1, rel=0.15)


def test_suggest_min_over_ten_divides_the_lowest_point_by_ten():
    lrs = np.geomspace(1e-3, 10, 41)
    loss = (np.log10(lrs) - 0.0) ** 2                   # lowest at lr = 1
    assert suggest(lrs, loss, "min/10", skip_start=0.0) == pytest.approx(0.1)


def test_suggest_ignores_a_noisy_start():
    lrs = np.geomspace(1e-4, 10, 100)
    x = np.log10(lrs)
    loss = 2 - np.tanh(2 * (x + 1))
    loss[:6] = [4.0, 3.5, 3.0, 2.6, 2.3, 2.05]          # the average settling in the first steps
    assert suggest(lrs, loss, skip_start=0.1) == pytest.approx(0.1, rel=0.15)
    assert suggest(lrs, loss, skip_start=0.0) < 1e-3


def test_suggest_rejects_unknown_rules_and_mismatched_arrays():
    with pytest.raises(ValueError, match="rule must be one of"):
        suggest([1, 2, 3], [1, 2, 3], rule="valley")
    with pytest.raises(ValueError, match="same length"):
        suggest([1, 2, 3], [1, 2])


def test_range_test_takes_one_pass_and_records_rising_rates(blobs):
    X, y = blobs
    rt = range_test(MLP([2, 16, 4], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y,
                    lr_min=1e-4, lr_max=1.0, batch_size=50, diverge=100.0)
    assert len(rt.lrs) == len(rt.losses) == len(rt.smoothed) == 20     # N/B = 1000/50
    assert np.all(np.diff(rt.lrs) > 0) and not rt.stopped_early
    assert rt.lrs[0] == pytest.approx(1e-4)


def test_range_test_restores_the_model_and_the_optimizer(blobs):
    X, y = blobs
    model, opt = MLP([2, 16, 4], seed=0), Adam(lr=0.01)
    before = model.state_dict()
    range_test(model, softmax_cross_entropy, opt, X, y, batch_size=50)
    for name, p in model.parameters().items():
        np.testing.assert_array_equal(p, before[name])
    assert opt.lr == 0.01 and opt.state == {}


@pytest.mark.parametrize("wrap", [UpdateMonitor, lambda o: Scheduled(o, lambda t: 0.01),
                                  lambda o: GradientNoise(o, eta=0.01)])
def test_range_test_restores_the_optimizer_inside_a_wrapper(blobs, wrap):
    X, y = blobs
    model, inner = MLP([2, 16, 4], seed=0), Adam(lr=0.01)
    wrapper = wrap(inner)
    range_test(model, softmax_cross_entropy, wrapper, X, y, batch_size=50)
    assert inner.state == {} and inner.lr == 0.01           # not the sweep's moments
    fresh = MLP([2, 16, 4], seed=0)
    a = fit(model, softmax_cross_entropy, wrapper, X, y, epochs=1, batch_size=50)
    b = fit(fresh, softmax_cross_entropy, wrap(Adam(lr=0.01)), X, y, epochs=1, batch_size=50)
    np.testing.assert_array_equal(a.loss, b.loss)            # as if no range test had run


def test_stop_on_rise_stops_at_factor_times_the_smoothed_minimum():
    stop = StopOnRise(factor=2.0, beta=0.0)                  # beta 0: no smoothing
    decisions = [stop.on_step(t, loss, None, None) for t, loss in enumerate([3, 1, 1.5, 2.5], 1)]
    assert decisions == [False, False, False, True] and stop.stopped_step == 4
    assert stop.smoothed == [3, 1, 1.5, 2.5]


def test_stop_on_rise_smooths_like_smooth():
    stop, losses = StopOnRise(factor=1e9, beta=0.9), [2.0, 1.0, 4.0, 0.5]
    for t, loss in enumerate(losses, 1):
        stop.on_step(t, loss, None, None)
    np.testing.assert_allclose(stop.smoothed, smooth(losses, 0.9))


def test_range_test_stops_when_the_loss_blows_up(blobs):
    X, y = blobs
    rt = range_test(MLP([2, 16, 4], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y,
                    lr_min=1e-3, lr_max=1e4, steps=200, batch_size=50, diverge=1.5)
    assert rt.stopped_early and len(rt.losses) < 200


def test_range_test_suggestion_trains_well(blobs):
    X, y = blobs
    rt = range_test(MLP([2, 16, 4], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y,
                    lr_min=1e-4, lr_max=100.0, steps=200, batch_size=20)
    assert 1e-3 < rt.suggestion < 10
    losses = {lr: fit(MLP([2, 16, 4], seed=0), softmax_cross_entropy, SGD(lr=lr), X, y,
                      epochs=2, batch_size=20, progress=False).train_loss[-1]
              for lr in (1e-4, rt.suggestion)}
    assert losses[rt.suggestion] < 0.5 * losses[1e-4]


def test_range_test_rejects_bad_arguments(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1 and <= 1000"):
        range_test(MLP([2, 4, 4]), softmax_cross_entropy, SGD(lr=0.1), X, y, batch_size=0)
    with pytest.raises(ValueError, match="diverge must be a finite number > 1"):
        range_test(MLP([2, 4, 4]), softmax_cross_entropy, SGD(lr=0.1), X, y, diverge=0.5)


def test_range_test_uses_each_example_once_per_pass():
    seen = []

    def loss_fn(pred, target):
        if len(target) == 3:                                # a training batch, not an evaluation
            seen.extend(target.tolist())
        return float(np.mean(pred**2)), 2 * pred / pred.size

    X = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10, dtype=np.float32)                     # float targets: no accuracy
    range_test(MLP([1, 2, 1], seed=0), loss_fn, SGD(lr=0.1), X, y, lr_min=1e-4,
               lr_max=1e-3, steps=6, batch_size=3, diverge=1e9)
    assert len(set(seen[:9])) == 9                                         # pass 1: no repeat
    assert len(set(seen[9:18])) == 9                                       # pass 2: new order
