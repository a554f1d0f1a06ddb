"""optlib.lab.ch01_gradient_descent: one log-spaced evaluation grid for runs of any length."""
import numpy as np
import pytest

import optlib
from optlib import nn
from optlib.lab.ch01_gradient_descent import EvaluateAt, log_steps
from optlib.nn import losses


def test_log_steps_runs_from_1_to_last_without_repeats():
    s = log_steps(22_000, 30)
    assert s[0] == 1 and s[-1] == 22_000 and np.all(np.diff(s) > 0) and len(s) <= 30


def test_log_steps_are_evenly_spaced_on_a_log_axis_where_integers_allow():
    s = log_steps(10_000, 9)                # 10^(k/2): 1, 3, 10, 32, 100, ...
    assert list(s) == [1, 3, 10, 32, 100, 316, 1000, 3162, 10_000]


def test_log_steps_refuses_a_last_below_1():
    with pytest.raises(ValueError, match="last"):
        log_steps(0)


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 3, size=64)


def test_evaluate_at_records_the_whole_set_loss_at_the_chosen_steps_only():
    X, y = _data()
    model = nn.MLP([4, 3], seed=0)
    at = EvaluateAt([1, 5, 9], X, y, losses.softmax_cross_entropy).start(model)
    h = optlib.fit(model, losses.softmax_cross_entropy, optlib.SGD(lr=0.1), X, y, epochs=2,
                   batch_size=8, seed=0, progress=False, callbacks=[at])
    assert list(at.step) == [0, 1, 5, 9]
    assert np.isclose(at.loss[0], h.train_loss[0])       # the start, before training
    assert at.time[0] == 0 and np.all(np.diff(at.time) >= 0)


def test_evaluate_at_the_last_step_agrees_with_fit_s_own_record():
    X, y = _data()
    model = nn.MLP([4, 3], seed=0)
    at = EvaluateAt([16], X, y, losses.softmax_cross_entropy).start(model)
    h = optlib.fit(model, losses.softmax_cross_entropy, optlib.SGD(lr=0.1), X, y, epochs=2,
                   batch_size=8, seed=0, progress=False, callbacks=[at])
    assert np.isclose(at.loss[-1], h.train_loss[-1])


def test_evaluate_at_leaves_its_own_evaluations_out_of_the_training_time():
    X, y = _data()
    X = np.repeat(X, 200, axis=0)                        # a slow evaluation, a fast step
    y = np.repeat(y, 200)
    model = nn.MLP([4, 3], seed=0)
    at = EvaluateAt(np.arange(1, 11), X, y, losses.softmax_cross_entropy).start(model)
    h = optlib.fit(model, losses.softmax_cross_entropy, optlib.SGD(lr=0.1), X, y, epochs=1,
                   batch_size=1, max_steps=10, seed=0, progress=False, callbacks=[at])
    assert at.time[-1] <= h.time[9] and at.time[-1] < 0.5 * h.time[9]


def test_evaluate_at_refuses_steps_below_1():
    X, y = _data()
    with pytest.raises(ValueError, match="steps"):
        EvaluateAt([0, 3], X, y, losses.softmax_cross_entropy)
