r"""Batch normalization with a hand-written backward pass, as ``torch.nn.BatchNorm1d``.

For a mini-batch :math:`x \in \mathbb R^{B \times C}` (``B`` examples, ``C`` features),
batch normalization (Ioffe and Szegedy, 2015) standardizes every feature with the
batch's own statistics and then rescales it with learnable :math:`\gamma, \beta`:

.. math::

    \mu_j = \frac1B \sum_i x_{ij}, \qquad
    \sigma_j^2 = \frac1B \sum_i (x_{ij} - \mu_j)^2, \qquad
    \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
    y_{ij} = \gamma_j \hat x_{ij} + \beta_j .

At evaluation time there may be no batch (one example) and a prediction should not
depend on the other examples, so the layer uses running estimates of
:math:`\mu, \sigma^2` collected during training instead.
"""

import numpy as np

from optlib import checks
from optlib.nn.module import Module, _check_batch, _check_dtype

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    r"""Batch normalization over the features of a ``(B, C)`` batch, as ``torch.nn.BatchNorm1d``.

    **Training mode** normalizes with the batch mean :math:`\mu` and the *biased*
    batch variance :math:`\sigma^2` (divided by :math:`B`), and updates the running
    statistics with the *unbiased* variance (divided by :math:`B - 1`):

    .. math::

        \hat\mu \leftarrow (1 - m)\,\hat\mu + m\,\mu, \qquad
        \hat\sigma^2 \leftarrow (1 - m)\,\hat\sigma^2 + m\,\frac{B}{B-1}\,\sigma^2,

    with :math:`m` = ``momentum`` (PyTorch's convention: the weight of the *new*
    value, the opposite of an optimizer's :math:`\beta`). With ``momentum=None`` the
    running statistics are plain averages over all batches seen,
    :math:`m = 1/k` at the :math:`k`-th batch.

    **Evaluation mode** (``eval()``) uses :math:`\hat\mu, \hat\sigma^2` instead of the
    batch's statistics, so the layer is a fixed affine map of each example.

    Backward in training mode, with :math:`\delta = \partial L/\partial y` and
    :math:`s_j = 1/\sqrt{\sigma_j^2 + \varepsilon}`:

    .. math::

        \frac{\partial L}{\partial \beta_j} = \sum_i \delta_{ij}, \qquad
        \frac{\partial L}{\partial \gamma_j} = \sum_i \delta_{ij}\hat x_{ij}, \qquad
        \frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j s_j}{B}\Big(
            B\,\delta_{ij} - \sum_k \delta_{kj} - \hat x_{ij}\sum_k \delta_{kj}\hat x_{kj}\Big).

    The two sums subtracted are the gradient flowing through :math:`\mu` and
    :math:`\sigma^2`: each example's output depends on every other example of the batch.
    In evaluation mode :math:`\partial L/\partial x_{ij} = \gamma_j \delta_{ij} /
    \sqrt{\hat\sigma_j^2 + \varepsilon}`.

    Parameters
    ----------
    num_features : int
        :math:`C`, the number of features (columns) of the input.
    eps : float
        :math:`\varepsilon > 0`, added to the variance inside the square root.
    momentum : float or None
        :math:`m \in [0, 1]` for the running statistics, or ``None`` for a cumulative
        average.
    affine : bool
        Learn :math:`\gamma` (``weight``, initialized to 1) and :math:`\beta`
        (``bias``, initialized to 0). Without them the layer has no parameters.
    track_running_stats : bool
        Keep running statistics. Without them (``False``) the layer normalizes with
        the batch's statistics in evaluation mode too, as PyTorch does.
    dtype : ``dtype``
        ``np.float32`` (default) or ``np.float64`` (gradient checks).

    Attributes
    ----------
    weight, bias : ``ndarray`` or None
        :math:`\gamma` and :math:`\beta`, shape ``(C,)``; their gradients are
        ``weight_grad`` and ``bias_grad``.
    running_mean, running_var : ``ndarray`` or None
        :math:`\hat\mu` (starts at 0) and :math:`\hat\sigma^2` (starts at 1).
    num_batches_tracked : ``ndarray`` or None
        Training batches seen: a 0-d int64 array, as PyTorch's buffer of the same name
        (``None`` without running statistics). It is in ``buffers()`` and so in
        ``state_dict()``: with ``momentum=None`` a restored layer resumes its
        cumulative average where it stopped.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        self.num_features = checks.integer("num_features", num_features, low=1)
        self.eps = checks.real("eps", eps, low=0, low_open=True)
        self.momentum = None if momentum is None else checks.real(
            "momentum", momentum, low=0, high=1, rule="a number in [0, 1] or None")
        self.affine = checks.boolean("affine", affine)
        self.track_running_stats = checks.boolean("track_running_stats", track_running_stats)
        dtype = _check_dtype(dtype)
        C = self.num_features
        if self.affine:
            self.weight, self.bias = np.ones(C, dtype), np.zeros(C, dtype)
            self.weight_grad, self.bias_grad = np.zeros(C, dtype), np.zeros(C, dtype)
        else:
            self.weight = self.bias = self.weight_grad = self.bias_grad = None
        if self.track_running_stats:
            self.running_mean, self.running_var = np.zeros(C, dtype), np.ones(C, dtype)
            self.num_batches_tracked = np.zeros((), np.int64)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self._cache = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batch tracked (as at construction)."""
        if self.track_running_stats:
            self.running_mean.fill(0)
            self.running_var.fill(1)
            self.num_batches_tracked.fill(0)

    def buffers(self):
        """Dict of the running statistics (live arrays): state that is not trained.

        ``parameters()`` holds only :math:`\\gamma, \\beta`, so an optimizer never
        touches the running statistics; save them with these when you save a model.
        The keys are PyTorch's: ``running_mean``, ``running_var``, ``num_batches_tracked``.
        """
        if not self.track_running_stats:
            return {}
        return {"running_mean": self.running_mean, "running_var": self.running_var,
                "num_batches_tracked": self.num_batches_tracked}

    def _uses_batch_stats(self):
        return self.training or not self.track_running_stats

    def _check_input(self, x):
        _check_batch(x, self.num_features)
        if x.shape[0] < 2 and self._uses_batch_stats():
            why = ("in training mode; call eval() to use the running statistics" if self.training
                   else "in evaluation mode too, since track_running_stats=False leaves no running "
                        "statistics and the layer normalizes with the batch's own")
            raise ValueError(f"x must have at least 2 rows (a batch of one has no variance) "
                             f"{why}; got shape {x.shape}")

    def forward(self, x):
        self._check_input(x)
        if not self._uses_batch_stats():
            inv_std = 1 / np.sqrt(self.running_var + self.eps)
            x_hat = (x - self.running_mean) * inv_std
            self._cache = (x_hat, inv_std, False)
            return self._affine(x_hat)
        B = x.shape[0]
        mean = x.mean(axis=0)
        centred = x - mean
        var = np.mean(centred * centred, axis=0)          # biased: divides by B
        inv_std = 1 / np.sqrt(var + self.eps)
        x_hat = centred * inv_std
        if self.training and self.track_running_stats:
            self._update_running_stats(mean, var, B)
        self._cache = (x_hat, inv_std, True)
        return self._affine(x_hat)

    def _affine(self, x_hat):
        # Without affine, a copy: x_hat is saved for backward and must not be changed.
        return x_hat * self.weight + self.bias if self.affine else x_hat.copy()

    def _update_running_stats(self, mean, var, B):
        self.num_batches_tracked += 1
        m = 1 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        # The running variance estimates the population variance: unbiased, B / (B - 1).
        self.running_mean *= 1 - m
        self.running_mean += m * mean
        self.running_var *= 1 - m
        self.running_var += (m * B / (B - 1)) * var

    def backward(self, dout, input_grad=True):
        x_hat, inv_std, batch_stats = self._saved(self._cache)
        if self.affine:
            np.add.reduce(dout, axis=0, out=self.bias_grad)
            np.add.reduce(dout * x_hat, axis=0, out=self.weight_grad)
        if not input_grad:
            return None
        scale = inv_std * self.weight if self.affine else inv_std
        if not batch_stats:                                  # a fixed affine map
            return dout * scale
        B = dout.shape[0]
        sum_d = dout.sum(axis=0)
        sum_dx = self.weight_grad if self.affine else np.add.reduce(dout * x_hat, axis=0)
        return (scale / B) * (B * dout - sum_d - x_hat * sum_dx)

    def __repr__(self):
        return (f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")
