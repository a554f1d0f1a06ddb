r"""The training loop of the course: ``fit``, and the ``History`` it returns.

Every experiment that trains a network goes through ``fit``: plain training, the
optimizer race of chapter 6, training in a fixed order or with a curriculum
(chapter 7, via ``order=``), early stopping (chapter 9, a callback) and the
learning-rate range test (chapter 10, a schedule plus a callback).

One epoch is one pass over the :math:`N` training examples in mini-batches of
:math:`B`; each mini-batch gives one update

.. math::

    \theta_t = \text{step}\big(\theta_{t-1},\; g_t\big),\qquad
    g_t = \nabla_\theta \frac{1}{|\mathcal B_t|}\sum_{i \in \mathcal B_t} \ell(x_i, y_i;\, \theta_{t-1}),

so ``batch_size=None`` (:math:`B = N`) is batch gradient descent (one update per
epoch), ``batch_size=1`` is stochastic gradient descent (:math:`N` updates per epoch)
and anything in between is mini-batch gradient descent (:math:`\lceil N/B \rceil`
updates per epoch, the last batch smaller when :math:`B` does not divide :math:`N`,
like PyTorch's ``DataLoader(drop_last=False)``; with ``drop_last=True``,
:math:`\lfloor N/B \rfloor` full batches).

**Divergence** (the one rule, for every experiment): when a mini-batch loss is not
finite (``inf`` or ``nan``), ``fit`` records it and stops *before* that update;
``History.diverged`` is then True and ``History.diverged_at`` is the step. No warning
and no exception: divergence is a result to plot. Data that contain ``nan`` or
``inf`` are refused up front (they are a bug in the data, not a divergence).

**Hooks**: a callback is any object with any of these optional methods:

* ``on_step(step, loss, history, model)`` after every update (``step`` = 1, 2, ...);
* ``on_epoch_end(epoch, history, model)`` after each epoch's record;
* ``on_train_end(history, model)`` once at the end.

``on_step`` and ``on_epoch_end`` stop training by returning a true value (``True``
or ``"stop"``); ``History.stop_reason`` then names the callback.
"""

import math
import sys
import time

import numpy as np

from optlib import checks
from optlib.nn.losses import accuracy
from optlib.optim.lr_scheduler import LRScheduler

__all__ = ["History", "fit", "evaluate", "gradient"]


