"""``Muon``: momentum, orthogonalized by a Newton–Schulz iteration, for weight matrices."""
from __future__ import annotations

import math

import numpy as np

from optlib import checks
from optlib.optim.adafactor import _lerp
from optlib.optim.optimizer import Optimizer, _descend, _flag

__all__ = ["Muon", "newton_schulz"]

#: Keller Jordan's quintic coefficients (a, b, c), PyTorch's defaults.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(G, ns_coefficients=NS_COEFFICIENTS, ns_steps=5, eps=1e-7):
    r"""The Newton–Schulz quintic iteration: roughly :math:`UV^\top` for :math:`G = USV^\top`.

    .. math::

        X_0 = G / \max(\|G\|_F, \epsilon),\qquad
        X_{k+1} = a X_k + (b A_k + c A_k^2) X_k,\quad A_k = X_k X_k^\top

    run on the wide orientation of ``G`` (transposed when it has more rows than
    columns, so that :math:`A_k` is the smaller Gram matrix). Each step maps every
    singular value :math:`\sigma` of :math:`X` to :math:`a\sigma + b\sigma^3 + c\sigma^5`
    and leaves the singular vectors alone; dividing by the Frobenius norm first puts
    every :math:`\sigma` in :math:`[0, 1]`. With the default coefficients, chosen for a
    steep slope at 0 rather than convergence, five steps bring every singular value
    that is not tiny into roughly [0.7, 1.2] (not exactly 1). Computed in ``G``'s dtype.

    Parameters
    ----------
    G : ndarray
        A 2-D array.
    ns_coefficients : tuple of float
        :math:`(a, b, c)`.
    ns_steps : int
        Number of iterations.
    eps : float
        Lower bound of the norm :math:`G` is divided by (a zero ``G`` gives zero).

    Returns
    -------
    ndarray
        A new array of ``G``'s shape and dtype.
    """
    G = np.asarray(G)
    if G.ndim != 2:
        raise ValueError(f"G must be a 2-D array (a matrix), got shape {G.shape}")
    a, b, c = ns_coefficients
    X = G.T if G.shape[0] > G.shape[1] else G
    X = X / max(float(np.linalg.norm(X)), eps)              # spectral norm <= 1
    for _ in range(ns_steps):
        A = X @ X.T
        B = b * A + c * (A @ A)
        X = a * X + B @ X
    return X.T if G.shape[0] > G.shape[1] else X


