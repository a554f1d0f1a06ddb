r"""Optimizers with the update rules, argument names and defaults of ``torch.optim``.

Every class here follows PyTorch's plain single-tensor code path (``foreach=False``),
so what you learn in the course transfers to PyTorch unchanged. Notation (COURSE.md §5):
:math:`\theta` parameters, :math:`g_t` the gradient at step :math:`t` (counted from 1),
:math:`\eta` the learning rate ``lr``, :math:`m_t, v_t` the first and second moment
estimates ``exp_avg, exp_avg_sq``, :math:`\epsilon` ``eps``. All operations are
element-wise.

Use::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)                                 # both dict name -> ndarray, or both list of ndarrays

``step`` updates the arrays of ``params`` **in place**, keeps one state (and one step
count) per array, as PyTorch does, and preserves the dtype: float32 stays float32.
``state_dict`` / ``load_state_dict`` let a resumed run continue bit for bit.
Divergence is not an error: inf and nan propagate, so a chapter can show them.
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np
from scipy.linalg import blas as _blas

__all__ = [
    "Optimizer", "OptimizerWrapper", "SGD", "Adagrad", "RMSprop", "Adadelta",
    "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
]


# --------------------------------------------------------------------------- checks
# Each check names the argument and the range it accepts, so a reader who mistypes a
# hyper-parameter learns what is allowed instead of getting a silent nan later.

def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _at_least_zero(name, value):
    value = _number(name, value)
    if value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def _in_unit_interval(name, value, *, closed=False):
    """Check 0 <= value < 1 (or <= 1 when ``closed``)."""
    value = _number(name, value)
    if not (0.0 <= value < 1.0 or (closed and value == 1.0)):
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def _betas(value):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {value!r}")
    return (_in_unit_interval("betas[0]", value[0]), _in_unit_interval("betas[1]", value[1]))


def _pairs(params, grads):
    """Match ``params`` with ``grads``: returns a list of (key, param, grad)."""
    if isinstance(params, dict) and isinstance(grads, dict):
        if params.keys() != grads.keys():
            missing = sorted(map(str, params.keys() - grads.keys()))
            extra = sorted(map(str, grads.keys() - params.keys()))
            raise ValueError(
                f"params and grads must have the same keys; grads lacks {missing}, has extra {extra}")
        keyed = [(k, params[k], grads[k]) for k in params]
    elif isinstance(params, (list, tuple)) and isinstance(grads, (list, tuple)):
        if len(params) != len(grads):
            raise ValueError(
                f"params and grads must have the same length, got {len(params)} and {len(grads)}")
        keyed = list(zip(range(len(params)), params, grads))
    else:
        raise TypeError(
            "params and grads must both be dicts (name -> ndarray) or both lists of ndarrays, "
            f"got {type(params).__name__} and {type(grads).__name__}")
    checked = []
    for key, p, g in keyed:
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{key!r}] must be a numpy ndarray (updated in place), "
                            f"got {type(p).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(f"params[{key!r}] must have a floating dtype, got {p.dtype}")
        if not p.flags.writeable:
            raise ValueError(f"params[{key!r}] must be writeable (it is updated in place)")
        if g is None:                        # no gradient this step: skip it, as torch does
            continue
        if type(g) is not np.ndarray or g.dtype != p.dtype:
            g = _as_grad(key, p, g)
        if g.shape != p.shape:
            raise ValueError(f"grads[{key!r}] must have the shape of params[{key!r}], "
                             f"{p.shape}, got {g.shape}")
        checked.append((key, p, g))
    return checked


def _as_grad(key, p, g):
    g = np.asarray(g)
    if g.dtype.kind not in "fiu":
        raise TypeError(f"grads[{key!r}] must be numeric, got dtype {g.dtype}")
    # Compute in the parameter's precision, as PyTorch does (no float64 upcast).
    return g.astype(p.dtype, copy=False)


_AXPY = {np.dtype(np.float32): _blas.saxpy, np.dtype(np.float64): _blas.daxpy}


def _descend(p, step_size, direction):
    """``p -= step_size * direction`` in place: the last line of every optimizer.

    NumPy needs two passes over memory and a temporary for ``p -= c * d``; PyTorch's
    ``p.add_(d, alpha=-c)`` needs one. For plain SGD, whose whole step is this line,
    that is the optimizer's speed, so we call BLAS's fused axpy (y += a·x) instead.
    """
    axpy = _AXPY.get(p.dtype)
    if axpy is not None and p.flags.c_contiguous and direction.dtype == p.dtype:
        axpy(direction.reshape(-1), p.reshape(-1), a=-step_size)  # a view: updates p
    else:
        p -= step_size * direction


# --------------------------------------------------------------------------- base class

class Optimizer:
    """Base class: state bookkeeping shared by every optimizer.

    A subclass lists its hyper-parameters in ``defaults`` (name -> torch default),
    validates them in ``_validate``, creates the per-array state in ``_init_state`` and
    writes the update rule in ``_update(param, grad, state)``.
    """

    defaults: dict = {}

    def __init__(self, **hyper):
        unknown = hyper.keys() - self.defaults.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}; "
                            f"it takes {list(self.defaults)}")
        self.hyper = {**self.defaults, **hyper}
        self._validate()
        self.state = {}          # key -> {"step": int, arrays...}
        self._signature = None                              # key -> (shape, dtype) of the arrays the state belongs to

    # The learning rate is what schedules change, so it has a validated attribute.
    @property
    def lr(self):
        """The learning rate :math:`\\eta` used by the next ``step``."""
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value):
        self.hyper["lr"] = _at_least_zero("lr", value)

    def _validate(self):
        self.lr = self.hyper["lr"]
        if "weight_decay" in self.hyper:
            self.hyper["weight_decay"] = _at_least_zero("weight_decay", self.hyper["weight_decay"])
        if "eps" in self.hyper:
            self.hyper["eps"] = _at_least_zero("eps", self.hyper["eps"])
        if "betas" in self.hyper:
            self.hyper["betas"] = _betas(self.hyper["betas"])

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"

    def step(self, params, grads):
        """Update every array of ``params`` in place from the matching ``grads``.

        A grad that is ``None`` skips its array for this step (its state and step count
        stay as they are), like a PyTorch parameter whose ``.grad`` is ``None``.
        """
        pairs = _pairs(params, grads)
        self._check_signature(params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for key, p, g in pairs:
                state = self.state.get(key)
                if state is None:
                    state = self.state[key] = {"step": 0, **self._init_state(p)}
                state["step"] += 1
                self._update(p, g, state)

    def _check_signature(self, params):
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        if self._signature is not None and len(params) == len(self._signature) and all(
                self._signature.get(key) == (p.shape, p.dtype.str) for key, p in keyed):
            return
        keyed = params.items() if isinstance(params, dict) else enumerate(params)
        signature = {key: (p.shape, p.dtype.str) for key, p in keyed}
        if self._signature is None:
            self._signature = signature
        elif signature != self._signature:
            raise ValueError(
                "params do not match the arrays this optimizer's state belongs to: "
                f"expected {self._describe(self._signature)}, got {self._describe(signature)}; "
                "create a new optimizer for new parameters")

    @staticmethod
    def _describe(signature):
        return "{" + ", ".join(f"{k!r}: {s} {np.dtype(d).name}" for k, (s, d) in signature.items()) + "}"

    def _init_state(self, p):
        return {}

    def _update(self, p, g, state):
        raise NotImplementedError

    def _l2(self, p, g):
        """L2 penalty folded into the gradient: g + λθ (a new array; grads are never modified)."""
        wd = self.hyper["weight_decay"]
        return g + wd * p if wd != 0 else g

    # -- checkpoints --------------------------------------------------------------
    def state_dict(self):
        """A deep copy of the hyper-parameters and the per-array state."""
        return {
            "optimizer": type(self).__name__,
            "hyper": dict(self.hyper),
            "signature": None if self._signature is None else dict(self._signature),
            "state": {k: {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
                      for k, s in self.state.items()},
        }

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict``; the next ``step`` continues exactly where it stopped."""
        if not isinstance(state_dict, dict) or "optimizer" not in state_dict:
            raise TypeError("state_dict must be a dict made by Optimizer.state_dict()")
        if state_dict["optimizer"] != type(self).__name__:
            raise ValueError(f"state_dict is from {state_dict['optimizer']}, "
                             f"cannot load it into {type(self).__name__}")
        signature = state_dict["signature"]
        if self._signature is not None and signature is not None and signature != self._signature:
            raise ValueError("state_dict belongs to different params: expected "
                             f"{self._describe(self._signature)}, got {self._describe(signature)}")
        hyper, self.hyper = self.hyper, dict(state_dict["hyper"])
        try:
            self._validate()
        except (TypeError, ValueError):
            self.hyper = hyper               # leave the optimizer as it was
            raise
        self._signature = None if state_dict["signature"] is None else dict(state_dict["signature"])
        self.state = {k: {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
                      for k, s in state_dict["state"].items()}


class OptimizerWrapper:
    """An object that stands in for an optimizer and adds something around its step.

    Chapters wrap optimizers to add gradient noise, follow a schedule, or record
    effective rates and update sizes, and still pass the wrapper to ``optlib.fit`` or
    ``optlib.run``. This base forwards what those need: ``lr`` (read and set, so
    schedules work), ``hyper`` (for labels and explorers), and ``step``, which a
    subclass extends and calls with ``super().step(params, grads)``.
    """

    def __init__(self, optimizer):
        if not callable(getattr(optimizer, "step", None)):
            raise TypeError(f"optimizer must have a step(params, grads) method, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer

    @property
    def lr(self):
        """The wrapped optimizer's learning rate :math:`\\eta`."""
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    @property
    def hyper(self):
        """The wrapped optimizer's hyper-parameters."""
        return getattr(self.optimizer, "hyper", {})

    def step(self, params, grads):
        """Step the wrapped optimizer."""
        self.optimizer.step(params, grads)

    def __repr__(self):
        return f"{type(self).__name__}({self.optimizer!r})"


# --------------------------------------------------------------------------- SGD

class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum and Nesterov momentum.

    .. math::

        g_t &\leftarrow g_t + \lambda\theta_{t-1} \quad\text{(if weight\_decay } \lambda \ne 0)\\
        b_t &= \beta b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1)\\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad\text{or, with Nesterov,}\quad
        \theta_t = \theta_{t-1} - \eta\,(g_t + \beta b_t)

    with momentum :math:`\beta` and dampening :math:`\tau`; without momentum
    :math:`\theta_t = \theta_{t-1} - \eta g_t`. This is PyTorch's form: the buffer
    accumulates gradients and the learning rate multiplies it, which equals the
    classical velocity form :math:`v_t = \beta v_{t-1} - \eta g_t` (Polyak 1964) while
    :math:`\eta` is constant. Nesterov momentum after Sutskever et al. (2013).
    """

    defaults = dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)

    def _validate(self):
        super()._validate()
        h = self.hyper
        h["momentum"] = _in_unit_interval("momentum", h["momentum"])
        h["dampening"] = _in_unit_interval("dampening", h["dampening"], closed=True)
        if not isinstance(h["nesterov"], bool):
            raise TypeError(f"nesterov must be True or False, got {h['nesterov']!r}")
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0, "
                             f"got momentum={h['momentum']}, dampening={h['dampening']}")

    def _update(self, p, g, state):
        lr, beta, tau = self.lr, self.hyper["momentum"], self.hyper["dampening"]
        g = self._l2(p, g)
        if beta != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()         # b_1 = g_1, no dampening
            else:
                b = state["momentum_buffer"]
                b *= beta
                b += (1 - tau) * g                          # b_t = β b_{t-1} + (1-τ) g_t
            b = state["momentum_buffer"]
            g = g + beta * b if self.hyper["nesterov"] else b
        _descend(p, lr, g)                                  # θ_t = θ_{t-1} - η g


# --------------------------------------------------------------------------- AdaGrad

class Adagrad(Optimizer):
    r"""AdaGrad: a per-coordinate rate from the running sum of squared gradients.

    .. math::

        G_t &= G_{t-1} + g_t^2 \qquad (G_0 = \text{initial\_accumulator\_value})\\
        \tilde\eta_t &= \eta \,/\, (1 + (t-1)\,\text{lr\_decay})\\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{G_t} + \epsilon)

    Duchi, Hazan & Singer (2011), *Adaptive subgradient methods for online learning
    and stochastic optimization*, JMLR 12. As in PyTorch, :math:`\epsilon` sits outside
    the square root and the accumulator starts at 0 (Keras starts it at 0.1).
    """

    defaults = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                    initial_accumulator_value=0.0, eps=1e-10)

    def _validate(self):
        super()._validate()
        h = self.hyper
        h["lr_decay"] = _at_least_zero("lr_decay", h["lr_decay"])
        h["initial_accumulator_value"] = _at_least_zero(
            "initial_accumulator_value", h["initial_accumulator_value"])

    def _init_state(self, p):
        return {"sum": np.full_like(p, self.hyper["initial_accumulator_value"])}

    def _update(self, p, g, state):
        h, t, G = self.hyper, state["step"], state["sum"]
        g = self._l2(p, g)
        clr = self.lr / (1 + (t - 1) * h["lr_decay"])
        G += g * g                                          # G_t = G_{t-1} + g_t²
        _descend(p, clr, g / (np.sqrt(G) + h["eps"]))       # θ_t = θ_{t-1} - η g_t/(√G_t + ε)


# --------------------------------------------------------------------------- RMSprop

class RMSprop(Optimizer):
    r"""RMSprop: AdaGrad with an exponential moving average instead of the sum.

    .. math::

        v_t &= \alpha v_{t-1} + (1-\alpha) g_t^2\\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t,\quad
            \tilde v_t = v_t - \bar g_t^2 \quad\text{(centered only)}\\
        b_t &= \beta b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon) \quad\text{(momentum } \beta > 0)\\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad\text{or, without momentum,}\quad
        \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{\tilde v_t} + \epsilon)

    (:math:`\tilde v_t = v_t` when not centered). Tieleman & Hinton (2012), Lecture 6.5
    of *Neural Networks for Machine Learning*; the centered form from Graves (2013),
    *Generating sequences with recurrent neural networks*. No bias correction: with
    :math:`v_0 = 0` the first step is :math:`\eta/\sqrt{1-\alpha}` per coordinate
    (10η for the default α = 0.99). PyTorch's ``alpha`` is Keras's ``rho``.
    """

    defaults = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)

    def _validate(self):
        super()._validate()
        h = self.hyper
        h["alpha"] = _in_unit_interval("alpha", h["alpha"])
        h["momentum"] = _in_unit_interval("momentum", h["momentum"])
        if not isinstance(h["centered"], bool):
            raise TypeError(f"centered must be True or False, got {h['centered']!r}")

    def _init_state(self, p):
        state = {"square_avg": np.zeros_like(p)}
        if self.hyper["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p)
        if self.hyper["centered"]:
            state["grad_avg"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state):
        h, v = self.hyper, state["square_avg"]
        alpha = h["alpha"]
        g = self._l2(p, g)
        v *= alpha
        v += (1 - alpha) * g * g                            # v_t = α v_{t-1} + (1-α) g_t²
        if h["centered"]:
            gbar = state["grad_avg"]
            gbar *= alpha
            gbar += (1 - alpha) * g                         # ḡ_t = α ḡ_{t-1} + (1-α) g_t
            denom = np.sqrt(v - gbar * gbar)
        else:
            denom = np.sqrt(v)
        denom += h["eps"]                                   # √ṽ_t + ε
        if h["momentum"] > 0:
            b = state["momentum_buffer"]
            b *= h["momentum"]
            b += g / denom                                  # b_t = β b_{t-1} + g_t/(√ṽ_t + ε)
            _descend(p, self.lr, b)                         # θ_t = θ_{t-1} - η b_t
        else:
            _descend(p, self.lr, g / denom)                 # θ_t = θ_{t-1} - η g_t/(√ṽ_t + ε)


# --------------------------------------------------------------------------- AdaDelta

class Adadelta(Optimizer):
    r"""AdaDelta: the step's own RMS replaces the learning rate.

    .. math::

        v_t &= \rho v_{t-1} + (1-\rho) g_t^2\\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\
        u_t &= \rho u_{t-1} + (1-\rho) \Delta_t^2\\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    Zeiler (2012), *ADADELTA: an adaptive learning rate method*, arXiv:1212.5701.
    The paper has no :math:`\eta` (it is 1, PyTorch's default); :math:`u` is
    ``acc_delta``, the running average of squared updates, which gives the step its
    units. :math:`\epsilon` sits inside both square roots.
    """

    defaults = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0)

    def _validate(self):
        super()._validate()
        self.hyper["rho"] = _in_unit_interval("rho", self.hyper["rho"])

    def _init_state(self, p):
        return {"square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}

    def _update(self, p, g, state):
        h, v, u = self.hyper, state["square_avg"], state["acc_delta"]
        rho, eps = h["rho"], h["eps"]
        g = self._l2(p, g)
        v *= rho
        v += (1 - rho) * g * g                              # v_t = ρ v_{t-1} + (1-ρ) g_t²
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g     # Δ_t = √(u_{t-1}+ε)/√(v_t+ε) g_t
        u *= rho
        u += (1 - rho) * delta * delta                      # u_t = ρ u_{t-1} + (1-ρ) Δ_t²
        _descend(p, self.lr, delta)                         # θ_t = θ_{t-1} - η Δ_t


# --------------------------------------------------------------------------- Adam family

class Adam(Optimizer):
    r"""Adam: momentum's first moment, RMSprop's second moment, and bias correction.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t\\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
        \hat m_t &= m_t / (1-\beta_1^t),\qquad \hat v_t = v_t / (1-\beta_2^t)\\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    Kingma & Ba (2015), *Adam: a method for stochastic optimization*, ICLR, Algorithm 1.
    :math:`\epsilon` is added outside the square root, after bias correction (paper and
    PyTorch; Keras/TensorFlow use the paper's "ε-hat" form). With ``amsgrad=True``
    (Reddi, Kale & Kumar 2018) the denominator uses :math:`v^{max}_t = \max(v^{max}_{t-1}, v_t)`,
    the maximum of the raw :math:`v`, bias-corrected afterwards, as in PyTorch.
    ``weight_decay`` adds :math:`\lambda\theta` to the gradient (L2; see :class:`AdamW`).
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    _decoupled = False                                      # AdamW flips this

    def _validate(self):
        super()._validate()
        if not isinstance(self.hyper["amsgrad"], bool):
            raise TypeError(f"amsgrad must be True or False, got {self.hyper['amsgrad']!r}")

    def _init_state(self, p):
        state = {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if self.hyper["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
        return state

    def _update(self, p, g, state):
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), lr = h["betas"], self.lr
        if self._decoupled:
            p *= 1 - lr * h["weight_decay"]                 # θ ← θ(1 - ηλ), AdamW
        else:
            g = self._l2(p, g)                              # g ← g + λθ, L2
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        v *= beta2
        v += (1 - beta2) * g * g                            # v_t = β2 v_{t-1} + (1-β2) g_t²
        if h["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        denom = np.sqrt(v)
        denom /= math.sqrt(bias_correction2)
        denom += h["eps"]                                   # √v̂_t + ε
        _descend(p, lr / bias_correction1, m / denom)       # θ_t = θ_{t-1} - η m̂_t/(√v̂_t + ε)


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay.

    .. math::

        \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)\\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with :math:`\hat m_t, \hat v_t` as in :class:`Adam` computed from the raw gradient.
    Loshchilov & Hutter (2019), *Decoupled weight decay regularization*, ICLR. With L2
    (``Adam(weight_decay=λ)``) the penalty's gradient is divided by :math:`\sqrt{\hat v}`
    like every other gradient, so weights with large gradients are barely decayed;
    decoupling shrinks every weight by the same factor. PyTorch's default λ is 0.01.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
    _decoupled = True


class Adamax(Optimizer):
    r"""AdaMax: Adam with the infinity norm in place of the second moment.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t\\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon)\\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\, m_t / u_t

    Kingma & Ba (2015), §7.1. :math:`u` needs no bias correction. PyTorch adds
    :math:`\epsilon` to :math:`|g_t|` inside the max (the paper has no :math:`\epsilon`).
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def _init_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}

    def _update(self, p, g, state):
        h, t, m, u = self.hyper, state["step"], state["exp_avg"], state["exp_inf"]
        beta1, beta2 = h["betas"]
        g = self._l2(p, g)
        m *= beta1
        m += (1 - beta1) * g                                # m_t = β1 m_{t-1} + (1-β1) g_t
        u *= beta2
        np.maximum(u, np.abs(g) + h["eps"], out=u)          # u_t = max(β2 u_{t-1}, |g_t| + ε)
        _descend(p, self.lr / (1 - beta1 ** t), m / u)      # θ_t = θ_{t-1} - η/(1-β1^t) m_t/u_t


class NAdam(Optimizer):
    r"""NAdam: Adam with Nesterov momentum and a warming momentum schedule.

    .. math::

        \mu_t &= \beta_1\,(1 - \tfrac12\, 0.96^{\,t\,\psi})
            \qquad (\psi = \text{momentum\_decay})\\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t,\qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
        \theta_t &= \theta_{t-1}
            - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
            - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{\sqrt{\hat v_t}+\epsilon}

    with :math:`\hat v_t = v_t/(1-\beta_2^t)`. Dozat (2016), *Incorporating Nesterov
    momentum into Adam*, ICLR workshop; the :math:`\mu_t` schedule follows PyTorch.
    """

    defaults = dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3)

    def _validate(self):
        super()._validate()
        self.hyper["momentum_decay"] = _at_least_zero("momentum_decay", self.hyper["momentum_decay"])

    def _init_state(self, p):
        return {"mu_product": 1.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p, g, state):
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), psi, lr = h["betas"], h["momentum_decay"], self.lr
        g = self._l2(p, g)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))          # μ_t
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu                           # ∏_{i≤t} μ_i
        mu_product = state["mu_product"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / (1 - beta2 ** t))
        denom += h["eps"]                                   # √v̂_t + ε
        _descend(p, lr * (1 - mu) / (1 - mu_product), g / denom)
        _descend(p, lr * mu_next / (1 - mu_product * mu_next), m / denom)


class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive rate is switched on only once its variance is finite.

    .. math::

        \rho_\infty &= \frac{2}{1-\beta_2} - 1,\qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1-\beta_2^t}\\
        \theta_t &= \theta_{t-1} - \eta\,\hat m_t \cdot
        \begin{cases}
            r_t \,\sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5\\
            1 & \text{otherwise (momentum SGD)}
        \end{cases}\\
        r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

    with :math:`m_t, v_t, \hat m_t` as in :class:`Adam`. Liu et al. (2020), *On the
    variance of the adaptive learning rate and beyond*, ICLR. The rectifier
    :math:`r_t` acts as an automatic warm-up. PyTorch adds :math:`\epsilon` to
    :math:`\sqrt{v_t}` before the bias correction. The switch happens at
    :math:`\rho_t > 5`, as in PyTorch and the authors' code (the paper's Algorithm 2
    writes :math:`\rho_t > 4`); with the default :math:`\beta_2` the first adaptive
    step is :math:`t = 6`.
    """

    defaults = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    def _init_state(self, p):
        return {"exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, p, g, state):
        h, t, m, v = self.hyper, state["step"], state["exp_avg"], state["exp_avg_sq"]
        (beta1, beta2), lr = h["betas"], self.lr
        g = self._l2(p, g)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bias_correction2) / (np.sqrt(v) + h["eps"])
            _descend(p, lr * rect / bias_correction1, m * adaptive)
        else:
            _descend(p, lr / bias_correction1, m)           # no adaptive rate yet: momentum SGD
