r"""``Module``, the base class of every layer: a mode flag, ``__call__``, parameter dicts.

Every module has

* ``forward(x)`` (also ``module(x)``), which saves what the backward pass needs;
* ``backward(dout)``, which takes :math:`\partial L / \partial y` and returns
  :math:`\partial L / \partial x`, and stores the gradients of the module's parameters;
* ``parameters()`` and ``gradients()``: dicts name -> array with the same keys
  (``"0.weight"``, ``"0.bias"``, ... for a ``Sequential``, as in PyTorch's
  ``state_dict``). They hold the *live* arrays, so they plug straight into an optimizer
  that updates in place.

Gradients are **overwritten**, not accumulated: ``backward`` writes into the same
gradient arrays every time, so there is no need for ``zero_grad`` between steps
(unlike PyTorch, where ``.grad`` accumulates).

What ``forward`` saves for ``backward`` is the module's own: a layer that needs its
input (``Linear``) or its output (``Tanh``, ``Sigmoid``) keeps a copy, so changing the
caller's array in place between ``forward`` and ``backward`` cannot corrupt the
gradient (PyTorch raises an error in that case; the copy costs about 1 % of a step).
"""

import numpy as np

__all__ = ["Module"]


def _check_batch(x, features, name="x"):
    """Refuse anything but a ``(batch, features)`` ndarray, naming the argument."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array of shape (batch, {features}), "
                        f"got {type(x).__name__}")
    if x.ndim != 2 or x.shape[1] != features:
        raise ValueError(f"{name} must have shape (batch, {features}), got {x.shape}")


def _check_array(x, name="x"):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(x).__name__}")


class Module:
    r"""Base class: a mode flag, ``__call__`` = ``forward``, and parameter dicts.

    Subclasses implement ``forward(x)`` and ``backward(dout, input_grad=True)``.
    ``input_grad=False`` lets a layer skip computing :math:`\partial L/\partial x`
    when nobody needs it (the first layer of a network: the data are not trained);
    it then returns ``None``.
    """

    training = True

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dout, input_grad=True):  # pragma: no cover - abstract
        raise NotImplementedError

    def _saved(self, value):
        """What ``forward`` saved for ``backward``; a clear error if ``forward`` never ran."""
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward() was called before forward(): "
                               "run forward(x) first, it saves what backward needs")
        return value

    def parameters(self):
        """Dict name -> live parameter array: the layer's ``weight`` and ``bias`` (torch's
        names), those it has and that are not ``None``; empty for parameter-free layers."""
        return {name: getattr(self, name) for name in ("weight", "bias")
                if getattr(self, name, None) is not None}

    def gradients(self):
        """Dict with the keys of ``parameters()`` -> live gradient arrays (``<name>_grad``)."""
        return {name: getattr(self, f"{name}_grad") for name in self.parameters()}

    def buffers(self):
        """Dict name -> live state array that is not trained (BN's running statistics)."""
        return {}

    def zero_grad(self):
        """Set all gradients to zero. Not needed in a loop: ``backward`` overwrites them."""
        for g in self.gradients().values():
            g.fill(0)

    def train(self, mode=True):
        """Switch to training mode (``mode=True``) or evaluation mode; returns ``self``.

        Only layers that behave differently in the two modes (batch normalization,
        chapter 8) look at the flag.
        """
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def state_dict(self):
        """Copies of the parameters and buffers, dict name -> array (for early stopping)."""
        return {name: a.copy() for name, a in {**self.parameters(), **self.buffers()}.items()}

    def load_state_dict(self, state):
        """Copy ``state`` into the live parameter and buffer arrays (their identity is kept).

        Parameters
        ----------
        state : dict
            Name -> array with exactly the keys and shapes of ``state_dict()``.
        """
        params = {**self.parameters(), **self.buffers()}
        if set(state) != set(params):
            raise ValueError(
                f"state keys must be {sorted(params)}, got {sorted(state)}"
            )
        for name, p in params.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"state[{name!r}] must have shape {p.shape}, got {value.shape}")
            np.copyto(p, value)


def _check_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    return dtype
