r"""The training loop every chapter uses: ``fit``, and the ``History`` it returns.

One epoch is one pass over the :math:`N` training examples in mini-batches of
:math:`B`; each mini-batch gives one update

.. math::

    \theta_t = \text{step}\big(\theta_{t-1},\; g_t\big),\qquad
    g_t = \nabla_\theta \frac{1}{|\mathcal B_t|}\sum_{i \in \mathcal B_t} \ell(x_i, y_i;\, \theta_{t-1}),

so ``batch_size=None`` (:math:`B = N`) is batch gradient descent (one update per
epoch), ``batch_size=1`` is stochastic gradient descent (:math:`N` updates per epoch)
and anything in between is mini-batch gradient descent (:math:`\lceil N/B \rceil`
updates per epoch, the last batch smaller when :math:`B` does not divide :math:`N`,
like PyTorch's ``DataLoader(drop_last=False)``).
"""

import math
import sys
import time
import warnings

import numpy as np

from optlib.nn.losses import accuracy

__all__ = ["History", "fit", "evaluate", "gradient"]


class History:
    r"""What happened during ``fit``: per-step and per-epoch records.

    Per step (one entry per update, ``t = 1, 2, ...``):

    * ``loss`` -- the mini-batch loss :math:`L(\theta_{t-1})` on the batch of step
      :math:`t` (noisy for small batches: this is what makes SGD "stochastic");
    * ``lr`` -- the learning rate used by the step;
    * ``time`` -- training seconds elapsed at the end of the step.

    Per epoch (entry 0 is the model before training):

    * ``epoch`` -- epochs completed, a float (a run cut short by ``max_steps`` ends
      with a fractional epoch);
    * ``step`` -- updates taken;
    * ``train_loss``, ``train_acc`` -- on the **whole** training set, computed by a
      forward-only pass in evaluation mode at the end of the epoch (not the running
      mean of the mini-batch losses, which mixes parameters from across the epoch);
    * ``val_loss``, ``val_acc`` -- the same on the validation set (``nan`` without one);
    * ``epoch_time`` -- training seconds at the end of the epoch.

    Accuracies are ``nan`` unless the targets are integer class labels.

    Times count training only: the per-epoch evaluations are excluded, so the clock
    compares optimizers and batch sizes, not bookkeeping.

    Attributes
    ----------
    n_steps : int
        Updates recorded (the length of the per-step arrays).
    diverged : bool
        True if the loss became non-finite; ``diverged_step`` is the step ``t``.
    stop_reason : str or None
        ``"diverged"``, ``"max_steps"``, ``"callback: <Name>"``, or ``None`` when all
        epochs ran.
    steps_per_epoch : int
        :math:`\lceil N/B \rceil`.
    """

    def __init__(self, capacity, steps_per_epoch):
        self._loss = np.empty(capacity)
        self._lr = np.empty(capacity)
        self._time = np.empty(capacity)
        self.n_steps = 0
        self.steps_per_epoch = steps_per_epoch
        self._epochs = {k: [] for k in ("epoch", "step", "train_loss", "train_acc",
                                         "val_loss", "val_acc", "time")}
        self.diverged = False
        self.diverged_step = None
        self.stop_reason = None

    # per step
    @property
    def loss(self):
        """Mini-batch loss of each step, ``ndarray`` of length ``n_steps``."""
        return self._loss[:self.n_steps]

    @property
    def lr(self):
        """Learning rate of each step."""
        return self._lr[:self.n_steps]

    @property
    def time(self):
        """Training seconds elapsed at the end of each step."""
        return self._time[:self.n_steps]

    # per epoch
    def _column(self, name):
        return np.array(self._epochs[name], dtype=np.float64)

    @property
    def epoch(self):
        """Epochs completed at each record (0 = before training)."""
        return self._column("epoch")

    @property
    def step(self):
        """Steps taken at each per-epoch record."""
        return self._column("step").astype(np.int64)

    @property
    def train_loss(self):
        """Loss on the whole training set at each per-epoch record."""
        return self._column("train_loss")

    @property
    def train_acc(self):
        """Accuracy on the whole training set at each per-epoch record."""
        return self._column("train_acc")

    @property
    def val_loss(self):
        """Validation loss at each per-epoch record."""
        return self._column("val_loss")

    @property
    def val_acc(self):
        """Validation accuracy at each per-epoch record."""
        return self._column("val_acc")

    @property
    def epoch_time(self):
        """Training seconds at each per-epoch record."""
        return self._column("time")

    def _record_epoch(self, epoch, step, seconds, train, val):
        for key, value in (("epoch", epoch), ("step", step), ("time", seconds),
                           ("train_loss", train[0]), ("train_acc", train[1]),
                           ("val_loss", val[0]), ("val_acc", val[1])):
            self._epochs[key].append(value)

    def __repr__(self):
        last = {k: v[-1] for k, v in self._epochs.items() if v}
        return (f"History(steps={self.n_steps}, epochs={last.get('epoch', 0):g}, "
                f"train_loss={last.get('train_loss', math.nan):.4g}, "
                f"val_loss={last.get('val_loss', math.nan):.4g}, diverged={self.diverged})")


