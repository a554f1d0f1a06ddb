"""Specification of optlib.train.loop.fit: batch / stochastic / mini-batch training with a history."""

import math
import warnings

import numpy as np
import pytest

from optlib.data import linear_regression
from optlib.nn import MLP, Linear
from optlib.nn.losses import mse, softmax_cross_entropy
from optlib.optim import SGD, Adam
from optlib.train.loop import evaluate, fit


@pytest.fixture(scope="module")
def blobs(make_blobs):
    return make_blobs(n=200, centers=3, std=0.5, seed=0)


def small_fit(blobs, **kwargs):
    X, y = blobs
    model = MLP([2, 8, 3], seed=0)
    kwargs = {"epochs": 2, "batch_size": 16, **kwargs}
    return model, fit(model, softmax_cross_entropy, SGD(lr=0.1), X, y, **kwargs)


# ----------------------------------------------------------------------- it learns


def test_full_batch_gradient_descent_finds_the_least_squares_solution():
    X, y, w_true, b_true = linear_regression(n=200, d=4, noise=0.1, seed=0)
    model = Linear(4, 1, init="zeros", dtype=np.float64)
    fit(model, mse, SGD(lr=0.2), X.astype(np.float64), y, epochs=300, batch_size=None)
    coef = np.linalg.lstsq(np.c_[X, np.ones(len(X))].astype(np.float64), y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(model.weight[0], coef[:4], atol=1e-6)
    assert model.bias[0] == pytest.approx(coef[4], abs=1e-6)
    np.testing.assert_allclose(model.weight[0], w_true, atol=0.05)   # and near the truth


def test_minibatch_training_classifies_blobs_with_high_accuracy(blobs):
    X, y = blobs
    model = MLP([2, 16, 3], seed=0)
    history = fit(model, softmax_cross_entropy, Adam(lr=0.05), X, y, epochs=20, batch_size=20)
    assert history.train_acc[-1] > 0.97
    assert history.train_loss[-1] < history.train_loss[0] / 5


# ------------------------------------------------------------------- steps, order


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (1, 200), (16, 13), (200, 1), (50, 4)])
def test_batch_size_sets_the_number_of_steps_per_epoch(blobs, batch_size, steps):
    _, history = small_fit(blobs, epochs=2, batch_size=batch_size)
    assert history.steps_per_epoch == steps
    assert history.n_steps == len(history.loss) == 2 * steps
    assert history.step.tolist() == [0, steps, 2 * steps]


def test_same_seed_gives_identical_runs(blobs):
    model_a, a = small_fit(blobs, seed=3)
    model_b, b = small_fit(blobs, seed=3)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(model_a[0].weight, model_b[0].weight)


def test_different_seed_shuffles_differently(blobs):
    _, a = small_fit(blobs, seed=3)
    _, b = small_fit(blobs, seed=4)
    assert not np.array_equal(a.loss, b.loss)


def test_shuffle_false_visits_examples_in_the_given_order():
    X = np.arange(5, dtype=np.float32)[:, None]
    seen = []

    def recording_loss(pred, target):
        seen.append(int(target[0, 0]))
        return mse(pred, target)

    fit(Linear(1, 1), recording_loss, SGD(lr=0.0), X, X.copy(), epochs=1, batch_size=1,
        shuffle=False)
    assert seen[1:6] == [0, 1, 2, 3, 4]          # after the epoch-0 evaluation call


def test_shuffle_visits_every_example_once_per_epoch():
    X = np.arange(6, dtype=np.float32)[:, None]
    seen = []

    def recording_loss(pred, target):
        seen.extend(target[:, 0].astype(int).tolist())
        return mse(pred, target)

    model = Linear(1, 1)
    fit(model, recording_loss, SGD(lr=0.0), X, X.copy(), epochs=1, batch_size=2, shuffle=True)
    epoch = seen[6:12]                           # evaluation (6) then the 3 training batches
    assert sorted(epoch) == list(range(6)) and epoch != list(range(6))


# ------------------------------------------------------------------ lr, history


