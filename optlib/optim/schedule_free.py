"""``AdamWScheduleFree``: AdamW without a schedule, by averaging and interpolating iterates."""
from __future__ import annotations

import numpy as np

from optlib import checks
from optlib.optim.adafactor import _lerp
from optlib.optim.optimizer import Optimizer, _descend

__all__ = ["AdamWScheduleFree"]


class AdamWScheduleFree(Optimizer):
    r"""Schedule-free AdamW: no learning-rate schedule; the average of the iterates is returned.

    Three sequences: :math:`z` takes AdamW-normalised gradient steps with a constant
    rate, :math:`x` is a weighted average of the :math:`z`'s, and the gradient is
    evaluated at their interpolation :math:`y`:

    .. math::

        y_t &= (1-\beta_1)\, z_t + \beta_1 x_t\\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2,\qquad g_t = \nabla f(y_t)\\
        d_t &= g_t / (\sqrt{v_t/(1-\beta_2^t)} + \epsilon) + \lambda\, y_t\\
        z_{t+1} &= z_t - \gamma_t\, d_t\\
        x_{t+1} &= (1-c_{t+1})\, x_t + c_{t+1}\, z_{t+1},\qquad
        c_{t+1} = \frac{w_t}{\sum_{i\le t} w_i},\quad
        w_t = t^{r}\,(\max_{i\le t}\gamma_i)^{p}

    with :math:`\gamma_t = \eta\min(1, t/T_{\text{warm-up}})` (a linear warm-up is the only
    schedule) and :math:`p` = ``weight_lr_power``. Defazio, Yang, Mehta, Mishchenko,
    Khaled & Cutkosky (2024), *The road less scheduled*, NeurIPS, Algorithm 1; this is the
    authors' ``schedulefree.AdamWScheduleFree`` (version 1.4), which keeps only
    :math:`y` (in the parameter array) and :math:`z` and updates :math:`y` directly,

    .. math::

        y \leftarrow y + c_{t+1}(z - y) + \gamma_t\,(\beta_1(1 - c_{t+1}) - 1)\, d_t,
        \qquad z \leftarrow z - \gamma_t d_t.

    :math:`\epsilon` is added outside the square root, after bias correction (as in
    Adam); there is no first moment: the interpolation with :math:`x` plays its part.
    The weight decay :math:`\lambda` is evaluated at :math:`y` and added to the
    normalised step, so it is not divided by :math:`\sqrt{v}` (decoupled, as in AdamW).

    **Train and eval.** During training the arrays hold :math:`y`, where the gradient is
    taken; the point to evaluate, test or save is :math:`x`. ``opt.eval(params)`` moves
    the arrays to :math:`x = z + (y - z)/\beta_1` in place, ``opt.train(params)`` back to
    :math:`y = z + \beta_1 (x - z)`, as the reference's ``optimizer.eval()`` and
    ``optimizer.train()`` do (call them with the same ``params`` as ``step``). ``step``
    refuses to run in eval mode. A new optimizer is in train mode.

    Arguments (the reference's names and defaults): ``lr=0.0025``, ``betas=(0.9, 0.999)``,
    ``eps=1e-8``, ``weight_decay=0``, ``warmup_steps=0``, ``r=0.0``,
    ``weight_lr_power=2.0``.

    State per array: ``z``, ``exp_avg_sq`` (:math:`v`), and the reference's per-group
    scalars ``weight_sum`` (:math:`\sum w_i`) and ``lr_max`` (:math:`\max\gamma_i`, -1
    before the first step); the step count :math:`k` is ``step - 1``.

    Known limits: the arrays a chapter sees during training are :math:`y`, not the
    answer :math:`x`: forgetting ``eval`` before measuring reports the wrong point; BatchNorm
    running statistics computed at :math:`y` do not match :math:`x` (the authors
    recompute them); with a constant :math:`\gamma`, :math:`x` is a uniform average of all
    :math:`z`'s, so early bad iterates fade only as :math:`1/t`.

    Differences from ``schedulefree.AdamWScheduleFree``: those common to every optimizer
    (see :class:`~optlib.optim.optimizer.Optimizer`); no ``foreach``; a new optimizer is
    in train mode (the reference starts in eval mode and requires ``train()`` before the
    first step; before that step :math:`x = y = z`, so nothing else changes); ``k``,
    ``weight_sum`` and ``lr_max`` are kept per array (the reference keeps them per
    parameter group: they differ only for an array whose gradient was ``None`` at some
    step); the arguments are checked: ``betas[0]`` in (0, 1) (``eval`` divides by it),
    ``betas[1]`` in [0, 1), ``warmup_steps`` an integer >= 0, ``r`` and
    ``weight_lr_power`` >= 0 (the reference checks none).
    """

    defaults = dict(lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0,
                    r=0.0, weight_lr_power=2.0)

    def __init__(self, **hyper):
        super().__init__(**hyper)
        self.train_mode = True

    def _validate(self, h):
        super()._validate(h)
        checks.real("betas[0]", h["betas"][0], low=0, high=1, low_open=True, high_open=True)
        h["warmup_steps"] = checks.integer("warmup_steps", h["warmup_steps"], low=0)
        h["r"] = checks.real("r", h["r"], low=0)
        h["weight_lr_power"] = checks.real("weight_lr_power", h["weight_lr_power"], low=0)

    # -- train and eval ------------------------------------------------------------
    def _move(self, params, weight):
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        for key, p in keyed:
            state = self.state.get(key)
            if state is None:
                continue
            if not isinstance(p, np.ndarray) or p.shape != state["z"].shape or p.dtype != state["z"].dtype:
                raise ValueError(f"params[{key!r}] must be the array this optimizer steps, "
                                 f"{state['z'].dtype.name} {state['z'].shape}, got "
                                 f"{getattr(p, 'dtype', type(p).__name__)} {getattr(p, 'shape', '')}")
            _lerp(p, state["z"], weight)

    def eval(self, params):
        r"""Move ``params`` in place to the averaged point :math:`x`, to evaluate or save it.

        :math:`x = y + (1 - 1/\beta_1)(z - y)`; does nothing in eval mode (or before the
        first step, where :math:`x = y = z`).
        """
        if self.train_mode:
            self._move(params, 1 - 1 / self.hyper["betas"][0])
            self.train_mode = False

    def train(self, params):
        r"""Move ``params`` in place back to the gradient point :math:`y`, to go on training.

        :math:`y = x + (1 - \beta_1)(z - x)`; does nothing in train mode.
        """
        if not self.train_mode:
            self._move(params, 1 - self.hyper["betas"][0])
            self.train_mode = True

    def step(self, params, grads):
        """One step from the gradients at :math:`y`; the optimizer must be in train mode."""
        if not self.train_mode:
            raise RuntimeError("AdamWScheduleFree.step needs train mode: the arrays hold the "
                               "averaged point x after eval(params); call train(params) first")
        super().step(params, grads)

    # -- the rule ------------------------------------------------------------------
    def _init_state(self, p):
        return {"z": p.copy(), "exp_avg_sq": np.zeros_like(p), "weight_sum": 0.0, "lr_max": -1.0}

    def update(self, p, g, state):
        """One schedule-free AdamW step: ``p`` holds :math:`y`, ``g`` the gradient there."""
        h, z, v = self.hyper, state["z"], state["exp_avg_sq"]
        (beta1, beta2), k, warmup = h["betas"], state["step"] - 1, h["warmup_steps"]
        sched = (k + 1) / warmup if k < warmup else 1.0
        lr = h["lr"] * sched                                # γ_t
        lr_max = state["lr_max"] = max(lr, state["lr_max"])
        weight = (k + 1) ** h["r"] * lr_max ** h["weight_lr_power"]     # w_t
        state["weight_sum"] += weight
        ckp1 = weight / state["weight_sum"] if state["weight_sum"] != 0 else 0.0   # c_{t+1}
        v *= beta2
        v += (1 - beta2) * g * g                            # v_t = β2 v + (1-β2) g²
        denom = np.sqrt(v / (1 - beta2 ** (k + 1)))
        denom += h["eps"]                                   # √v̂_t + ε
        d = g / denom
        if h["weight_decay"] != 0:
            d += h["weight_decay"] * p                      # + λ y
        _lerp(p, z, ckp1)                                   # y ← y + c(z - y)
        _descend(p, -lr * (beta1 * (1 - ckp1) - 1), d)      # y ← y + γ(β1(1-c) - 1) d
        _descend(z, lr, d)                                  # z ← z - γ d

    # -- checkpoints ---------------------------------------------------------------
    def state_dict(self):
        """The base class's ``state_dict``, and whether the arrays hold :math:`y` or :math:`x`."""
        return {**super().state_dict(), "train_mode": self.train_mode}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict``, train or eval mode included."""
        mode = state_dict.get("train_mode", True) if isinstance(state_dict, dict) else True
        mode = checks.boolean("state_dict['train_mode']", mode)
        super().load_state_dict(state_dict)
        self.train_mode = mode
