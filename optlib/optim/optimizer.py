r"""The ``Optimizer`` base class: what every optimizer of ``optlib.optim`` shares.

An optimizer of this package is the update rule of the ``torch.optim`` class of the
same name (PyTorch's plain single-tensor code path, ``foreach=False``), written in
NumPy. This module holds everything around that rule, so that a file such as
``sgd.py`` or ``adam.py`` holds only the rule:

* ``Optimizer``: the hyper-parameters (validated whenever they are set), one state
  dict (and one step count) per array, ``step``, ``state_dict`` / ``load_state_dict``;
* ``HyperParameters``: the mapping ``opt.hyper`` that checks every value set in it;
* ``_pairs``: matching ``params`` with ``grads`` and checking them;
* ``_descend``: the last line of every rule, :math:`\theta \leftarrow \theta - c\,d`,
  in place, with BLAS where BLAS can write in place;
* ``OptimizerWrapper``: the base of objects that stand in for an optimizer.

Notation (COURSE.md §5): :math:`\theta` parameters, :math:`g_t` the gradient at step
:math:`t` (counted from 1), :math:`\eta` the learning rate ``lr``, :math:`m_t, v_t` the
first and second moment estimates ``exp_avg, exp_avg_sq``, :math:`\epsilon` ``eps``,
:math:`\lambda` ``weight_decay``. All operations are element-wise.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy.linalg import blas as _blas

from optlib import checks

__all__ = ["Optimizer", "OptimizerWrapper", "HyperParameters"]


# --------------------------------------------------------------------------- checks

def _flag(name, value):
    """``value`` as a bool: ``True``, ``False``, or the integers 1 and 0.

    PyTorch takes any value's truth (``nesterov="no"`` is true there); optlib accepts
    what means a yes or a no and rejects the rest with an error naming the argument.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value in (0, 1):
        value = bool(value)
    return checks.boolean(name, value)


class HyperParameters(dict):
    """An optimizer's hyper-parameters: a dict that validates every value set in it.

    ``opt.hyper["momentum"] = 0.5`` checks the new value (and its consistency with the
    others, e.g. SGD's ``nesterov`` needs ``momentum > 0``) exactly as the constructor
    would, and leaves the dict unchanged if the value is rejected; ``update`` checks
    several values together. Keys cannot be added or removed: they are the optimizer's
    arguments. Reading is a plain dict's (the update rules read it at every step).
    """

    __slots__ = ("_owner",)

    def __init__(self, owner, values):
        values = dict(values)
        owner._validate(values)                         # normalises in place, or raises
        super().__init__(values)
        self._owner = owner

    def __setitem__(self, name, value):
        self.update({name: value})

    def update(self, other=(), /, **kwargs):
        """Set several values at once; they are checked together."""
        new = dict(other, **kwargs)
        unknown = new.keys() - self.keys()
        if unknown:
            raise KeyError(f"{type(self._owner).__name__} has no hyper-parameter(s) "
                           f"{sorted(unknown)}; it has {list(self)}")
        values = {**self, **new}
        self._owner._validate(values)
        dict.update(self, values)

    def __ior__(self, other):
        self.update(other)
        return self

    def setdefault(self, name, default=None):
        if name not in self:
            raise KeyError(f"{type(self._owner).__name__} has no hyper-parameter {name!r}")
        return self[name]

    def _fixed(self, *args, **kwargs):
        """Refused: an optimizer's hyper-parameters cannot be removed, only set."""
        raise TypeError("hyper-parameters cannot be removed; set a value instead")

    __delitem__ = pop = popitem = clear = _fixed

    def copy(self):
        """A plain ``dict`` with the same values."""
        return dict(self)

    def __reduce__(self):                              # copy.deepcopy and pickle
        return (HyperParameters, (self._owner, dict(self)))


# --------------------------------------------------------------------------- params and grads

def _pairs(params, grads):
    """Match ``params`` with ``grads``: returns a list of (key, param, grad).

    Pairs whose grad is ``None`` are left out (that array skips the step).
    """
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


def _overlaps(a, b):
    """Whether two arrays share memory (an undecidable case counts as sharing)."""
    if a.size == 0 or b.size == 0 or not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100_000))
    except np.exceptions.TooHardError:
        return True


# --------------------------------------------------------------------------- the last line

_AXPY = {np.dtype(np.float32): _blas.saxpy, np.dtype(np.float64): _blas.daxpy}