def test_schedule_sets_the_learning_rate_before_every_step(blobs):
    optimizer = SGD(lr=1.0)
    X, y = blobs
    history = fit(MLP([2, 4, 3]), softmax_cross_entropy, optimizer, X, y, epochs=2,
                  batch_size=50, schedule=lambda t: 0.1 / (1 + t))
    np.testing.assert_allclose(history.lr, [0.1 / (1 + t) for t in range(8)])
    assert optimizer.lr == pytest.approx(0.1 / 8)


def test_history_starts_with_the_untrained_model_and_records_every_epoch(blobs):
    X, y = blobs
    _, history = small_fit(blobs, epochs=3, X_val=X[:50], y_val=y[:50])
    assert history.epoch.tolist() == [0, 1, 2, 3]
    for column in (history.train_loss, history.train_acc, history.val_loss, history.val_acc):
        assert len(column) == 4 and np.all(np.isfinite(column))
    assert history.epoch_time[0] == 0 and np.all(np.diff(history.epoch_time) > 0)
    assert np.all(np.diff(history.time) >= 0)
    assert not history.diverged and history.stop_reason is None


def test_per_epoch_train_loss_is_the_loss_on_the_whole_training_set(blobs):
    X, y = blobs
    model, history = small_fit(blobs)
    assert history.train_loss[-1] == pytest.approx(evaluate(model, softmax_cross_entropy, X, y)[0])


def test_regression_history_has_no_accuracy():
    X, y, _, _ = linear_regression(n=40, d=2, seed=0)
    history = fit(Linear(2, 1), mse, SGD(lr=0.1), X, y, epochs=1, batch_size=8)
    assert np.all(np.isnan(history.train_acc)) and np.all(np.isnan(history.val_loss))


def test_max_steps_stops_inside_an_epoch_with_a_fractional_epoch(blobs):
    _, history = small_fit(blobs, epochs=5, batch_size=20, max_steps=15)
    assert history.n_steps == 15
    assert history.epoch.tolist() == [0, 1, 1.5]
    assert history.stop_reason == "max_steps"


def test_float64_data_are_cast_to_the_model_dtype(blobs):
    X, y = blobs
    model = MLP([2, 4, 3])
    fit(model, softmax_cross_entropy, SGD(lr=0.1), X.astype(np.float64), y, epochs=1)
    assert model[0].weight.dtype == np.float32


# ------------------------------------------------------------------- divergence


