r"""The book's optimizers by name: class and settings, colour, line style, marker.

The course calls its optimizers by the names of their papers ("AdaGrad", "Nesterov",
"AMSGrad"), not by PyTorch's class names; several of them are one class with one
setting changed (``SGD(momentum=0.9)`` is "Momentum", ``Adam(amsgrad=True)`` is
"AMSGrad"). This module is the one place that says so. For each name it holds

* the class and the settings that make the variant (every other hyper-parameter keeps
  PyTorch's default, e.g. AdamW's ``weight_decay=0.01``);
* its colour, the same in every figure of the book;
* a line style and a marker, so that curves can be told apart without colour.

The twelve optimizers of chapters 1-6 are :data:`NAMES`, in the book's order; chapter
11's four after Adam ("Adafactor", "Muon", "Lion", "Schedule-free AdamW") are
:data:`AFTER_ADAM`, entries of :data:`OPTIMIZERS` too; "GD" (full-batch gradient
descent) is another name for "SGD" (:data:`ALIASES`). Use::

    from optlib.optim import registry
    registry.make("Nesterov", lr=0.05)       # SGD(lr=0.05, momentum=0.9, nesterov=True)
    registry.get("AdaGrad").color            # '#009E73'
    registry.display_name(Adam(amsgrad=True))   # 'AMSGrad'

Colours: Okabe & Ito (2008), a palette designed for colour-vision deficiency, extended
with tab10's brown, Tol's wine and IBM's violet; grouped by family (plain descent
near-black, momentum blues, AdaGrad green, RMSprop and AdaDelta orange and brown, the
Adam family reds, purples and navy). Figures live in ``optlib.viz.plot``, which reads
this module; this module imports nothing from ``viz``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from optlib.optim.adadelta import Adadelta
from optlib.optim.adafactor import Adafactor
from optlib.optim.adagrad import Adagrad
from optlib.optim.adam import Adam
from optlib.optim.adamax import Adamax
from optlib.optim.adamw import AdamW
from optlib.optim.lion import Lion
from optlib.optim.muon import Muon
from optlib.optim.nadam import NAdam
from optlib.optim.radam import RAdam
from optlib.optim.rmsprop import RMSprop
from optlib.optim.schedule_free import AdamWScheduleFree
from optlib.optim.sgd import SGD

__all__ = ["Entry", "OPTIMIZERS", "NAMES", "AFTER_ADAM", "ALIASES", "get", "lookup", "make", "default_lr",
           "register", "display_name"]


@dataclass(frozen=True)
class Entry:
    """One optimizer of the book: how to build it and how to draw it.

    Attributes
    ----------
    name : str
        The book's name, e.g. ``"Nesterov"``.
    cls : type
        The optlib class, e.g. ``optlib.optim.SGD``.
    settings : Mapping
        Keyword arguments besides ``lr`` that make this variant, e.g.
        ``{"momentum": 0.9, "nesterov": True}``.
    color : str
        Hex colour.
    linestyle : str
        Matplotlib line style (``"-"``, ``"--"``, ``"-."``, ``":"``).
    marker : str
        Matplotlib marker.
    """

    name: str
    cls: type
    settings: Mapping = field(default_factory=dict)
    color: str = "#7F7F7F"
    linestyle: str = "-"
    marker: str = "o"

    def __post_init__(self):
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))

    def make(self, lr=None):
        """A fresh optimizer; ``lr=None`` keeps the class's PyTorch default."""
        if lr is None:
            return self.cls(**self.settings)
        return self.cls(lr=float(lr), **self.settings)

    @property
    def default_lr(self):
        """PyTorch's default learning rate of the class."""
        return float(self.cls.defaults["lr"])

    @property
    def style(self):
        """``dict(color=..., linestyle=..., marker=...)``, to pass to ``ax.plot``."""
        return {"color": self.color, "linestyle": self.linestyle, "marker": self.marker}


