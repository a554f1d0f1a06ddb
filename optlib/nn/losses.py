r"""Loss functions that return the loss *and* its gradient.

Each loss is ``loss_fn(pred, target) -> (loss, dpred)``: ``loss`` is a Python float,
the mean over the batch, and ``dpred`` is the gradient of that mean with respect to
``pred`` (same shape and dtype as ``pred``), ready for ``model.backward(dpred)``.

``pred`` (or ``logits``) must be a floating-point NumPy array with at least one
example: the gradient is returned in its shape and dtype. Targets and labels may be
anything ``np.asarray`` accepts. The mean over an empty batch is undefined
(PyTorch returns ``nan``); here it is an error that names the argument.
"""

import numpy as np

__all__ = ["mse", "softmax", "softmax_cross_entropy", "accuracy"]


def _check_pred(name, pred, ndim=None):
    if not isinstance(pred, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of floats, got {type(pred).__name__}")
    if pred.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array (its gradient has its dtype), "
                        f"got dtype {pred.dtype}")
    if ndim is not None and pred.ndim != ndim:
        raise ValueError(f"{name} must have shape (batch, classes), got {pred.shape}")
    if pred.size == 0:
        raise ValueError(f"{name} must hold at least one example (the mean over an empty "
                         f"batch is undefined), got shape {pred.shape}")


def mse(pred, target):
    r"""Mean squared error and its gradient.

    .. math::

        L = \frac{1}{M} \sum_{j=1}^{M} (\hat y_j - y_j)^2, \qquad
        \frac{\partial L}{\partial \hat y} = \frac{2}{M} (\hat y - y),

    where the mean runs over all :math:`M` entries of ``pred`` (the batch times the
    outputs), as in ``torch.nn.MSELoss()``; with one output it is the batch mean.

    Parameters
    ----------
    pred : ``ndarray``
        Predictions, shape ``(B, k)`` or ``(B,)``.
    target : ``ndarray``
        Targets of the same shape. A target of shape ``(B,)`` is accepted for a
        prediction of shape ``(B, 1)`` (instead of silently broadcasting to ``(B, B)``).

    Returns
    -------
    loss : float
        The mean squared error.
    dpred : ``ndarray``
        Its gradient with respect to ``pred``.
    """
    _check_pred("pred", pred)
    target = np.asarray(target)
    if target.shape != pred.shape:
        if pred.ndim == 2 and pred.shape[1] == 1 and target.shape == pred.shape[:1]:
            target = target[:, None]
        else:
            raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    diff = pred - target
    # .sum() / size rather than np.mean: same number, less Python overhead per call,
    # which matters when SGD calls this 55,000 times an epoch.
    loss = float((diff * diff).sum()) / diff.size
    diff *= 2 / diff.size
    return loss, diff


def softmax(logits):
    r"""Row-wise softmax, :math:`p_{ik} = e^{z_{ik} - \max_j z_{ij}} / \sum_l e^{z_{il} - \max_j z_{ij}}`.

    Subtracting the row maximum changes nothing mathematically and keeps ``exp``
    from overflowing.

    Parameters
    ----------
    logits : ``ndarray``
        Shape ``(B, C)``.

    Returns
    -------
    ``ndarray``
        Probabilities, each row sums to 1.
    """
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    e /= e.sum(axis=1, keepdims=True)
    return e


def _check_labels(logits, labels):
    if type(labels) is not np.ndarray:
        labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if labels.shape != logits.shape[:1]:
        raise ValueError(f"labels must have shape ({logits.shape[0]},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(
            f"labels must lie in [0, {logits.shape[1] - 1}], got range "
            f"[{labels.min()}, {labels.max()}]"
        )
    return labels


def softmax_cross_entropy(logits, labels):
    r"""Softmax cross-entropy for integer labels, and its gradient.

    With :math:`z_i` the logits of example :math:`i` and :math:`y_i` its class,

    .. math::

        L = \frac{1}{B} \sum_{i=1}^{B} \Big(\log \sum_k e^{z_{ik}} - z_{i y_i}\Big),
        \qquad
        \frac{\partial L}{\partial z_{ik}} = \frac{1}{B}\big(p_{ik} - [k = y_i]\big),

    where :math:`p_i = \mathrm{softmax}(z_i)`. The log-sum-exp is computed after
    subtracting the row maximum, so large logits do not overflow. Same value as
    ``torch.nn.functional.cross_entropy(logits, labels)``.

    Parameters
    ----------
    logits : ``ndarray``
        Unnormalized scores, shape ``(B, C)``.
    labels : ``ndarray``
        Integer classes in ``[0, C)``, shape ``(B,)``.

    Returns
    -------
    loss : float
        The mean cross-entropy.
    dlogits : ``ndarray``
        Its gradient with respect to ``logits``.
    """
    _check_pred("logits", logits, ndim=2)
    labels = _check_labels(logits, labels)
    B, C = logits.shape
    # Flat positions of the true-class entries: z.flat[i*C + y_i] = z[i, y_i]. One index
    # array, used twice, is cheaper than z[rows, labels] (matters for B = 1, 55,000 times).
    true = np.arange(0, B * C, C) + labels
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    sum_e = e.sum(axis=1, keepdims=True)
    loss = float(np.log(sum_e).sum() - z.reshape(-1)[true].sum()) / B
    e /= sum_e                   # e is now the softmax p
    e.reshape(-1)[true] -= 1     # p - onehot(y)
    e /= B
    return loss, e


def accuracy(logits, labels):
    """Fraction of rows whose largest logit is the true class.

    Parameters
    ----------
    logits : ``ndarray``
        Scores, shape ``(B, C)``.
    labels : ``ndarray``
        Integer classes, shape ``(B,)``.

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.
    """
    if not isinstance(logits, np.ndarray):
        raise TypeError(f"logits must be a NumPy array, got {type(logits).__name__}")
    if logits.ndim != 2 or len(logits) == 0:
        raise ValueError(f"logits must have shape (batch, classes) with batch >= 1, got {logits.shape}")
    labels = _check_labels(logits, labels)
    return np.count_nonzero(logits.argmax(axis=1) == labels) / len(labels)