def test_non_finite_loss_stops_training_silently_before_that_update():
    X, y, _, _ = linear_regression(n=64, d=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no warning at all, ours or NumPy's
        history = fit(Linear(3, 1), mse, SGD(lr=1e3), X, y, epochs=50, batch_size=8)
    assert history.diverged and history.stop_reason == "diverged"
    assert history.n_steps == history.diverged_at < 50 * 8
    assert not math.isfinite(history.loss[-1])
    assert np.all(np.isfinite(history.loss[:-1]))


def test_a_diverged_run_gets_no_record_for_its_last_epoch():
    X, y, _, _ = linear_regression(n=64, d=3, seed=0)
    history = fit(Linear(3, 1), mse, SGD(lr=1e3), X, y, epochs=50, batch_size=8)
    assert history.step[-1] < history.diverged_at and np.all(np.isfinite(history.train_loss))


def test_nan_in_the_data_is_an_error_that_blames_the_data():
    X, y, _, _ = linear_regression(n=40, d=2, seed=0)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains 1 nan or inf value"):
        fit(Linear(2, 1), mse, SGD(lr=0.1), X, y)
    y[0] = np.inf
    with pytest.raises(ValueError, match="y contains 1 nan or inf value"):
        fit(Linear(2, 1), mse, SGD(lr=0.1), np.nan_to_num(X), y)


# -------------------------------------------------------------------- callbacks


class StopAfter:
    def __init__(self, epochs):
        self.epochs, self.calls, self.ended = epochs, [], False

    def on_epoch_end(self, epoch, history, model):
        self.calls.append((epoch, len(history.epoch)))
        return epoch >= self.epochs

    def on_train_end(self, history, model):
        self.ended = True


def test_a_callback_can_stop_training(blobs):
    callback = StopAfter(2)
    _, history = small_fit(blobs, epochs=10, callbacks=[callback])
    assert callback.calls == [(1, 2), (2, 3)]
    assert callback.ended
    assert history.epoch.tolist() == [0, 1, 2]
    assert history.stop_reason == "callback: StopAfter"


def test_callbacks_without_hooks_are_ignored(blobs):
    small_fit(blobs, callbacks=[object()])


class StepLog:
    def __init__(self, stop_at=None):
        self.seen, self.stop_at = [], stop_at

    def on_step(self, step, loss, history, model):
        self.seen.append((step, loss, history.n_steps))
        return "stop" if step == self.stop_at else None


def test_on_step_sees_every_update_with_its_mini_batch_loss(blobs):
    log = StepLog()
    _, history = small_fit(blobs, epochs=2, batch_size=50, callbacks=[log])
    assert [s for s, _, _ in log.seen] == list(range(1, 9))
    assert [loss for _, loss, _ in log.seen] == history.loss.tolist()
    assert all(step == n for step, _, n in log.seen)


def test_on_step_can_stop_training_inside_an_epoch(blobs):
    log = StepLog(stop_at=6)
    _, history = small_fit(blobs, epochs=5, batch_size=50, callbacks=[log])
    assert history.n_steps == 6 and history.stop_reason == "callback: StepLog"
    assert history.epoch.tolist() == [0, 1, 1.5]        # the partial epoch is recorded


def test_reusing_an_optimizer_continues_its_state(blobs):
    # Documented in fit: the optimizer's state is not reset between calls, so a second
    # model of the same shapes would inherit the first one's moments and step counts.
    X, y = blobs
    opt = Adam(lr=0.01)
    fit(MLP([2, 4, 3], seed=0), softmax_cross_entropy, opt, X, y, epochs=1, batch_size=50)
    fit(MLP([2, 4, 3], seed=1), softmax_cross_entropy, opt, X, y, epochs=1, batch_size=50)
    assert {state["step"] for state in opt.state.values()} == {8}


# --------------------------------------------------------------------- progress


def test_progress_is_quiet_by_default_outside_a_terminal(blobs, capsys):
    small_fit(blobs)
    assert capsys.readouterr().out == ""


def test_progress_true_prints_one_line_per_epoch(blobs, capsys):
    small_fit(blobs, epochs=3, progress=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("epoch 3/3")


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
    ({"batch_size": 201}, ValueError, r"batch_size must be in \[1, N=200\]"),
    ({"epochs": -1}, ValueError, "epochs must be an integer >= 0"),
    ({"max_steps": 0}, ValueError, "max_steps must be an integer >= 1 or None"),
    ({"schedule": 0.1}, TypeError, "schedule must be a callable"),
    ({"drop_last": 1}, TypeError, "drop_last must be True or False"),
    ({"order": 3}, TypeError, "order must be None, a callable"),
    ({"order": [np.arange(3)], "epochs": 2}, ValueError, "epochs must be None or len"),
    ({"X_val": np.ones((3, 2), np.float32)}, ValueError, "X_val and y_val must be given together"),
])
def test_bad_arguments_raise_clear_errors(blobs, kwargs, error, message):
    with pytest.raises(error, match=message):
        small_fit(blobs, **kwargs)


def test_mismatched_data_lengths_raise(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"y must have one entry per row of X \(200\)"):
        fit(MLP([2, 3]), softmax_cross_entropy, SGD(lr=0.1), X, y[:-1])