class Muon(Optimizer):
    r"""Muon: momentum, orthogonalized by a Newton–Schulz iteration, for weight matrices.

    .. math::

        B_t &= \mu B_{t-1} + (1-\mu) g_t\\
        \tilde B_t &= (1-\mu) g_t + \mu B_t \quad\text{(Nesterov; otherwise } \tilde B_t = B_t)\\
        O_t &= \mathrm{NS}^{(a,b,c)}_k(\tilde B_t;\ \epsilon)\\
        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)\\
        \theta_t &= \theta_{t-1} - \eta'\, O_t,\qquad
        \eta' = \eta\sqrt{\max(1, A/B)}\ \text{("original")}
        \ \text{or}\ 0.2\,\eta\sqrt{\max(A, B)}\ \text{("match\_rms\_adamw")}

    for an :math:`A \times B` parameter; :math:`\mathrm{NS}_k` is :func:`newton_schulz`.
    Jordan et al. (2024), *Muon: an optimizer for hidden layers in neural networks*
    (kellerjordan.github.io/posts/muon); the "match_rms_adamw" scaling is from Liu et al.
    (2025), *Muon is scalable for LLM training*, arXiv:2502.16982, chosen so that the
    update's RMS is about AdamW's and AdamW's learning rate and weight decay can be
    reused. This is PyTorch 2.13's ``torch.optim.Muon``: the momentum buffer is an
    exponential average (``lerp``, so :math:`(1-\mu)` scales the gradient; the
    orthogonalization removes any overall scale anyway) and the Nesterov form
    interpolates the gradient towards it.

    Orthogonalizing replaces the update's singular values by (roughly) 1 and keeps its
    singular vectors: every direction the momentum points in moves by about the same
    amount, so rare directions are not drowned by the dominant one. The step is then
    about :math:`\eta'` in spectral norm whatever the gradient's size.
    :math:`\epsilon` only bounds the Frobenius norm the iteration divides by. The weight
    decay is decoupled and uses :math:`\eta`, not the adjusted :math:`\eta'`.

    Arguments (PyTorch's names and defaults): ``lr=1e-3``, ``weight_decay=0.1``,
    ``momentum=0.95``, ``nesterov=True``, ``ns_coefficients=(3.4445, -4.7750, 2.0315)``,
    ``eps=1e-7``, ``ns_steps=5``, ``adjust_lr_fn=None`` (which means "original").

    Known limits: 2-D parameters only (``step`` raises for any other array): biases,
    gains and usually the first and last layers go to another optimizer such as AdamW,
    as the paper does; each step costs ``3 * ns_steps`` matrix products; the singular
    values of :math:`O_t` are near 1, not equal to 1 (see :func:`newton_schulz`).

    Differences from torch.optim.Muon: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); PyTorch runs the Newton–Schulz iteration
    in bfloat16 (8 significant bits, relative rounding about 4e-3), optlib in the
    parameter's dtype, so the two updates differ by about 1% of the update (much less
    relative to the parameters); with the iteration in the parameter's dtype the two
    agree to rounding. PyTorch checks the parameters' shapes in the constructor, optlib
    in ``step``.
    """

    defaults = dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                    ns_coefficients=NS_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None)

    def _validate(self, h):
        super()._validate(h)
        h["momentum"] = checks.real("momentum", h["momentum"], low=0)
        h["nesterov"] = _flag("nesterov", h["nesterov"])
        coefficients = h["ns_coefficients"]
        if not isinstance(coefficients, (tuple, list)) or len(coefficients) != 3:
            raise TypeError(f"ns_coefficients must be three numbers (a, b, c), got {coefficients!r}")
        h["ns_coefficients"] = tuple(checks.real(f"ns_coefficients[{i}]", c)
                                     for i, c in enumerate(coefficients))
        h["ns_steps"] = checks.integer("ns_steps", h["ns_steps"], low=0, high=99)
        h["adjust_lr_fn"] = checks.one_of("adjust_lr_fn", h["adjust_lr_fn"],
                                          (None, "original", "match_rms_adamw"))

    def step(self, params, grads):
        """Update every matrix of ``params`` in place; every array must be 2-D."""
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        for key, p in keyed:
            shape = getattr(p, "shape", None)
            if shape is not None and len(shape) != 2:
                raise ValueError(
                    f"Muon updates 2-D parameters (weight matrices) only; params[{key!r}] has "
                    f"shape {tuple(shape)}: give it to another optimizer, e.g. AdamW")
        super().step(params, grads)

    def _init_state(self, p):
        return {"momentum_buffer": np.zeros_like(p)}

    def update(self, p, g, state):
        """One Muon step for the matrix ``p``, in place, from its gradient ``g``."""
        h, buf = self.hyper, state["momentum_buffer"]
        lr, mu = h["lr"], h["momentum"]
        _lerp(buf, g, 1 - mu)                               # B_t = μ B + (1-μ) g
        direction = _lerp(g.copy(), buf, mu) if h["nesterov"] else buf
        O = newton_schulz(direction, h["ns_coefficients"], h["ns_steps"], h["eps"])
        A, B = p.shape
        if h["adjust_lr_fn"] == "match_rms_adamw":
            adjusted = lr * (0.2 * math.sqrt(max(A, B)))
        else:
            adjusted = lr * math.sqrt(max(1, A / B)) if B else lr
        p *= 1 - lr * h["weight_decay"]                     # θ ← θ(1 - ηλ)
        _descend(p, adjusted, O)                            # θ_t = θ - η' O_t
