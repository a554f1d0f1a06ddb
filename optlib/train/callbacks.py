r"""Callbacks for ``optlib.fit``: early stopping, extra evaluations, dead ReLUs,
a scheduler stepped on a metric (``StepOnMetric``, for ``ReduceLROnPlateau``).

A callback is any object with any of the optional methods
``on_step(step, loss, history, model)`` (after every update),
``on_epoch_end(epoch, history, model)`` (after each epoch's record) and
``on_train_end(history, model)`` (once at the end); ``on_step`` and ``on_epoch_end``
stop training by returning a true value (see ``optlib.train.loop``). The range
test's stopping rule, ``optlib.train.lr_finder.StopOnRise``, is one too.

``dead_relu_fraction`` runs a batch through a ``Sequential`` layer by layer and
counts the ReLU units that output 0 for **every** example: they pass no gradient,
and plain SGD can never revive them. ``DeadReLUs`` records it after every epoch.

Early stopping (Prechelt 1998, "Early stopping -- but when?", in *Neural Networks:
Tricks of the Trade*) watches a validation score and stops when it has not improved
for ``patience`` epochs; with ``restore_best`` the model gets back the weights of
its best epoch. The rule is the one of ``keras.callbacks.EarlyStopping``: epoch
:math:`e` improves on the best value so far, :math:`b`, if

.. math::

    L_\text{val}(e) < b - \delta \quad\text{(a loss)},\qquad
    \text{or}\quad A_\text{val}(e) > b + \delta \quad\text{(an accuracy)},

with ``min_delta`` :math:`\delta \ge 0`, and training stops at the first epoch that
is ``patience`` epochs after the last improvement.
"""

from __future__ import annotations

import math

import numpy as np

from optlib import checks
from optlib.nn import ReLU, Sequential
from optlib.train.loop import evaluate

__all__ = ["EarlyStopping", "stopping_point", "Evaluate", "dead_relu_fraction", "DeadReLUs",
           "StepOnMetric"]

_MONITORS = ("val_loss", "val_acc", "train_loss", "train_acc")


class EarlyStopping:
    r"""Stop ``fit`` when a monitored score stops improving; optionally restore the best weights.

    Parameters
    ----------
    patience : int
        Epochs without improvement after which training stops, >= 1.
    min_delta : float
        Smallest change that counts as an improvement, >= 0.
    restore_best : bool
        At the end of training, load the weights of the best epoch into the model
        (also when training ran all its epochs without stopping).
    monitor : str
        ``"val_loss"`` (default), ``"val_acc"``, ``"train_loss"`` or ``"train_acc"``:
        the per-epoch column of ``History`` to watch. Accuracies are maximized,
        losses minimized.

    Attributes
    ----------
    best : float
        Best monitored value so far.
    best_epoch : int
        Epoch (1, 2, ...) of ``best``; 0 before the first epoch.
    stopped_epoch : int or None
        Epoch at which this callback stopped training, or None.
    wait : int
        Epochs since the last improvement.

    Examples
    --------
    ``stop = EarlyStopping(patience=10)``;
    ``fit(model, loss, opt, X, y, epochs=200, X_val=Xv, y_val=yv, callbacks=[stop])``;
    then ``stop.best_epoch``.
    """

    def __init__(self, patience=5, min_delta=0.0, restore_best=True, monitor="val_loss"):
        self.patience = checks.integer("patience", patience, low=1)
        self.min_delta = checks.real("min_delta", min_delta, low=0)
        checks.one_of("monitor", monitor, _MONITORS)
        self.restore_best = checks.boolean("restore_best", restore_best)
        self.monitor = monitor
        self.mode = "max" if monitor.endswith("acc") else "min"
        self.reset()

    def reset(self):
        """Forget everything seen so far (``fit`` does not call it: use one callback per run)."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = None
        self.best_state = None
        self._epochs_seen = 0

    def improved(self, value):
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def update(self, value):
        """Feed the next epoch's monitored value; return True when training should stop.

        This is the whole rule: ``on_epoch_end`` calls it, and ``stopping_point``
        replays it on a recorded curve.
        """
        self._epochs_seen += 1
        if self.improved(value):
            self.best, self.best_epoch, self.wait = float(value), self._epochs_seen, 0
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_epoch_end(self, epoch, history, model):
        """Read the monitored column of ``history``, keep the best weights, decide."""
        value = float(getattr(history, self.monitor)[-1])
        if math.isnan(value) and self.monitor.startswith("val"):
            raise ValueError(f"EarlyStopping monitors {self.monitor!r} but the history has no "
                             "validation data: pass X_val and y_val to fit")
        stop = self.update(value)
        if self.best_epoch == self._epochs_seen and self.restore_best:
            self.best_state = model.state_dict()           # a copy of the weights
        if stop:
            self.stopped_epoch = epoch
        return stop

    def on_train_end(self, history, model):
        """Load the best epoch's weights into ``model`` if ``restore_best``."""
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"restore_best={self.restore_best}, monitor={self.monitor!r})")


