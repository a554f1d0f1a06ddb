"""Specification of ReduceLROnPlateau (torch's semantics) and the StepOnMetric callback.

Each trace below is derived by hand from the rule in the docstring: a metric improves
on the best b if m < b(1 - threshold) ("rel") or m < b - threshold ("abs"); otherwise
it is a bad epoch; the rate is multiplied by ``factor`` when the bad epochs exceed
``patience``; bad epochs in a cooldown are not counted.
"""

import inspect
import math

import numpy as np
import pytest

import optlib
from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD
from optlib.optim.lr_scheduler import ReduceLROnPlateau
from optlib.train.callbacks import StepOnMetric


def trace(metrics, lr=1.0, **kwargs):
    """The optimizer's rate after each ``step(metric)``."""
    opt = SGD(lr=lr)
    scheduler = ReduceLROnPlateau(opt, **kwargs)
    return [scheduler.step(m) for m in metrics]


def test_defaults_are_torchs():
    defaults = {k: p.default for k, p in inspect.signature(ReduceLROnPlateau).parameters.items()
                if k != "optimizer"}
    assert defaults == dict(mode="min", factor=0.1, patience=10, threshold=1e-4,
                            threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8)


def test_the_rate_falls_at_the_first_epoch_beyond_patience_and_again_after_patience_more():
    # best = 1 at epoch 1; epochs 2, 3, 4 are bad; 3 > patience=2 -> reduce; count restarts.
    assert trace([1.0] * 7, patience=2, factor=0.5) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def test_default_patience_tolerates_ten_bad_epochs():
    lrs = trace([1.0] * 12)
    assert lrs[:11] == [1.0] * 11 and lrs[11] == pytest.approx(0.1)


def test_an_improvement_resets_the_count_of_bad_epochs():
    # 5 (best), 6 (bad 1), 4 (best, 0), 6 (bad 1), 6 (bad 2 > 1: reduce)
    assert trace([5, 6, 4, 6, 6], patience=1) == [1, 1, 1, 1, pytest.approx(0.1)]


def test_cooldown_ignores_bad_epochs_after_a_reduction():
    # patience 0: every bad epoch outside a cooldown reduces; cooldown 2 skips two epochs.
    lrs = trace([1.0] * 8, patience=0, cooldown=2)
    assert lrs == pytest.approx([1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001])


def test_relative_threshold_needs_a_fraction_of_the_best_and_absolute_an_amount():
    # best 10, threshold 0.5: "rel" needs m < 5, "abs" needs m < 9.5; 9 is only the latter.
    assert trace([10, 9], patience=0, threshold=0.5, threshold_mode="rel") == [1, pytest.approx(0.1)]
    assert trace([10, 9], patience=0, threshold=0.5, threshold_mode="abs") == [1, 1]


def test_a_change_within_the_default_threshold_is_not_an_improvement():
    # 1 - 1e-5 is not below 1 * (1 - 1e-4).
    assert trace([1.0, 1 - 1e-5], patience=0)[-1] == pytest.approx(0.1)


def test_max_mode_wants_the_metric_to_rise():
    assert trace([0.5, 0.6, 0.6], mode="max", patience=0) == [1, 1, pytest.approx(0.1)]
    assert trace([0.5, 0.5 * (1 + 1e-4) + 1e-9], mode="max", patience=0) == [1, 1]


def test_relative_threshold_with_a_negative_best_accepts_a_worse_value_as_torch_does():
    # best -10: b(1 - 0.1) = -9, and -9.5 < -9 counts as an improvement (torch's quirk).
    opt = SGD(lr=1.0)
    scheduler = ReduceLROnPlateau(opt, patience=0, threshold=0.1)
    scheduler.step(-10.0)
    scheduler.step(-9.5)
    assert scheduler.best == -9.5 and opt.lr == 1.0


def test_the_rate_never_falls_below_min_lr():
    assert trace([1.0] * 5, patience=0, min_lr=0.05) == pytest.approx([1, 0.1, 0.05, 0.05, 0.05])


