"""Specification of optlib.train.callbacks: early stopping with patience, extra evaluations, dead ReLUs."""

import numpy as np
import pytest

from optlib.nn import MLP, Linear
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD
from optlib.train.callbacks import (
    DeadReLUs,
    EarlyStopping,
    Evaluate,
    dead_relu_fraction,
    stopping_point,
)
from optlib.train.loop import evaluate, fit

CURVE = [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.95, 0.6, 1.0]   # best at epoch 3, then 9


class FakeHistory:
    """Just the per-epoch column EarlyStopping reads."""

    def __init__(self):
        self.val_loss = []


class FakeModel:
    def __init__(self):
        self.w = np.zeros(1)

    def state_dict(self):
        return {"w": self.w.copy()}

    def load_state_dict(self, state):
        self.w[:] = state["w"]


def feed(callback, values):
    """Drive the callback like fit does; return the epoch at which it stopped (or None)."""
    history, model = FakeHistory(), FakeModel()
    for epoch, v in enumerate(values, start=1):
        history.val_loss.append(v)
        model.w[:] = epoch                       # the weights "are" the epoch number
        if callback.on_epoch_end(epoch, history, model):
            break
    callback.on_train_end(history, model)
    return callback.stopped_epoch, model


def test_stops_patience_epochs_after_the_last_improvement():
    stop, _ = feed(EarlyStopping(patience=3), CURVE)
    assert stop == 6                                  # best at 3; 4, 5, 6 do not improve


def test_larger_patience_waits_for_a_later_improvement():
    stop, _ = feed(EarlyStopping(patience=6), CURVE)
    assert stop is None                               # epoch 9 improves; 10 is the last epoch


def test_restore_best_loads_the_weights_of_the_best_epoch():
    cb = EarlyStopping(patience=3, restore_best=True)
    _, model = feed(cb, CURVE)
    assert cb.best_epoch == 3 and cb.best == 0.7
    assert model.w[0] == 3


def test_best_weights_are_restored_even_when_patience_never_runs_out():
    _, model = feed(EarlyStopping(patience=20), CURVE)
    assert model.w[0] == 9


def test_without_restore_the_last_weights_stay():
    _, model = feed(EarlyStopping(patience=3, restore_best=False), CURVE)
    assert model.w[0] == 6


def test_min_delta_ignores_improvements_that_are_too_small():
    values = [1.0, 0.99, 0.98, 0.97, 0.96]
    assert feed(EarlyStopping(patience=2, min_delta=0.05), values)[0] == 3
    assert feed(EarlyStopping(patience=2, min_delta=0.0), values)[0] is None


def test_accuracy_is_maximized():
    cb = EarlyStopping(patience=2, monitor="val_acc")
    assert [cb.update(a) for a in (0.5, 0.6, 0.55, 0.58)] == [False, False, False, True]
    assert cb.best == 0.6 and cb.best_epoch == 2


def test_stopping_point_replays_the_callback_on_a_recorded_curve():
    for patience in range(1, 9):
        stop, best = stopping_point(CURVE, patience)
        cb = EarlyStopping(patience=patience)
        stopped, _ = feed(cb, CURVE)
        assert stop == (stopped or len(CURVE)) and best == cb.best_epoch


def test_stopping_point_in_max_mode():
    assert stopping_point([0.1, 0.5, 0.4, 0.3], patience=2, mode="max") == (4, 2)


def test_in_fit_it_stops_and_restores_the_best_validation_loss(make_blobs):
    X, y = make_blobs(n=60, centers=3, std=1.5, seed=0)
    Xv, yv = make_blobs(n=200, centers=3, std=1.5, seed=1)
    model = MLP([2, 64, 64, 3], seed=0)
    stop = EarlyStopping(patience=3)
    h = fit(model, softmax_cross_entropy, SGD(lr=0.1, momentum=0.9), X, y, epochs=300,
            batch_size=10, X_val=Xv, y_val=yv, callbacks=[stop], progress=False)
    assert h.stop_reason == "callback: EarlyStopping"
    assert stop.stopped_epoch == stop.best_epoch + 3 == h.epoch[-1]
    restored = evaluate(model, softmax_cross_entropy, Xv, yv)[0]
    assert restored == pytest.approx(h.val_loss[1:].min())
    assert restored == pytest.approx(h.val_loss[stop.best_epoch])


def test_monitoring_validation_without_validation_data_is_an_error(make_blobs):
    X, y = make_blobs(n=30, centers=3, seed=0)
    with pytest.raises(ValueError, match="pass X_val and y_val"):
        fit(MLP([2, 4, 3]), softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=2, batch_size=10,
            callbacks=[EarlyStopping()], progress=False)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(patience=0), ValueError, "patience must be an integer >= 1"),
    (dict(patience=2.5), TypeError, "patience must be an integer >= 1"),
    (dict(min_delta=-0.1), ValueError, "min_delta must be a finite number >= 0"),
    (dict(monitor="loss"), ValueError, "monitor must be one of"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        EarlyStopping(**kwargs)


def test_evaluate_records_one_loss_per_epoch_on_extra_data(make_blobs):
    X, y = make_blobs(n=60, centers=3, seed=0)
    Xt, yt = make_blobs(n=90, centers=3, seed=2)
    model = MLP([2, 8, 3], seed=0)
    extra = Evaluate(Xt, yt, softmax_cross_entropy)
    fit(model, softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=4, callbacks=[extra], progress=False)
    assert len(extra.loss) == len(extra.acc) == 4
    assert extra.loss[-1] == pytest.approx(evaluate(model, softmax_cross_entropy, Xt, yt)[0])


# --------------------------------------------------------------------------- dead ReLUs


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


def test_a_huge_learning_rate_kills_relus_and_the_callback_sees_it(make_blobs):
    X, y = make_blobs(n=300, centers=3, seed=0)
    dead = DeadReLUs(X)
    fit(MLP([2, 32, 32, 3], seed=0), softmax_cross_entropy, SGD(lr=50.0), X, y, epochs=2,
        batch_size=30, callbacks=[dead], progress=False)
    assert len(dead.fractions) == 2
    assert max(dead.fractions[-1].values()) > 0.5
