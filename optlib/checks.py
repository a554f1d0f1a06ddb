"""Argument checks shared by all of optlib: one place, one wording.

Every public function and class of optlib checks its arguments with these, so that a
reader who mistypes a hyper-parameter gets an error that names the argument and the
range it accepts, instead of a silent ``nan`` later. Each returns the value converted
to a plain Python type (``float``, ``int``, ``bool``).

    lr = checks.real("lr", lr, low=0)                    # [0, inf)
    beta = checks.real("momentum", beta, low=0, high=1, high_open=True)   # [0, 1)
    steps = checks.integer("steps", steps, low=1)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["real", "integer", "boolean", "one_of", "interval"]


def interval(low=None, high=None, *, low_open=False, high_open=False):
    """The text of a range, e.g. ``"a number in [0, 1)"`` or ``"a finite number > 0"``."""
    if low is not None and high is not None:
        return (f"a number in {'(' if low_open else '['}{low:g}, "
                f"{high:g}{')' if high_open else ']'}")
    if low is not None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite real number"


def real(name, value, low=None, high=None, *, low_open=False, high_open=False,
         finite=True, rule=None):
    """``value`` as a float, if it is a real number (not a bool) in the range.

    ``rule`` replaces the generated description of the range in the message.
    With ``finite=False``, ``inf`` passes (where it means "no limit").
    """
    rule = rule or interval(low, high, low_open=low_open, high_open=high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {rule}, got {value!r} ({type(value).__name__})")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def integer(name, value, low=None, high=None, *, allow_none=False):
    """``value`` as an int, if it is an integer (not a bool) in ``[low, high]``."""
    if value is None and allow_none:
        return None
    parts = [f">= {low}" if low is not None else "", f"<= {high}" if high is not None else ""]
    rule = "an integer " + " and ".join(p for p in parts if p) + (" or None" if allow_none else "")
    rule = rule.strip()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {rule}, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return value


def boolean(name, value):
    """``value`` if it is ``True`` or ``False`` (NumPy booleans too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value