def _entry(name, cls, settings, color, linestyle, marker):
    return name, Entry(name, cls, settings, color, linestyle, marker)


# Within each of chapter 6's groups of three the line styles differ; every marker is
# used once. Every pair of colours differs by a CIELAB distance >= 26 for normal vision.
#: The book's optimizers, name -> :class:`Entry`, in the book's order (:func:`register`
#: adds more).
OPTIMIZERS: dict[str, Entry] = dict([
    _entry("SGD", SGD, {}, "#222222", "-", "o"),
    _entry("Momentum", SGD, {"momentum": 0.9}, "#0072B2", "--", "s"),            # Okabe-Ito blue
    _entry("Nesterov", SGD, {"momentum": 0.9, "nesterov": True}, "#56B4E9", "-.", "^"),  # sky blue
    _entry("AdaGrad", Adagrad, {}, "#009E73", "-", "D"),                         # bluish green
    _entry("RMSprop", RMSprop, {}, "#E69F00", "--", "v"),                        # orange
    _entry("AdaDelta", Adadelta, {}, "#8C564B", ":", "P"),                       # tab10 brown
    _entry("Adam", Adam, {}, "#D55E00", "-", "X"),                               # vermillion
    _entry("AdaMax", Adamax, {}, "#785EF0", "--", "<"),                          # IBM violet
    _entry("NAdam", NAdam, {}, "#882255", "-.", ">"),                            # Tol wine
    _entry("AMSGrad", Adam, {"amsgrad": True}, "#8B008B", ":", "h"),             # dark magenta
    _entry("AdamW", AdamW, {}, "#A50026", "--", "d"),                            # dark red
    _entry("RAdam", RAdam, {}, "#000080", "-.", "*"),                            # navy
])

#: The twelve optimizers of the book, in its order.
NAMES: tuple[str, ...] = tuple(OPTIMIZERS)

# Chapter 11's methods after Adam: not in NAMES (chapter 6's race and the figures' colour
# cycle are the twelve). Colours: Tol's olive, ColorBrewer BrBG's dark teal, IBM's
# magenta and blue; every pair of the sixteen colours still differs by a CIELAB
# distance >= 26, and each is >= 25 from the non-optimizer palette of optlib.viz.plot.
OPTIMIZERS.update([
    _entry("Adafactor", Adafactor, {}, "#999933", "-", "p"),                     # Tol olive
    _entry("Muon", Muon, {}, "#01665E", "--", "H"),                              # BrBG dark teal
    _entry("Lion", Lion, {}, "#DC267F", "-.", "8"),                              # IBM magenta
    _entry("Schedule-free AdamW", AdamWScheduleFree, {}, "#648FFF", ":", "x"),   # IBM blue
])

#: Chapter 11's four optimizers after Adam, in its order (entries of :data:`OPTIMIZERS`).
AFTER_ADAM: tuple[str, ...] = ("Adafactor", "Muon", "Lion", "Schedule-free AdamW")

#: Other names of the same entries; "GD" is SGD on the whole data set.
ALIASES: dict[str, str] = {"GD": "SGD"}


def _by_key():
    keys = {name.casefold(): entry for name, entry in OPTIMIZERS.items()}
    keys.update({alias.casefold(): OPTIMIZERS[name] for alias, name in ALIASES.items()})
    return keys


