r"""Callbacks for ``optlib.fit``: early stopping, and recording extra evaluations.

A callback is any object with an optional ``on_epoch_end(epoch, history, model)``,
called after each epoch's record (returning True stops training), and an optional
``on_train_end(history, model)``, called once at the end (see ``optlib.train.fit``).

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
import numbers

import numpy as np

from optlib.train.loop import evaluate

__all__ = ["EarlyStopping", "stopping_point", "Evaluate"]

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
        if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) \
                or not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if monitor not in _MONITORS:
            raise ValueError(f"monitor must be one of {_MONITORS}, got {monitor!r}")
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.restore_best = bool(restore_best)
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
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
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