class History:
    r"""What happened during ``fit``: per-step and per-epoch records.

    Per step (one entry per update, ``t = 1, 2, ...``):

    * ``loss`` -- the mini-batch loss :math:`L(\theta_{t-1})` on the batch of step
      :math:`t` (noisy for small batches: this is what makes SGD "stochastic");
    * ``lr`` -- the learning rate used by the step;
    * ``time`` -- training seconds elapsed at the end of the step.

    Per epoch (entry 0 is the model before training):

    * ``epoch`` -- updates taken divided by ``steps_per_epoch``, a float: whole
      numbers at the ends of ordinary epochs, fractions for a run cut short by
      ``max_steps`` or a callback, for ``eval_every`` records, and for the blocks of
      ``order=`` (an "epoch" is then a budget of :math:`\lceil N/B \rceil` updates);
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
    diverged : bool
        True if a mini-batch loss was not finite.
    diverged_at : int or None
        The step :math:`t` whose loss was not finite (its update was not taken); the
        last entry of ``loss``.
    stop_reason : str or None
        ``"diverged"``, ``"max_steps"``, ``"callback: <Name>"``, or ``None`` when all
        epochs ran.
    steps_per_epoch : int
        :math:`\lceil N/B \rceil` (:math:`\lfloor N/B \rfloor` with ``drop_last``).
    """

    def __init__(self, steps_per_epoch):
        self._loss, self._lr, self._time = [], [], []
        self.steps_per_epoch = steps_per_epoch
        self._epochs = {k: [] for k in ("epoch", "step", "train_loss", "train_acc",
                                         "val_loss", "val_acc", "time")}
        self.diverged = False
        self.diverged_at = None
        self.stop_reason = None

    @property
    def n_steps(self):
        """Updates recorded."""
        return len(self._loss)

    # per step
    @property
    def loss(self):
        """Mini-batch loss of each step, ``ndarray`` of length ``n_steps``."""
        return np.array(self._loss, dtype=np.float64)

    @property
    def lr(self):
        """Learning rate of each step."""
        return np.array(self._lr, dtype=np.float64)

    @property
    def time(self):
        """Training seconds elapsed at the end of each step."""
        return np.array(self._time, dtype=np.float64)

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

    def _record_epoch(self, seconds, train, val):
        step = self.n_steps
        for key, value in (("epoch", step / self.steps_per_epoch), ("step", step),
                           ("time", seconds), ("train_loss", train[0]), ("train_acc", train[1]),
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
        Inputs and targets, at least one row.
    batch_size : int
        Rows per forward pass, >= 1 (bounds the memory, does not change the result).

    Returns
    -------
    loss : float
        The mean loss over all rows.
    acc : float
        The accuracy if ``y`` holds integer labels, else ``nan``.
    """
    batch_size = checks.integer("batch_size", batch_size, low=1)
    if len(X) == 0:
        raise ValueError("X must have at least one row: the loss of no examples is undefined")
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    classify = np.asarray(y).dtype.kind in "iu"
    try:
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            out = model.forward(xb)
            total += loss_fn(out, yb)[0] * len(xb)
            if classify:
                correct += accuracy(out, yb) * len(xb)
    finally:
        model.train(was_training)
    n = len(X)
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


def _check_data(X, y, dtype, what):
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(f"X{what} must be a 2-D ndarray (examples, features), got {np.shape(X)}")
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"y{what} must have one entry per row of X{what} ({len(X)}), got {len(y)}")
    if len(X) == 0:
        raise ValueError(f"X{what} must have at least one row")
    for name, a in ((f"X{what}", X), (f"y{what}", y)):
        if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            bad = int(np.count_nonzero(~np.isfinite(a)))
            raise ValueError(f"{name} contains {bad} nan or inf value(s): the data must be "
                             "finite (fit cannot train on them; clean or impute the data)")
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


def _epoch_orders(order, epochs, n, shuffle, rng):
    """``(epochs, orders)``: how many epochs, and a function epoch -> index array or None."""
    if order is None:
        epochs = 1 if epochs is None else checks.integer("epochs", epochs, low=0)
        return epochs, (lambda epoch: rng.permutation(n)) if shuffle else (lambda epoch: None)
    if callable(order):
        epochs = 1 if epochs is None else checks.integer("epochs", epochs, low=0)

        def orders(epoch):
            return _check_indices(f"order({epoch}, rng)", order(epoch, rng), n)
        return epochs, orders
    if isinstance(order, (str, bytes)) or not hasattr(order, "__len__"):
        raise TypeError("order must be None, a callable (epoch, rng) -> indices, or a "
                        f"sequence of index arrays (one per epoch), got {type(order).__name__}")
    blocks = [_check_indices(f"order[{i}]", b, n) for i, b in enumerate(order)]
    if not blocks:
        raise ValueError("order must hold at least one index array")
    if epochs is not None and checks.integer("epochs", epochs, low=0) != len(blocks):
        raise ValueError(f"epochs must be None or len(order)={len(blocks)} when order is a "
                         f"sequence, got {epochs!r}")
    return len(blocks), (lambda epoch: blocks[epoch - 1])


def _check_indices(name, indices, n):
    indices = np.asarray(indices)
    if indices.ndim != 1 or len(indices) == 0 or indices.dtype.kind not in "iu" \
            or indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"{name} must be a non-empty 1-D integer array of indices in [0, {n})")
    return indices


def fit(model, loss_fn, optimizer, X, y, epochs=None, batch_size=32, shuffle=True,
        schedule=None, X_val=None, y_val=None, seed=0, callbacks=(), progress=None,
        max_steps=None, eval_every=None, drop_last=False, order=None):
    """Train ``model`` by mini-batch gradient descent and record what happens.

    Each step: forward; ``loss, dout = loss_fn(out, y_batch)``; if the loss is not
    finite, stop (see *Divergence* in the module docstring); ``model.backward(dout)``;
    ``optimizer.step(model.parameters(), model.gradients())``; then the
    ``on_step`` hooks. A ``schedule`` sets ``optimizer.lr`` through
    ``optlib.optim.lr_scheduler.LRScheduler``: ``schedule(t)`` is the rate of the
    step taken after ``t`` steps, so ``schedule(0)`` is the first step's (and
    ``schedule`` is never called beyond the last step taken).

    The optimizer keeps its state (momentum buffers, moment estimates, step counts)
    between calls, like a ``torch.optim`` optimizer: a second ``fit`` with the same
    optimizer and model continues the run. Passing it to a **new** model whose
    parameters have the same shapes silently carries the old state over to the new
    model (the optimizer cannot tell the arrays apart); create a fresh optimizer for
    every model.

    Parameters
    ----------
    model : ``Module``
        E.g. ``optlib.nn.MLP(...)``; trained in place.
    loss_fn : callable
        ``loss_fn(pred, target) -> (loss, dpred)``, e.g. ``optlib.nn.losses.mse`` or
        ``optlib.nn.losses.softmax_cross_entropy``.
    optimizer
        Anything with ``step(params, grads)`` and a writable ``lr``
        (``optlib.optim``, or a wrapper from ``optlib.optim.wrappers``).
    X, y : ``ndarray``
        Training inputs ``(N, features)`` and targets (integer labels for
        classification, which also turns on accuracies); finite. ``X`` is cast once
        to the dtype of the model's parameters.
    epochs : int or None
        Passes over the data (0 only records the initial evaluation). ``None``
        (default): 1, or ``len(order)`` when ``order`` is a sequence.
    batch_size : int or None
        :math:`B`; ``None`` means :math:`B = N` (batch gradient descent), 1 is SGD.
    shuffle : bool
        Draw a new random order of the examples every epoch (from ``seed``), or
        keep the given order. Not used when ``order`` is given.
    schedule : callable, optional
        ``t -> lr``, e.g. ``optlib.optim.lr_scheduler.CosineAnnealingLR(0.1, T_max=1000)``.
    X_val, y_val : ``ndarray``, optional
        Validation data, evaluated with every record.
    seed : int or ``numpy.random.Generator``
        For the shuffling (and passed to a callable ``order``). Two runs with the
        same seed (and model) are identical.
    callbacks : ``sequence``
        Objects with any of ``on_step``, ``on_epoch_end``, ``on_train_end`` (see the
        module docstring), e.g. ``optlib.train.callbacks.EarlyStopping``.
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
    drop_last : bool
        Skip an epoch's last mini-batch when it has fewer than :math:`B` examples,
        like ``torch.utils.data.DataLoader(drop_last=True)``.
    order : callable or ``sequence`` of ``ndarray``, optional
        The examples of each epoch, in order, instead of ``shuffle``: a callable
        ``order(epoch, rng) -> indices`` (``epoch`` = 1, 2, ...; ``rng`` the generator
        made from ``seed``), or a sequence of index arrays, one per epoch (blocks:
        each is cut into mini-batches, followed by a record and the ``on_epoch_end``
        hooks). Indices may repeat or leave examples out; this is how chapter 7
        trains in a fixed order and with a curriculum.

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
    batch_size = n if batch_size is None else checks.integer("batch_size", batch_size, low=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be in [1, N={n}] or None (full batch), got {batch_size}")
    max_steps = checks.integer("max_steps", max_steps, low=1, allow_none=True)
    eval_every = checks.integer("eval_every", eval_every, low=1, allow_none=True)
    shuffle = checks.boolean("shuffle", shuffle)
    drop_last = checks.boolean("drop_last", drop_last)
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule must be a callable t -> lr or None, got {type(schedule).__name__}")
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    callbacks = list(callbacks)
    rng = np.random.default_rng(seed)
    epochs, orders = _epoch_orders(order, epochs, n, shuffle, rng)

    steps_per_epoch = n // batch_size if drop_last else math.ceil(n / batch_size)
    history = History(steps_per_epoch)
    show = _Progress(progress, epochs)
    clock = _Clock()
    scheduler = None
    if schedule is not None:
        scheduler = LRScheduler(optimizer, schedule)
    step_hooks = [cb for cb in callbacks if hasattr(cb, "on_step")]

    def record():
        clock.pause()
        train = evaluate(model, loss_fn, X, y)
        val = evaluate(model, loss_fn, X_val, y_val) if X_val is not None else (math.nan, math.nan)
        history._record_epoch(clock.seconds, train, val)

    # Overflow on the way to divergence is expected: NumPy's per-operation warnings
    # would only bury the result, which History reports.
    with np.errstate(over="ignore", invalid="ignore"):
        record()
        for epoch in range(1, epochs + 1):
            indices = orders(epoch)
            m = n if indices is None else len(indices)
            starts = range(0, m - batch_size + 1 if drop_last else m, batch_size)
            batches = [slice(s, min(s + batch_size, m)) for s in starts]
            clock.resume()
            stopped = _run_epoch(model, loss_fn, optimizer, X, y, indices, batches, scheduler,
                                 history, max_steps, clock, step_hooks, eval_every, record)
            clock.pause()
            if history.diverged:
                break
            record()
            show.epoch(history)
            if stopped is None and history.n_steps == max_steps and epoch < epochs:
                stopped = "max_steps"
            if stopped:
                history.stop_reason = stopped
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
        if self._start is not None:
            self.seconds = self.now()
            self._start = None

    def now(self):
        return self.seconds + (time.perf_counter() - self._start)


def _run_epoch(model, loss_fn, optimizer, X, y, indices, batches, scheduler, history,
               max_steps, clock, step_hooks, eval_every, record):
    """One pass over the batches. Returns why it stopped early, or None.

    Stops at a non-finite loss (before its update: ``history.diverged``), at
    ``max_steps`` (``"max_steps"`` if batches were left) or when an ``on_step`` hook
    returns a true value. With ``eval_every``, ``record()`` evaluates after every
    ``eval_every``-th step except an epoch's last (which ``fit`` records itself).
    """
    # Fetched once: backward writes into the same gradient arrays every step and the
    # optimizer updates the parameter arrays in place, so the dicts stay valid.
    params, grads = model.parameters(), model.gradients()
    last = len(batches) - 1
    for i, batch in enumerate(batches):
        t = history.n_steps
        if t == max_steps:
            return "max_steps"
        if scheduler is not None and scheduler.t < t:
            scheduler.step()                      # lr = schedule(t), t = steps taken
        if indices is None:
            xb, yb = X[batch], y[batch]
        else:
            idx = indices[batch]
            xb, yb = X[idx], y[idx]
        loss, dout = loss_fn(model.forward(xb), yb)
        history._loss.append(float(loss))
        history._lr.append(optimizer.lr)
        if not math.isfinite(loss):               # stop before an update with a bad gradient
            history._time.append(clock.now())
            history.diverged, history.diverged_at = True, t + 1
            history.stop_reason = "diverged"
            return "diverged"
        model.backward(dout, input_grad=False)    # the data need no gradient
        optimizer.step(params, grads)
        history._time.append(clock.now())
        t += 1
        stoppers = [type(cb).__name__ for cb in step_hooks
                    if cb.on_step(t, float(loss), history, model)]
        if stoppers:
            return "callback: " + ", ".join(stoppers)
        if eval_every and t % eval_every == 0 and i != last and t != max_steps:
            record()
            clock.resume()
    return None