def get(name):
    """The :class:`Entry` of a book name or alias, in any case (``"adagrad"`` works).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    entry = _by_key().get(str(name).casefold().strip())
    if entry is None:
        raise ValueError(f"name must be one of {list(OPTIMIZERS) + list(ALIASES)}, got {name!r}")
    return entry


def lookup(label):
    """The :class:`Entry` a figure label names, or None.

    A label is the name itself (any case, or an alias) or starts with it followed by a
    non-letter, such as ``"Adam, lr=0.01"``; the longest name wins, so ``"AdamW ..."``
    is AdamW and ``"Adamant"`` is nothing.
    """
    key = str(label).casefold().strip()
    keys = _by_key()
    if key in keys:
        return keys[key]
    for known in sorted(keys, key=len, reverse=True):
        if key.startswith(known) and not key[len(known)].isalnum():
            return keys[known]
    return None


def make(name, lr=None):
    r"""A fresh optimizer by its book name.

    Parameters
    ----------
    name : str
        A key of :data:`OPTIMIZERS` or :data:`ALIASES`, e.g. ``"Nesterov"``.
    lr : float, optional
        Learning rate :math:`\eta`; ``None`` keeps the class's PyTorch default.

    Returns
    -------
    ``Optimizer``
        E.g. ``make("AMSGrad", 0.1)`` is ``Adam(lr=0.1, amsgrad=True)``.
    """
    return get(name).make(lr)


def default_lr(name):
    """PyTorch's default learning rate of a book optimizer (``lr`` of ``make(name)``)."""
    return get(name).default_lr


def register(name, cls, settings=None, *, color=None, linestyle="-", marker="o"):
    """Add an optimizer under a new book name (e.g. a variant for an exercise).

    Parameters
    ----------
    name : str
        The new name; must not be taken.
    cls : type
        An optimizer class with ``defaults`` (e.g. ``optlib.optim.Adam``).
    settings : dict, optional
        Keyword arguments besides ``lr``.
    color : str, optional
        Default: the colour of the optimizer the name starts with (``"Adam, β₂ =
        0.99"`` gets Adam's), else grey.
    linestyle, marker : str
        How its curves are drawn.

    Returns
    -------
    Entry
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if name.casefold().strip() in _by_key():
        raise ValueError(f"name {name!r} is already registered")
    if not isinstance(cls, type) or "lr" not in getattr(cls, "defaults", {}):
        raise TypeError(f"cls must be an optimizer class with defaults['lr'], got {cls!r}")
    if color is None:
        family = lookup(name)
        color = family.color if family is not None else "#7F7F7F"
    entry = Entry(name, cls, settings or {}, color, linestyle, marker)
    OPTIMIZERS[name] = entry
    return entry


def display_name(optimizer):
    """The book's name of an optimizer object, used as its label and colour key.

    ``SGD`` with ``momentum > 0`` is "Momentum" (or "Nesterov" with
    ``nesterov=True``); ``Adam`` or ``AdamW`` with ``amsgrad=True`` is "AMSGrad"; other
    classes map their PyTorch names to the book's spelling ("Adagrad" -> "AdaGrad",
    "AdamWScheduleFree" -> "Schedule-free AdamW"). Any other object gets its class name.

    Parameters
    ----------
    optimizer : ``object``
        An optlib optimizer (hyper-parameters read from its ``hyper`` dict, or from
        attributes, so a torch optimizer works too).

    Returns
    -------
    str
    """

    def hyper(name, default):
        # optlib keeps the values in ``hyper``; ``defaults`` are only the class's
        # torch defaults, so they come last.
        for where in ("hyper", "defaults"):
            values = getattr(optimizer, where, None)
            if isinstance(values, Mapping) and name in values:
                if where == "defaults" and hasattr(optimizer, name):
                    break
                return values[name]
        return getattr(optimizer, name, default)

    cls = type(optimizer).__name__
    if cls.casefold() == "sgd":
        if hyper("nesterov", False):
            return "Nesterov"
        return "Momentum" if hyper("momentum", 0.0) else "SGD"
    if cls.casefold() in ("adam", "adamw") and hyper("amsgrad", False):
        return "AMSGrad"
    for known in NAMES:
        if known.casefold() == cls.casefold():
            return known
    for known in AFTER_ADAM:                    # "AdamWScheduleFree" -> "Schedule-free AdamW"
        if OPTIMIZERS[known].cls.__name__.casefold() == cls.casefold():
            return known
    return cls