def test_fit_does_not_warn_on_a_normal_run(blobs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_fit(blobs)


def test_eval_every_records_evaluations_within_an_epoch():
    X, y, _, _ = linear_regression(n=100, d=3, noise=0.1, seed=0)
    model = Linear(3, 1, seed=0, dtype=np.float64)
    h = fit(model, mse, SGD(lr=0.05), X, y, epochs=2, batch_size=10, eval_every=4,
            progress=False)
    # 10 steps per epoch: every 4th step, plus the end of each epoch
    assert list(h.step) == [0, 4, 8, 10, 12, 16, 20]
    assert np.allclose(h.epoch, np.array(h.step) / 10)
    assert np.all(np.diff(h.epoch_time) >= 0)


# ------------------------------------------------------------- order, drop_last


def test_drop_last_skips_the_short_last_batch(blobs):
    _, history = small_fit(blobs, epochs=2, batch_size=64, drop_last=True)
    assert history.steps_per_epoch == 3 and history.n_steps == 6
    assert history.epoch.tolist() == [0, 1, 2]


def test_order_blocks_train_in_exactly_the_given_order():
    X = np.arange(6, dtype=np.float32)[:, None]
    seen = []

    def recording_loss(pred, target):
        seen.append(target[:, 0].astype(int).tolist())
        return mse(pred, target)

    blocks = [np.array([5, 4, 3]), np.array([0, 0])]
    h = fit(Linear(1, 1), recording_loss, SGD(lr=0.0), X, X.copy(), batch_size=2, order=blocks)
    training = [b for b in seen if len(b) <= 2][:3]     # the evaluations see all 6 rows
    assert training == [[5, 4], [3], [0, 0]]
    assert h.step.tolist() == [0, 2, 3] and h.epoch.tolist() == [0, 2 / 3, 1]


def test_order_blocks_are_one_continuous_run(make_blobs):
    X, y = make_blobs(n=60, centers=3, seed=0)
    order = np.random.default_rng(0).permutation(60)
    a, b = MLP([2, 6, 3], seed=0), MLP([2, 6, 3], seed=0)
    fit(a, softmax_cross_entropy, Adam(lr=0.05), X[order], y[order], batch_size=10,
        shuffle=False)
    h = fit(b, softmax_cross_entropy, Adam(lr=0.05), X, y, batch_size=10,
            order=[order[:30], order[30:]])
    np.testing.assert_array_equal(a[0].weight, b[0].weight)
    assert len(h.train_loss) == 3


def test_a_callable_order_gives_each_epoch_its_examples():
    X = np.arange(4, dtype=np.float32)[:, None]
    calls = []

    def order(epoch, rng):
        calls.append(epoch)
        return np.arange(4)[::-1] if epoch == 1 else np.array([1, 1])

    h = fit(Linear(1, 1), mse, SGD(lr=0.0), X, X.copy(), epochs=2, batch_size=2, order=order)
    assert calls == [1, 2] and h.n_steps == 3


@pytest.mark.parametrize("order, message", [
    ([np.array([0, 200])], r"order\[0\] must be a non-empty 1-D integer array of indices in \[0, 200\)"),
    ([np.array([], dtype=int)], r"order\[0\] must be a non-empty"),
    ([], "order must hold at least one index array"),
])
def test_bad_orders_are_named(blobs, order, message):
    with pytest.raises(ValueError, match=message):
        small_fit(blobs, epochs=None, order=order)


# ------------------------------------------------------------------------ evaluate


def test_evaluate_refuses_empty_data_and_bad_batch_sizes(blobs):
    X, y = blobs
    model = MLP([2, 3])
    with pytest.raises(ValueError, match="X must have at least one row"):
        evaluate(model, softmax_cross_entropy, X[:0], y[:0])
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
            evaluate(model, softmax_cross_entropy, X, y, batch_size=bad)
    with pytest.raises(TypeError, match="batch_size must be an integer >= 1"):
        evaluate(model, softmax_cross_entropy, X, y, batch_size=2.5)


def test_gradient_of_the_whole_set_is_the_mean_of_per_example_gradients(make_blobs):
    from optlib.train.loop import gradient
    X, y = make_blobs(n=12, centers=3, seed=0)
    model = MLP([2, 4, 3], seed=0, dtype=np.float64)
    full = gradient(model, softmax_cross_entropy, X, y)
    singles = [gradient(model, softmax_cross_entropy, X[i:i + 1], y[i:i + 1]) for i in range(12)]
    assert np.allclose(full, np.mean(singles, axis=0))