def stopping_point(values, patience, min_delta=0.0, mode="min"):
    r"""Where ``EarlyStopping`` would stop on a recorded curve, without training again.

    Replays the rule of ``EarlyStopping.update`` on the values of epochs
    1, 2, ..., E. Recording one long run and replaying it for many patiences costs
    one run instead of one per patience.

    Parameters
    ----------
    values : ``array_like``
        The monitored value after each epoch, ``values[0]`` after epoch 1.
    patience : int
        As in ``EarlyStopping``.
    min_delta : float
        As in ``EarlyStopping``.
    mode : str
        ``"min"`` for a loss, ``"max"`` for an accuracy.

    Returns
    -------
    stop_epoch : int
        Epoch at which training stops (E if the patience never runs out).
    best_epoch : int
        Epoch whose weights ``restore_best`` would restore.
    """
    checks.one_of("mode", mode, ("min", "max"))
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {values.shape}")
    rule = EarlyStopping(patience=patience, min_delta=min_delta,
                         monitor="val_loss" if mode == "min" else "val_acc")
    for epoch, value in enumerate(values, start=1):
        if rule.update(value):
            return epoch, rule.best_epoch
    return len(values), rule.best_epoch


class Evaluate:
    """Evaluate the model on extra data (e.g. a test set) at the end of every epoch.

    ``fit`` only tracks the training and validation sets; this callback adds a third,
    so that a choice made on the validation set can be judged on untouched data.

    Parameters
    ----------
    X, y : ``ndarray``
        The data.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, as for ``fit``.

    Attributes
    ----------
    loss, acc : list of float
        One entry per epoch (epoch 1 first); ``acc`` is ``nan`` for non-integer ``y``.
    """

    def __init__(self, X, y, loss_fn):
        if len(X) != len(y):
            raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
        self.X, self.y, self.loss_fn = X, y, loss_fn
        self.loss, self.acc = [], []

    def on_epoch_end(self, epoch, history, model):
        """Record the loss and accuracy; never stops training."""
        loss, acc = evaluate(model, self.loss_fn, self.X, self.y)
        self.loss.append(loss)
        self.acc.append(acc)
        return False


def dead_relu_fraction(model, X):
    """Fraction of the units of each ReLU layer that are zero for every row of ``X``.

    Parameters
    ----------
    model : ``Sequential``
        E.g. ``optlib.nn.MLP``; run in evaluation mode (and put back).
    X : ``ndarray``
        A batch of inputs, ``(B, features)``; the more rows, the surer the verdict.

    Returns
    -------
    dict
        Layer index (position in the ``Sequential``) -> fraction in :math:`[0, 1]`.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (e.g. an MLP), got {type(model).__name__}")
    was_training = model.training
    model.eval()
    out = {}
    try:
        h = np.asarray(X)
        for i, layer in enumerate(model.layers):
            h = layer.forward(h)
            if isinstance(layer, ReLU):
                out[i] = float(np.mean(~np.any(h > 0, axis=0)))
    finally:
        model.train(was_training)
    return out


class DeadReLUs:
    """A ``fit`` callback: ``dead_relu_fraction(model, X)`` after every epoch.

    Parameters
    ----------
    X : ``ndarray``
        The inputs to probe with (e.g. 1,000 training examples).

    Attributes
    ----------
    fractions : list of dict
        One ``dead_relu_fraction`` result per epoch.
    """

    def __init__(self, X):
        self.X = X
        self.fractions = []

    def on_epoch_end(self, epoch, history, model):
        """Record the fractions; never stops training."""
        self.fractions.append(dead_relu_fraction(model, self.X))
        return False


class StepOnMetric:
    """A ``fit`` callback: ``scheduler.step(metric)`` after every epoch, e.g. for ``ReduceLROnPlateau``.

    After each epoch's record it reads the last value of the ``monitor`` column of
    ``History`` and passes it to ``scheduler.step``, as a torch training loop calls
    ``scheduler.step(val_loss)`` at the end of an epoch. The new rate applies from the
    next epoch's first step (``History.lr`` shows it).

    Parameters
    ----------
    scheduler : ``object``
        Anything with ``step(metric)``, e.g.
        ``optlib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5)``.
    monitor : str
        ``"val_loss"`` (default), ``"val_acc"``, ``"train_loss"`` or ``"train_acc"``;
        the scheduler's ``mode`` must match (``"max"`` for an accuracy).

    Examples
    --------
    ``fit(model, loss, opt, X, y, epochs=100, X_val=Xv, y_val=yv,
    callbacks=[StepOnMetric(ReduceLROnPlateau(opt, factor=0.5, patience=5))])``
    """

    def __init__(self, scheduler, monitor="val_loss"):
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must have a step(metric) method, got {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.monitor = checks.one_of("monitor", monitor, _MONITORS)

    def on_epoch_end(self, epoch, history, model):
        """Step the scheduler with the monitored value; never stops training."""
        value = float(getattr(history, self.monitor)[-1])
        if math.isnan(value) and self.monitor.startswith("val"):
            raise ValueError(f"StepOnMetric monitors {self.monitor!r} but the history has no "
                             "validation data: pass X_val and y_val to fit")
        self.scheduler.step(value)
        return False

    def __repr__(self):
        return f"StepOnMetric({self.scheduler!r}, monitor={self.monitor!r})"