def test_a_reduction_smaller_than_eps_is_skipped_but_the_count_restarts():
    opt = SGD(lr=1e-8)
    scheduler = ReduceLROnPlateau(opt, patience=0)
    scheduler.step(1.0)
    scheduler.step(1.0)              # 1e-8 -> 1e-9 would change the rate by 9e-9 < eps = 1e-8
    assert opt.lr == 1e-8 and scheduler.num_bad_epochs == 0
    assert trace([1.0, 1.0], lr=1e-8, patience=0, eps=1e-9)[-1] == pytest.approx(1e-9)


def test_a_nan_metric_is_a_bad_epoch():
    assert trace([1.0, math.nan], patience=0)[-1] == pytest.approx(0.1)


def test_the_scheduler_writes_the_optimizers_lr_and_counts_steps():
    opt = SGD(lr=0.3)
    scheduler = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    scheduler.step(2.0)
    scheduler.step(3.0)
    assert opt.lr == scheduler.last_lr == 0.15
    assert scheduler.last_epoch == 2 and scheduler.best == 2.0


def test_state_dict_round_trip_resumes_the_count():
    first = ReduceLROnPlateau(SGD(lr=1.0), patience=2)
    for m in (1.0, 1.0, 1.0):
        first.step(m)
    opt = SGD(lr=1.0)
    resumed = ReduceLROnPlateau(opt, patience=2)
    resumed.load_state_dict(first.state_dict())
    resumed.step(1.0)                                   # the third bad epoch
    assert opt.lr == pytest.approx(0.1)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"factor must be a number in \[0, 1\)"):
        ReduceLROnPlateau(SGD(lr=1.0), factor=1.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        ReduceLROnPlateau(SGD(lr=1.0), mode="mean")
    with pytest.raises(ValueError, match="threshold_mode must be one of"):
        ReduceLROnPlateau(SGD(lr=1.0), threshold_mode="relative")
    with pytest.raises(ValueError, match="patience must be an integer >= 0"):
        ReduceLROnPlateau(SGD(lr=1.0), patience=-1)
    with pytest.raises(TypeError, match="optimizer must have an lr attribute"):
        ReduceLROnPlateau(object())
    with pytest.raises(TypeError, match="metric must be a real number"):
        ReduceLROnPlateau(SGD(lr=1.0)).step("0.5")
    with pytest.raises(ValueError, match=r"state lacks \['best'"):
        ReduceLROnPlateau(SGD(lr=1.0)).load_state_dict({})


# ------------------------------------------------------------------- with optlib.fit


class Recorder:
    def __init__(self):
        self.metrics = []

    def step(self, metric):
        self.metrics.append(metric)


def test_step_on_metric_feeds_the_monitored_column_after_every_epoch(make_blobs):
    X, y = make_blobs()
    recorder = Recorder()
    history = optlib.fit(MLP([2, 8, 3], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y,
                         epochs=3, X_val=X[:50], y_val=y[:50], progress=False,
                         callbacks=[StepOnMetric(recorder)])
    assert recorder.metrics == list(history.val_loss[1:])


def test_reduce_on_plateau_in_fit_changes_the_rate_from_the_next_epoch(make_blobs):
    # mode="max" on a falling training loss: every epoch after the first is "bad", so with
    # patience 0 the rate is divided by 10 after epochs 2, 3, ...
    X, y = make_blobs()
    opt = SGD(lr=0.1)
    plateau = ReduceLROnPlateau(opt, mode="max", patience=0)
    history = optlib.fit(MLP([2, 8, 3], seed=0), softmax_cross_entropy, opt, X, y, epochs=4,
                         batch_size=100, progress=False,
                         callbacks=[StepOnMetric(plateau, monitor="train_loss")])
    assert np.all(np.diff(history.train_loss) < 0)
    np.testing.assert_allclose(history.lr, [0.1] * 6 + [0.01] * 3 + [0.001] * 3)


def test_step_on_metric_without_validation_data_is_a_clear_error(make_blobs):
    X, y = make_blobs()
    with pytest.raises(ValueError, match="pass X_val and y_val"):
        optlib.fit(MLP([2, 3], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=1,
                   progress=False, callbacks=[StepOnMetric(Recorder())])


def test_step_on_metric_refuses_a_scheduler_without_step_and_unknown_columns():
    with pytest.raises(TypeError, match=r"scheduler must have a step\(metric\) method"):
        StepOnMetric(object())
    with pytest.raises(ValueError, match="monitor must be one of"):
        StepOnMetric(Recorder(), monitor="loss")