def evaluate(model, loss_fn, X, y, batch_size=4096):
    """Loss and accuracy of ``model`` on a whole data set, forward passes only.

    The model is put in evaluation mode and back into the mode it was in.

    Parameters
    ----------
    model : ``Module``
        The network.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, a batch mean.
    X, y : ``ndarray``
        Inputs and targets.
    batch_size : int
        Rows per forward pass (bounds the memory, does not change the result).

    Returns
    -------
    loss : float
        The mean loss over all rows.
    acc : float
        The accuracy if ``y`` holds integer labels, else ``nan``.
    """
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    classify = y.dtype.kind in "iu"
    try:
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            out = model.forward(xb)
            total += loss_fn(out, yb)[0] * len(xb)
            if classify:
                correct += accuracy(out, yb) * len(xb)
    finally:
        model.train(was_training)
    n = max(len(X), 1)
    return total / n, (correct / n if classify else math.nan)


def gradient(model, loss_fn, X, y):
    r"""The gradient of the mean loss on ``(X, y)``, as one flat ``float64`` vector.

    With ``X, y`` a mini-batch :math:`\mathcal B` this is the stochastic gradient
    :math:`\frac{1}{|\mathcal B|}\sum_{i\in\mathcal B}\nabla\ell_i(\theta)`; with the
    whole training set it is the full-batch gradient :math:`\nabla L(\theta)`.
    The parameters are not changed.

    Returns
    -------
    ``ndarray``
        The gradients of ``model.parameters()`` concatenated in their order.
    """
    _, dout = loss_fn(model.forward(X), y)
    model.backward(dout, input_grad=False)
    return np.concatenate([g.ravel() for g in model.gradients().values()]).astype(np.float64)