def _descend(p, step_size, direction):
    """``p -= step_size * direction`` in place: the last line of every optimizer.

    NumPy needs two passes over memory and a temporary for ``p -= c * d``; PyTorch's
    ``p.add_(d, alpha=-c)`` needs one. For plain SGD, whose whole step is this line,
    that is the optimizer's speed, so we call BLAS's fused axpy (y += a·x) instead, on
    a flat view of ``p``. BLAS writes in place only into a non-empty, C-contiguous,
    aligned array of its own dtype (native byte order); for any other array (a strided
    view, an unaligned buffer, a big-endian or empty array) f2py would work on a copy
    and the update would be lost, so those take NumPy's in-place path.
    """
    axpy = _AXPY.get(p.dtype)
    if (axpy is not None and p.size > 0 and p.flags.c_contiguous and p.flags.aligned
            and direction.dtype == p.dtype):
        axpy(direction.reshape(-1), p.reshape(-1), a=-step_size)  # a view: updates p
    else:
        p -= step_size * direction


# --------------------------------------------------------------------------- base class

class Optimizer:
    r"""Base class: the bookkeeping every optimizer shares.

    Use::

        opt = Adam(lr=1e-3)
        opt.step(params, grads)     # both dict name -> ndarray, or both lists of ndarrays

    ``step`` updates the arrays of ``params`` **in place**, keeps one state (and one
    step count) per array, as PyTorch does, and preserves the dtype: float32 stays
    float32. A grad that is ``None`` skips its array for that step. ``state_dict`` /
    ``load_state_dict`` let a resumed run continue bit for bit. Divergence is not an
    error: inf and nan propagate, so a chapter can show them.

    **Hyper-parameters** are keyword arguments, with PyTorch's names and defaults;
    they live in ``opt.hyper``, a dict that checks every value set in it
    (``opt.hyper["momentum"] = -1`` raises, as ``SGD(momentum=-1)`` does), and
    ``opt.lr`` is a shortcut for ``opt.hyper["lr"]`` (what schedules change).

    **State belongs to positions, not to arrays.** The state is keyed by the dict key
    or list index of each array, as PyTorch keys it by the parameter's place in its
    group. An optimizer checks that the shapes and dtypes of ``params`` stay those its
    state was made for, but it cannot tell two models apart: reusing one optimizer for
    a second model with the same shapes silently carries the first model's momentum,
    moment estimates and step counts over. Create a new optimizer for each model (or
    each fresh start), or reset one with ``opt.load_state_dict(fresh_state_dict)``.

    **One array, one entry.** Passing the same array twice, or two views that overlap,
    updates the shared memory twice per step; ``step`` warns (PyTorch warns for a
    duplicate parameter too) and goes on.

    Subclassing: list the arguments and PyTorch's defaults in ``defaults``, check them
    in ``_validate(h)`` (which normalises the dict ``h`` in place or raises), create the
    per-array state in ``_init_state(p)`` and write the rule in ``update(p, g, state)``.

    Differences from torch.optim, for every optimizer here: parameters and gradients
    are given to ``step`` rather than to the constructor, so there are no parameter
    groups, no closure, and no ``foreach``, ``fused``, ``capturable`` or
    ``differentiable`` options (the single-tensor path is the one computed); every
    argument is keyword-only; hyper-parameters must be finite real numbers (PyTorch
    also accepts ``inf``, and ``nan`` where its check is a one-sided comparison) and
    flags ``True``, ``False``, 1 or 0 (PyTorch takes any value's truth).
    """

    defaults: dict = {}

    def __init__(self, **hyper):
        unknown = hyper.keys() - self.defaults.keys()
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}; "
                            f"it takes {list(self.defaults)}")
        self.hyper = HyperParameters(self, {**self.defaults, **hyper})
        self.state = {}             # key -> {"step": int, arrays...}
        self._signature = None      # key -> (shape, dtype) of the arrays the state belongs to
        self._checked_ids = None    # the arrays last checked for shared memory

    # The learning rate is what schedules change, so it has an attribute of its own.
    @property
    def lr(self):
        """The learning rate :math:`\\eta` used by the next ``step``."""
        return self.hyper["lr"]

    @lr.setter
    def lr(self, value):
        self.hyper["lr"] = value

    def _validate(self, h):
        """Check the hyper-parameters ``h`` (a dict), converting them in place; or raise.

        The base class checks the arguments several optimizers share; a subclass
        checks its own after calling this.
        """
        h["lr"] = checks.real("lr", h["lr"], low=0)
        for name in ("weight_decay", "eps"):
            if name in h:
                h[name] = checks.real(name, h[name], low=0)
        for name in ("maximize", "decoupled_weight_decay", "amsgrad"):
            if name in h:
                h[name] = _flag(name, h[name])
        if "betas" in h:
            betas = h["betas"]
            if not isinstance(betas, (tuple, list)) or len(betas) != 2:
                raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
            h["betas"] = tuple(checks.real(f"betas[{i}]", beta, low=0, high=1, high_open=True)
                               for i, beta in enumerate(betas))

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
        self._warn_if_shared(params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for key, p, g in pairs:
                state = self.state.get(key)
                if state is None:
                    state = self.state[key] = {"step": 0, **self._init_state(p)}
                state["step"] += 1
                self.update(p, g, state)

    def update(self, p, g, state):
        """The update rule: change ``p`` in place, given its gradient ``g`` and ``state``.

        ``state`` is this array's own dict (what ``_init_state`` made, plus ``"step"``,
        already counting this step: :math:`t`, from 1). ``g`` must not be modified.
        """
        raise NotImplementedError

    def regularized_gradient(self, p, g):
        r"""The gradient a rule follows: the sign for ``maximize``, then weight decay.

        .. math::

            g_t &\leftarrow -g_t \quad\text{if maximize}\\
            g_t &\leftarrow g_t + \lambda\theta_{t-1}
                \quad\text{(L2, the default: the penalty } \tfrac{\lambda}{2}\|\theta\|^2)\\
            \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \eta\lambda)
                \quad\text{(decoupled, if decoupled\_weight\_decay; } g_t \text{ unchanged)}

        The decoupled form is AdamW's (Loshchilov and Hutter, 2019): the decay shrinks
        :math:`\theta` directly instead of entering the adaptive denominators. It is the
        first line of every rule here, as in ``torch.optim``; ``g`` itself is never
        modified (a new array is returned), ``p`` is shrunk in place.
        """
        h = self.hyper
        if h["maximize"]:
            g = -g                                          # maximize f: descend on -f
        wd = h["weight_decay"]
        if wd != 0:
            if h.get("decoupled_weight_decay", False):
                p *= 1 - h["lr"] * wd                       # θ ← θ(1 - ηλ)
            else:
                g = g + wd * p                              # g ← g + λθ (L2)
        return g

    def _init_state(self, p):
        return {}

    # -- bookkeeping -------------------------------------------------------------
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

    def _warn_if_shared(self, params):
        """Warn once per set of arrays if two entries of ``params`` share memory."""
        ids = tuple(map(id, params.values() if isinstance(params, dict) else params))
        if ids == self._checked_ids:
            return
        self._checked_ids = ids
        keyed = list(params.items() if isinstance(params, dict) else enumerate(params))
        for i, (key, p) in enumerate(keyed):
            for other, q in keyed[:i]:
                if p is q:
                    warnings.warn(f"params[{key!r}] is the same array as params[{other!r}]: "
                                  "each step updates it twice; pass every array once",
                                  UserWarning, stacklevel=3)
                elif _overlaps(p, q):
                    warnings.warn(f"params[{key!r}] and params[{other!r}] share memory: each "
                                  "step updates the shared part twice; pass arrays that do not "
                                  "overlap", UserWarning, stacklevel=3)

    @staticmethod
    def _describe(signature):
        return "{" + ", ".join(f"{k!r}: {s} {np.dtype(d).name}" for k, (s, d) in signature.items()) + "}"

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
        """Restore a ``state_dict``; the next ``step`` continues exactly where it stopped.

        A hyper-parameter the saved dict lacks (one added to optlib since it was saved,
        such as ``maximize``) takes its default, as in PyTorch.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "optimizer" not in state_dict:
            raise TypeError("state_dict must be a dict made by Optimizer.state_dict()")
        missing = [k for k in ("hyper", "signature", "state") if k not in state_dict]
        if missing:
            raise ValueError(f"state_dict lacks {missing}: it must be a dict made by "
                             f"Optimizer.state_dict()")
        if state_dict["optimizer"] != name:
            raise ValueError(f"state_dict is from {state_dict['optimizer']}, cannot load it into {name}")
        signature = state_dict["signature"]
        if self._signature is not None and signature is not None and signature != self._signature:
            raise ValueError("state_dict belongs to different params: expected "
                             f"{self._describe(self._signature)}, got {self._describe(signature)}")
        unknown = set(state_dict["hyper"]) - set(self.defaults)
        if unknown:
            raise ValueError(f"state_dict has hyper-parameter(s) {sorted(unknown)} that {name} "
                             f"does not take; it takes {list(self.defaults)}")
        hyper = HyperParameters(self, {**self.defaults, **state_dict["hyper"]})   # or raises
        self._check_state_arrays(state_dict["state"], signature)
        self.hyper = hyper
        self._signature = None if signature is None else dict(signature)
        self.state = {k: {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
                      for k, s in state_dict["state"].items()}

    @staticmethod
    def _check_state_arrays(state, signature):
        if signature is None:
            return
        for key, entries in state.items():
            if key not in signature:
                raise ValueError(f"state_dict has state for params[{key!r}], which its "
                                 f"signature does not list")
            shape, dtype = signature[key]
            for n, v in entries.items():
                if isinstance(v, np.ndarray) and (v.shape != tuple(shape) or v.dtype.str != dtype):
                    raise ValueError(
                        f"state_dict's state[{key!r}][{n!r}] is {v.dtype.name} {v.shape}, but "
                        f"params[{key!r}] is {np.dtype(dtype).name} {tuple(shape)}")


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
