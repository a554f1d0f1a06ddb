"""``Adafactor``: a second moment stored as a row factor and a column factor."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["Adafactor"]


def _lerp(a, b, w):
    """``a`` moved a fraction ``w`` of the way to ``b``, in place, as ``torch.lerp_`` rounds it.

    PyTorch computes :math:`a + w(b - a)` for :math:`|w| < 0.5` and
    :math:`b - (b - a)(1 - w)` otherwise, so that ``w = 1`` gives exactly ``b``. The
    optimizers written with ``lerp_`` in their reference (Adafactor, Muon,
    schedule-free AdamW) use this, so that they round as the reference does.
    """
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)
    return a


class Adafactor(Optimizer):
    r"""Adafactor: Adam's second moment in :math:`O(n + m)` numbers for an n×m matrix.

    .. math::

        \hat\beta_{2,t} &= 1 - t^{\tau},\qquad
        \rho_t = \min(\eta, 1/\sqrt t),\qquad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t\\
        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)\\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_{\text{cols}}(g_t^2),
        \qquad
        C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_{\text{rows}}(g_t^2)\\
        \hat V_t &= R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)
            \qquad(\text{for 0-d and 1-d } \theta:\
            \hat V_t = \hat\beta_{2,t}\hat V_{t-1} + (1-\hat\beta_{2,t})\,g_t^2)\\
        U_t &= g_t / \sqrt{\max(\hat V_t, \epsilon_1^2)},\qquad
        \hat U_t = U_t / \max(1, \mathrm{RMS}(U_t)/d)\\
        \theta_t &= \theta_{t-1} - \alpha_t \hat U_t

    Shazeer & Stern (2018), *Adafactor: adaptive learning rates with sublinear memory
    cost*, ICML, Algorithms 4 and 5, as PyTorch 2.13 writes them (``torch.optim.Adafactor``).
    For an array of two or more dimensions the second moment is factored over the last
    two (rows and columns): ``row_var`` :math:`R` has shape ``(..., n, 1)`` and
    ``col_var`` :math:`C` shape ``(..., 1, m)``, so their product :math:`R_t C_t` is the
    rank-one (outer-product) estimate of :math:`\mathbb E[g^2]`; dividing by the mean of
    :math:`R` makes it exact when :math:`g^2` is itself rank one. 0-d and 1-d arrays keep a
    full ``variance``. There is no first moment (the paper's :math:`\beta_1 = 0`).

    Where :math:`\epsilon` sits (PyTorch's choice, not the paper's): :math:`\epsilon_1`
    bounds the denominator of the normalisation of :math:`R_t C_t` and, squared, the
    estimate :math:`\hat V_t` before its square root; the paper adds :math:`\epsilon_1`
    to :math:`g_t^2` instead. ``eps[0] = None`` means the machine epsilon of the
    parameter's dtype. :math:`\epsilon_2` is the smallest scale of the relative step:
    a parameter at zero still moves by :math:`\epsilon_2\rho_t`.

    The step is *relative*: :math:`\alpha_t` is :math:`\rho_t` times the root mean square of
    the parameter itself, and the learning rate :math:`\eta` only caps :math:`\rho_t`
    (the paper uses the constant 0.01) and scales the weight decay, which is decoupled
    (:math:`\theta \leftarrow \theta(1-\eta\lambda)`, applied after :math:`\alpha_t` is
    computed). :math:`\hat\beta_{2,t} = 1 - t^{\tau}` with ``beta2_decay`` :math:`\tau = -0.8`
    starts at 0 (the first estimate is :math:`g_1^2` itself) and rises towards 1.
    Update clipping with threshold ``d`` caps the RMS of the normalised step at ``d``.
    With ``maximize=True`` the rule follows :math:`-g_t`.

    Arguments (PyTorch's names and defaults): ``lr=1e-2``, ``beta2_decay=-0.8``,
    ``eps=(None, 1e-3)``, ``d=1.0``, ``weight_decay=0.0``, ``maximize=False``.

    Known limits: the factored estimate is rank one, so it cannot follow a second
    moment whose rows differ in shape (a column with large gradients in only some rows
    is averaged over them); the relative step moves a parameter near zero only by about
    :math:`\epsilon_2\rho_t` per step, so small-initialised weights start slowly; an
    empty array is left as it is (PyTorch divides by its size zero).

    Differences from torch.optim.Adafactor: those common to every optimizer (see
    :class:`~optlib.optim.optimizer.Optimizer`); ``eps`` must be a pair (a tuple or a
    list); ``eps[0] = None`` takes the machine epsilon of each array's own dtype
    (PyTorch takes that of the first array of a step and keeps it for the others);
    :math:`\mathrm{mean}(g^2)` is computed as a mean of squares rather than PyTorch's
    squared norm divided by the size (equal up to rounding).
    """

    defaults = dict(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                    maximize=False)

    def _validate(self, h):
        eps = h["eps"]
        h["eps"] = 0.0                                      # the base class checks a number
        super()._validate(h)
        if not isinstance(eps, (tuple, list)) or len(eps) != 2:
            raise TypeError(f"eps must be a pair (eps1, eps2) with eps1 None or a number >= 0, "
                            f"got {eps!r}")
        eps1 = None if eps[0] is None else checks.real(
            "eps[0]", eps[0], low=0, rule="None or a finite number >= 0")
        h["eps"] = (eps1, checks.real("eps[1]", eps[1], low=0))
        h["beta2_decay"] = checks.real("beta2_decay", h["beta2_decay"], high=0)
        h["d"] = checks.real("d", h["d"], low=1)

    def _init_state(self, p):
        if p.ndim > 1:
            return {"row_var": np.zeros(p.shape[:-1] + (1,), p.dtype),
                    "col_var": np.zeros(p.shape[:-2] + (1, p.shape[-1]), p.dtype)}
        return {"variance": np.zeros_like(p)}

    @staticmethod
    def _check_state_arrays(state, signature):
        """Like the base class's check, with the shapes of the row and column factors."""
        if signature is None:
            return
        for key, entries in state.items():
            if key not in signature:
                raise ValueError(f"state_dict has state for params[{key!r}], which its "
                                 f"signature does not list")
            shape, dtype = tuple(signature[key][0]), signature[key][1]
            expected = {"variance": shape}
            if len(shape) > 1:
                expected = {"row_var": shape[:-1] + (1,), "col_var": shape[:-2] + (1, shape[-1])}
            for n, v in entries.items():
                if isinstance(v, np.ndarray) and (v.shape != expected.get(n) or v.dtype.str != dtype):
                    raise ValueError(
                        f"state_dict's state[{key!r}][{n!r}] is {v.dtype.name} {v.shape}, but "
                        f"params[{key!r}] is {np.dtype(dtype).name} {shape}, whose {n!r} is "
                        f"{expected.get(n, 'not part of its state')}")

    def update(self, p, g, state):
        """One Adafactor step for the array ``p``, in place, from its gradient ``g``."""
        h, t = self.hyper, state["step"]
        lr, wd, d = h["lr"], h["weight_decay"], h["d"]
        eps1, eps2 = h["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(p.dtype).eps)
        if p.size == 0:
            return
        if h["maximize"]:
            g = -g
        one_minus_beta2 = t ** h["beta2_decay"]             # 1 - β̂2_t = t^τ
        rho = min(lr, 1 / t ** 0.5)                         # ρ_t = min(η, 1/√t)
        alpha = max(eps2, float(np.linalg.norm(p.reshape(-1))) / p.size ** 0.5) * rho
        if wd != 0:
            p *= 1 - lr * wd                                # θ ← θ(1 - ηλ), decoupled
        if p.ndim > 1:
            row, col = state["row_var"], state["col_var"]
            g2 = g * g
            _lerp(row, g2.mean(axis=-1, keepdims=True), one_minus_beta2)   # R_t
            _lerp(col, g2.mean(axis=-2, keepdims=True), one_minus_beta2)   # C_t
            var = row @ col                                 # R_t C_t, the rank-one estimate
            var /= np.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            var = _lerp(state["variance"], g * g, one_minus_beta2).copy()  # V̂_t
        u = np.maximum(var, eps1 * eps1, out=var)
        np.sqrt(u, out=u)
        np.divide(g, u, out=u)                              # U_t = g / √max(V̂, ε1²)
        denom = max(1.0, float(np.linalg.norm(u.reshape(-1))) / (u.size ** 0.5 * d))
        _descend(p, alpha / denom, u)                       # θ_t = θ - α_t Û_t