def _check_int(name, value, minimum, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        rule = f"an integer >= {minimum}" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return int(value)


def _check_data(X, y, dtype, what):
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X{what} must be a 2-D ndarray (examples, features), got {np.shape(X)}")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"y{what} must have one entry per row of X{what} ({len(X)}), got {len(y)}")
    if len(X) == 0:
        raise ValueError(f"X{what} must have at least one row")
    # Cast once, up front, to the model's precision: a float64 array would otherwise
    # upcast every step (slower, and no longer what the model's dtype says).
    X = X.astype(dtype, copy=False)
    if y.dtype.kind == "f":
        y = y.astype(dtype, copy=False)
    return X, y


def _in_notebook():
    shell = sys.modules.get("IPython")
    shell = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class _Progress:
    """One compact line per epoch, only for runs that last long enough to need it."""

    def __init__(self, progress, epochs):
        if progress is None:
            interactive = getattr(sys.stdout, "isatty", lambda: False)() or _in_notebook()
            self.mode = "auto" if interactive else "off"
        else:
            self.mode = "on" if progress else "off"
        self.epochs = epochs
        self.start = time.perf_counter()

    def epoch(self, history):
        if self.mode == "off":
            return
        wall = time.perf_counter() - self.start
        if self.mode == "auto" and wall < 3.0:
            return
        e = history._epochs
        line = (f"epoch {e['epoch'][-1]:g}/{self.epochs}  step {e['step'][-1]}  "
                f"loss {e['train_loss'][-1]:.4g}")
        if not math.isnan(e["train_acc"][-1]):
            line += f"  acc {e['train_acc'][-1]:.3f}"
        if not math.isnan(e["val_loss"][-1]):
            line += f"  val_loss {e['val_loss'][-1]:.4g}"
        if not math.isnan(e["val_acc"][-1]):
            line += f"  val_acc {e['val_acc'][-1]:.3f}"
        print(line + f"  {wall:.1f} s", flush=True)


def fit(model, loss_fn, optimizer, X, y, epochs=1, batch_size=32, shuffle=True,
        schedule=None, X_val=None, y_val=None, seed=0, callbacks=(), progress=None,
        max_steps=None, eval_every=None):
    """Train ``model`` by mini-batch gradient descent and record what happens.

    Each step: set ``optimizer.lr = schedule(t)`` if there is a schedule (``t`` =
    steps already taken, so ``schedule(0)`` is the first step's rate); forward;
    ``loss, dout = loss_fn(out, y_batch)``; ``model.backward(dout)``;
    ``optimizer.step(model.parameters(), model.gradients())``.

    If a mini-batch loss is not finite (inf or nan), training stops **before**
    that update with a ``RuntimeWarning`` (not an exception) and
    ``history.diverged = True``; divergence is a result to plot, not a crash.

    Parameters
    ----------
    model : ``Module``
        E.g. ``optlib.nn.MLP(...)``; trained in place.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, e.g. ``optlib.losses.mse`` or
        ``optlib.losses.softmax_cross_entropy``.
    optimizer
        Anything with ``step(params, grads)`` and a writable ``lr``
        (``optlib.optim``).
    X, y : ``ndarray``
        Training inputs ``(N, features)`` and targets (integer labels for
        classification, which also turns on accuracies). ``X`` is cast once to the
        dtype of the model's parameters.
    epochs : int
        Passes over the data (0 only records the initial evaluation).
    batch_size : int or None
        :math:`B`; ``None`` means :math:`B = N` (batch gradient descent), 1 is SGD.
    shuffle : bool
        Draw a new random order of the examples every epoch (from ``seed``), or
        keep the given order.
    schedule : callable, optional
        ``t -> lr``, e.g. from ``optlib.schedules``.
    X_val, y_val : ``ndarray``, optional
        Validation data, evaluated at the end of every epoch.
    seed : int or ``numpy.random.Generator``
        For the shuffling. Two runs with the same seed (and model) are identical.
    callbacks : ``sequence``
        Objects with an optional method ``on_epoch_end(epoch, history, model)``,
        called after each full epoch's record (``epoch`` = 1, 2, ...); returning
        True stops training (early stopping). An optional ``on_train_end(history,
        model)`` is called once at the end (e.g. to restore the best weights).
    progress : bool or None
        ``None`` (default): print one line per epoch only when output goes to a
        terminal or a notebook **and** the run has lasted more than 3 s, so tests and
        scripts stay quiet. ``True``: always; ``False``: never (use it in notebook
        cells whose output ends up on a page).
    max_steps : int, optional
        Stop after this many updates (the last epoch may then be partial).
    eval_every : int, optional
        Also evaluate (and record, at a fractional epoch) every ``eval_every`` steps
        within an epoch, for runs with few epochs but many steps: SGD on a large data
        set takes :math:`N` steps per epoch, and its curve needs more than one point.

    Returns
    -------
    History
        Per-step and per-epoch records; see ``History``.
    """
    params = model.parameters()
    if not params:
        raise ValueError("model has no parameters to train")
    dtype = next(iter(params.values())).dtype
    X, y = _check_data(X, y, dtype, "")
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together")
    if X_val is not None:
        X_val, y_val = _check_data(X_val, y_val, dtype, "_val")
    n = len(X)
    epochs = _check_int("epochs", epochs, 0)
    batch_size = n if batch_size is None else _check_int("batch_size", batch_size, 1)
    if batch_size > n:
        raise ValueError(f"batch_size must be in [1, N={n}] or None (full batch), got {batch_size}")
    max_steps = _check_int("max_steps", max_steps, 1, allow_none=True)
    eval_every = _check_int("eval_every", eval_every, 1, allow_none=True)
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a callable t -> lr or None, got {type(schedule).__name__}")
    if not hasattr(optimizer, "step"):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    callbacks = list(callbacks)
    rng = np.random.default_rng(seed)

    # Batch boundaries are fixed; shuffling changes which examples fall in each.
    batches = [slice(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    steps_per_epoch = len(batches)
    total = epochs * steps_per_epoch if max_steps is None else min(max_steps, epochs * steps_per_epoch)
    history = History(total, steps_per_epoch)
    history._eval_every = eval_every
    show = _Progress(progress, epochs)
    clock = _Clock()

    def record(epoch_value):
        train = evaluate(model, loss_fn, X, y)
        val = evaluate(model, loss_fn, X_val, y_val) if X_val is not None else (math.nan, math.nan)
        history._record_epoch(epoch_value, history.n_steps, clock.seconds, train, val)

    # Overflow on the way to divergence is expected and reported once, by our own
    # warning; NumPy's per-operation warnings would only bury it.
    with np.errstate(over="ignore", invalid="ignore"):
        record(0.0)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n) if shuffle else None
            clock.resume()
            _run_epoch(model, loss_fn, optimizer, X, y, order, batches, schedule, history,
                       total, clock, eval_every and (lambda t: record(t / steps_per_epoch)))
            clock.pause()
            if history.diverged:
                warnings.warn(
                    f"fit: the loss became {history.loss[-1]} at step {history.diverged_step} "
                    f"(epoch {epoch}); stopped training. The learning rate "
                    f"({history.lr[-1]:g}) is probably too large.", RuntimeWarning, stacklevel=2)
                break
            partial = history.n_steps < epoch * steps_per_epoch
            record(history.n_steps / steps_per_epoch if partial else float(epoch))
            show.epoch(history)
            if partial or (history.n_steps == total and epoch < epochs):
                history.stop_reason = "max_steps"
                break
            # Every callback sees every epoch; any one of them can ask to stop.
            stopped_by = [type(cb).__name__ for cb in callbacks
                          if hasattr(cb, "on_epoch_end") and cb.on_epoch_end(epoch, history, model)]
            if stopped_by:
                history.stop_reason = "callback: " + ", ".join(stopped_by)
                break
    for callback in callbacks:
        if hasattr(callback, "on_train_end"):
            callback.on_train_end(history, model)
    return history


class _Clock:
    """Training seconds: runs during the steps, paused during evaluations."""

    def __init__(self):
        self.seconds, self._start = 0.0, None

    def resume(self):
        self._start = time.perf_counter()

    def pause(self):
        self.seconds = self.now()

    def now(self):
        return self.seconds + (time.perf_counter() - self._start)


def _run_epoch(model, loss_fn, optimizer, X, y, order, batches, schedule, history, total, clock,
               record=None):
    """One pass over the batches; stops early at ``total`` steps or a non-finite loss.

    ``record(t)``, if given, evaluates after every ``eval_every``-th step (but not after
    the epoch's last step, which ``fit`` records itself), with the clock paused.
    """
    eval_every = record and history._eval_every
    # Fetched once: backward writes into the same gradient arrays every step and the
    # optimizer updates the parameter arrays in place, so the dicts stay valid.
    params, grads = model.parameters(), model.gradients()
    t = history.n_steps
    for batch in batches:
        if t == total:
            break
        if order is None:
            xb, yb = X[batch], y[batch]
        else:
            idx = order[batch]
            xb, yb = X[idx], y[idx]
        if schedule is not None:
            optimizer.lr = schedule(t)            # t = steps already taken
        loss, dout = loss_fn(model.forward(xb), yb)
        history._loss[t] = loss
        history._lr[t] = optimizer.lr
        if not math.isfinite(loss):               # stop before an update with a bad gradient
            history._time[t] = clock.now()
            history.n_steps = t + 1
            history.diverged, history.diverged_step = True, t + 1
            history.stop_reason = "diverged"
            return
        model.backward(dout, input_grad=False)    # the data need no gradient
        optimizer.step(params, grads)
        history._time[t] = clock.now()
        t += 1
        history.n_steps = t
        if record and t % eval_every == 0 and t % history.steps_per_epoch and t != total:
            clock.pause()
            record(t)
            clock.resume()
