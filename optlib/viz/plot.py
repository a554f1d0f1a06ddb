r"""The book's one figure style: colours, contours, trajectories, loss curves, animations.

Every figure in the course comes from this module, so the same optimizer has the
same colour on every page and every loss is drawn on the same kind of axis.

Conventions:

* One colour, line style and marker per optimizer (``optlib.optim.registry``), looked
  up with :func:`color` and :func:`line_style`; named colours for everything else
  (:data:`PALETTE`, :data:`BASELINE`).
* Parameters are :math:`\theta = (\theta_1, \theta_2)`; losses are drawn on a
  log axis as the gap :math:`L(\theta_t) - L^\star` when the minimum is known.
* Divergence (``inf``/``nan`` or a run that flies off) is data, not an error:
  the curve or path stops and is marked with a ×, and the label says
  "(diverged)".
* Functions that take ``ax=None`` create a one-panel figure with pyplot and
  return the axes; functions that return a figure (:func:`still`) build it
  without pyplot, so a notebook shows it exactly once (as the cell's value).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import warnings
from collections.abc import Mapping

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from optlib import checks
from optlib.optim import registry

__all__ = [
    "PALETTE",
    "CATEGORICAL",
    "BASELINE",
    "color",
    "line_style",
    "shade",
    "display_name",
    "diverged_at",
    "use_style",
    "contour",
    "plot_trajectory",
    "trajectories",
    "loss_curves",
    "with_spread",
    "animate",
    "still",
]

# Colours of non-optimizer categories (batch sizes, initializations, schedules,
# data orderings, data splits ...). None is an optimizer's colour, so a figure never
# suggests an optimizer that is not there; they are ordered so that the first few
# differ most. Base: Okabe & Ito's reddish purple, goldenrod, tab10's cyan, ColorBrewer
# Paired's purple and Dark2's green.
#: Named colours for things that are not optimizers; none is an optimizer's colour.
PALETTE: dict[str, str] = {
    "pink": "#CC79A7",
    "gold": "#B8860B",
    "cyan": "#17BECF",
    "purple": "#6A3D9A",
    "green": "#66A61E",
    "grey": "#7F7F7F",
}

#: :data:`PALETTE` in order, for ``dict(zip(labels, CATEGORICAL))``.
CATEGORICAL: tuple[str, ...] = tuple(PALETTE.values())

#: The reference run of a comparison that is not about optimizers ("standard
#: training", "without BN", "no noise"): dark grey.
BASELINE = "#404040"


def color(name):
    """Colour of an optimizer (or any label), the same on every page.

    Parameters
    ----------
    name : str
        A book name of ``optlib.optim.registry`` (any case, so ``"adagrad"`` and the
        PyTorch spelling ``"Adagrad"`` work), or a label that starts with one, such as
        ``"Adam, lr=0.01"``. Any other label gets a colour of :data:`CATEGORICAL`
        chosen deterministically from its text.

    Returns
    -------
    str
        A hex colour.
    """
    entry = registry.lookup(name)
    if entry is not None:
        return entry.color
    # hashlib, not hash(): str hashes are salted per process.
    digest = hashlib.md5(str(name).casefold().strip().encode("utf-8")).digest()
    return CATEGORICAL[digest[0] % len(CATEGORICAL)]


def line_style(name):
    """Colour, line style and marker of an optimizer, for ``ax.plot(..., **line_style(name))``.

    Curves drawn with it can be told apart without colour (in print, or by a reader
    with a colour-vision deficiency). Labels are read as by :func:`color`.

    Returns
    -------
    dict
        ``color``, ``linestyle`` and ``marker``; a label that names no optimizer gets
        its :func:`color`, a solid line and no marker.
    """
    entry = registry.lookup(name)
    if entry is None:
        return {"color": color(name), "linestyle": "-", "marker": ""}
    return entry.style


# Alias for functions whose ``color`` argument shadows the function.
_color_of = color


def _mix(hex_color, other, amount):
    a = np.array(mpl.colors.to_rgb(hex_color))
    b = np.array(mpl.colors.to_rgb(other))
    return mpl.colors.to_hex((1 - amount) * a + amount * b)


def shade(name, amount):
    """A lighter or darker shade of a colour, for variants of one optimizer.

    Parameters
    ----------
    name : str
        An optimizer's name (or label, as for :func:`color`) or any matplotlib colour.
    amount : float
        In ``[-1, 1]``: ``0.45`` mixes 45 % white in, ``-0.45`` 45 % black.

    Returns
    -------
    str
        A hex colour.
    """
    amount = checks.real("amount", amount, low=-1, high=1)
    base = name if mpl.colors.is_color_like(name) else color(name)
    return _mix(base, "white" if amount >= 0 else "black", abs(amount))


def _assign_colors(labels, overrides=None):
    """Colours for the labels of one figure: :func:`color`, made unique.

    Labels such as "GD" and "GD, lr=0.5" share a base colour; the second and
    later ones get lighter or darker shades of it, so the family stays
    recognisable and every curve can still be told apart.
    """
    overrides = overrides or {}
    shades = [("white", 0.45), ("black", 0.45), ("white", 0.7), ("black", 0.7), ("white", 0.25)]
    taken, out = [], {}
    for label in labels:
        if label in overrides and overrides[label] is not None:
            out[label] = overrides[label]
            taken.append(mpl.colors.to_hex(overrides[label]))
            continue
        base = _color_of(label)
        candidates = [base] + [_mix(base, towards, amount) for towards, amount in shades]
        # A shade equal to a used colour (e.g. black darkened) is skipped.
        choice = next((c for c in candidates if c not in taken), candidates[len(taken) % len(candidates)])
        out[label] = choice
        taken.append(choice)
    return out


#: The book's name of an optimizer object (``optlib.optim.registry.display_name``).
display_name = registry.display_name


# ---------------------------------------------------------------- style


def use_style():
    """Set the book's figure style (matplotlib ``rcParams``); safe to call again.

    One panel is 7 × 3.6 inches, shown inline at 100 dpi (700 px wide, the
    width of a book page) and saved at 110 dpi; light grid, no top/right
    spines, constrained layout, PNG (not SVG) output so pages stay small.
    The colour cycle is the optimizers' colours, in the book's order.
    """
    # pyplot is imported by this module, so a Jupyter kernel has already
    # installed its inline backend (and its rcParams) before we override them.
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "figure.constrained_layout.use": True,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.grid": True,
            "grid.color": "#d9d9d9",
            "grid.linewidth": 0.6,
            "grid.alpha": 0.7,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": mpl.cycler(color=[registry.get(n).color for n in registry.NAMES]),
            "lines.linewidth": 1.6,
            "image.cmap": "viridis",
            # Animations are embedded as base64 frames: refuse anything larger
            # than a chapter's whole page budget instead of silently bloating it.
            "animation.embed_limit": 5.0,  # MB
            "animation.frame_format": "png",
        }
    )
    try:  # inline figures as PNG only, never an extra SVG/PDF copy
        from IPython import get_ipython

        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("png")
    except ImportError:  # pragma: no cover - IPython is optional for the library
        pass


# ---------------------------------------------------------------- helpers


def _new_ax(ax, figsize=None):
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def _as_path(trajectory_or_path):
    path = getattr(trajectory_or_path, "path", trajectory_or_path)
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"trajectory path must have shape (steps+1, 2), got {path.shape}")
    return path


def _as_losses(values):
    r"""Loss array from an array, a Trajectory or a training History.

    A Trajectory (``losses`` and a finite ``min_value``) gives the gap
    :math:`L(\theta_t) - L^\star`, so a log axis works even where
    :math:`L^\star < 0`.
    """
    if _is_trajectory(values):
        floor = float(values.min_value)
        losses = np.asarray(values.losses, dtype=float)
        return losses - floor if np.isfinite(floor) else losses
    if isinstance(values, Mapping):
        for key in ("loss", "train_loss", "losses"):
            if key in values:
                return np.asarray(values[key], dtype=float)
        raise ValueError(f"losses mapping needs a 'loss' or 'train_loss' key, got {list(values)}")
    for attr in ("losses", "loss", "train_loss"):
        if hasattr(values, attr):
            return np.asarray(getattr(values, attr), dtype=float)
    return np.asarray(values, dtype=float)


def diverged_at(losses, factor=1000.0):
    r"""First step at which a run counts as diverged, or None.

    A run has diverged at step :math:`t` when its loss is no longer finite or
    exceeds ``factor`` times its starting value (for a Trajectory: the gap
    :math:`L(\theta_t) - L^\star` exceeds ``factor`` times the starting gap).
    This is the rule behind every "(diverged)" label and × marker in the book.

    Parameters
    ----------
    losses : ``array_like`` or ``Trajectory``
        Loss per step, starting with step 0, or a Trajectory.
    factor : float
        Growth over the starting value that counts as divergence, > 1.

    Returns
    -------
    int or None
    """
    if not factor > 1:
        raise ValueError(f"factor must be a number > 1, got {factor!r}")
    y = _as_losses(losses).reshape(-1)
    if y.size == 0:
        return None
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(y)
        # The growth test needs a positive, finite start; otherwise only
        # non-finite values count.
        if np.isfinite(y[0]) and y[0] > 0:
            bad |= y > factor * y[0]
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else None


def _figsize_for(surface, legend=True, height=3.6):
    """Figure size that fits an equal-aspect map of the surface plus a legend.

    The default 7-inch-wide figure would leave wide empty margins around a
    square map; this one is only as wide as the map, its labels and legend.
    """
    x0, x1, y0, y1 = _bounds(surface)
    axes_height = height - 0.9  # title above, tick labels and xlabel below
    width = axes_height * (x1 - x0) / (y1 - y0) + 0.8 + (1.7 if legend else 0.0)
    return (float(np.clip(width, 3.0, 9.0)), height)


def _bounds(surface):
    (x0, x1), (y0, y1) = surface.bounds
    return float(x0), float(x1), float(y0), float(y1)


def _segment_exit(p, q, box):
    """Point where the segment p→q (p inside box) leaves the box."""
    x0, x1, y0, y1 = box
    d = q - p
    t = 1.0
    for k, (lo, hi) in enumerate(((x0, x1), (y0, y1))):
        if d[k] > 0:
            t = min(t, (hi - p[k]) / d[k])
        elif d[k] < 0:
            t = min(t, (lo - p[k]) / d[k])
    return p + max(t, 0.0) * d


def _inside(p, box):
    x0, x1, y0, y1 = box
    return x0 <= p[0] <= x1 and y0 <= p[1] <= y1


def _clip_path(path, box, far=100.0):
    """Cut a path where it stops being finite or flies ``far`` box-widths away.

    Returns the kept points and whether the path was cut (the run diverged).
    """
    x0, x1, y0, y1 = box
    wx, wy = x1 - x0, y1 - y0
    far_box = (x0 - far * wx, x1 + far * wx, y0 - far * wy, y1 + far * wy)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(path).all(axis=1)
        ok &= (path[:, 0] >= far_box[0]) & (path[:, 0] <= far_box[1])
        ok &= (path[:, 1] >= far_box[2]) & (path[:, 1] <= far_box[3])
    bad = np.flatnonzero(~ok)
    if bad.size == 0:
        return path, False
    k = bad[0]
    kept = path[:k]
    if k > 0 and np.isfinite(path[k]).all():
        # Keep the direction in which the run escaped, up to the far box.
        kept = np.vstack([kept, _segment_exit(kept[-1], path[k], far_box)])
    return kept, True


def _last_seen(kept, box):
    """Where a path is last seen in the view: its end, or where it last leaves."""
    inside = [i for i in range(len(kept)) if _inside(kept[i], box)]
    if not inside:
        return None
    i = inside[-1]
    return kept[i] if i == len(kept) - 1 else _segment_exit(kept[i], kept[i + 1], box)


def _path_and_divergence(run, box):
    """Kept points, whether the run diverged, and where to put its ×."""
    kept, diverged = _clip_path(_as_path(run), box)
    if _is_trajectory(run):
        diverged = diverged or diverged_at(run) is not None
    if not diverged:
        return kept, False, None
    # Where it leaves a slightly smaller box, so the × is drawn whole.
    x0, x1, y0, y1 = box
    dx, dy = 0.03 * (x1 - x0), 0.03 * (y1 - y0)
    return kept, True, _last_seen(kept, (x0 + dx, x1 - dx, y0 + dy, y1 - dy))


def _is_trajectory(values):
    return hasattr(values, "losses") and hasattr(values, "min_value")


# ---------------------------------------------------------------- contours

# White at the minimum to light grey far away: a neutral backdrop on which
# every optimizer colour keeps its identity.
_BACKDROP = LinearSegmentedColormap.from_list("optlib_backdrop", ["#ffffff", "#eef1f5", "#d3d9e1"])


def _grid_values(surface, resolution):
    x0, x1, y0, y1 = _bounds(surface)
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(surface(np.stack([X, Y], axis=-1)), dtype=float)
    return X, Y, Z


def contour(surface, ax=None, levels=20, log=True, resolution=200, filled=True, minima=True,
            legend_room=False):
    r"""Contours of a test surface over its bounds, minima marked with a star.

    With ``log=True`` the levels are log-spaced values of the gap
    :math:`L(\theta) - L^\star` (:math:`L^\star` is ``surface.min_value``, or
    the smallest value on the grid when that is unknown), so both the steep
    walls and the flat floor of a valley show.

    Parameters
    ----------
    surface : ``Surface``
        Has ``bounds``, ``minima`` (k × 2), ``min_value`` and is callable on
        ``(..., 2)`` arrays.
    ax : ``matplotlib.axes.Axes``, optional
        Drawn into; a new one-panel figure when None.
    levels : int
        Number of contour levels.
    log : bool
        Log-spaced levels of the gap (True) or linear levels of the value.
    resolution : int
        Grid points per axis.
    filled : bool
        Light filled contours under the lines (True) or lines only (smaller
        PNGs, used by :func:`animate`).
    minima : bool
        Mark ``surface.minima`` with a star.
    legend_room : bool
        When a new figure is made, leave room on the right for a legend.

    Returns
    -------
    ``matplotlib.axes.Axes``
    """
    if int(levels) < 2:
        raise ValueError(f"levels must be an integer >= 2, got {levels}")
    if int(resolution) < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution}")
    if ax is None:
        # "compressed" is constrained layout for fixed-aspect axes: it keeps
        # the labels and an outside legend inside the figure.
        _, ax = plt.subplots(figsize=_figsize_for(surface, legend=legend_room), layout="compressed")
    X, Y, Z = _grid_values(surface, int(resolution))
    finite = np.isfinite(Z)
    if not finite.any():
        raise ValueError(f"surface {getattr(surface, 'name', surface)!r} has no finite value on its bounds")
    Z = np.where(finite, Z, np.nanmax(np.where(finite, Z, -np.inf)))

    if log:
        floor = float(getattr(surface, "min_value", np.nan))
        if not np.isfinite(floor) or floor > Z.min():
            floor = float(Z.min())
        gap = Z - floor
        hi = float(gap.max())
        positive = gap[gap > 0]
        lo = max(float(positive.min()) if positive.size else hi, hi * 1e-4)
        if not hi > lo:  # a (nearly) constant surface: nothing to log-space
            log = False
        else:
            lv = np.geomspace(lo, hi, int(levels))
            gap = np.maximum(gap, lo)  # non-positive gaps sit on the lowest level
            kw = dict(levels=lv, norm=LogNorm(lo, hi))
            values = gap
    if not log:
        kw = dict(levels=int(levels))
        values = Z
    if filled:
        ax.contourf(X, Y, values, cmap=_BACKDROP, extend="both", **kw)
    ax.contour(X, Y, values, colors="#98a1ad", linewidths=0.5, alpha=0.8, **kw)

    if minima:
        m = np.asarray(getattr(surface, "minima", np.empty((0, 2))), dtype=float).reshape(-1, 2)
        if len(m):
            ax.plot(
                m[:, 0], m[:, 1], linestyle="none", marker="*", markersize=13,
                markerfacecolor="#FFD23F", markeredgecolor="black", markeredgewidth=0.8,
                zorder=5, label="_minimum",
            )
    x0, x1, y0, y1 = _bounds(surface)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    name = getattr(surface, "name", None)
    if name and not ax.get_title():
        ax.set_title(str(name))
    return ax


# ---------------------------------------------------------------- trajectories


def plot_trajectory(ax, trajectory_or_path, label, color=None, *, markers=True, start=True,
                    mark_divergence=True, **line_kw):
    r"""Draw one optimizer's path :math:`\theta_0, \theta_1, \dots` on a contour.

    The axes limits are kept (call :func:`contour` first). A path that turns
    non-finite or flies far off (100 map widths) is cut there. When the run
    diverged (that, or :func:`diverged_at` of a Trajectory's losses), the
    point where it leaves the view is marked with a × and the label gets
    "(diverged)".

    Parameters
    ----------
    ax : ``matplotlib.axes.Axes``
    trajectory_or_path : ``Trajectory`` or ``array_like``
        Anything with a ``path`` attribute of shape (steps+1, 2), or that array.
    label : str
        Legend label; also picks the colour when ``color`` is None.
    color : str, optional
        Overrides :func:`color` of ``label``.
    markers : bool
        A small dot on every iterate, for paths of at most 100 steps.
    start : bool
        Mark :math:`\theta_0` with a larger hollow circle.
    mark_divergence : bool
        Add the × and "(diverged)" for diverged runs.
    **line_kw
        Passed to ``ax.plot``.

    Returns
    -------
    ``matplotlib.lines.Line2D``
        The path's line (for legends).
    """
    c = color if color is not None else _color_of(label)
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    box = (x0, x1, y0, y1)
    kept, diverged, exit_point = _path_and_divergence(trajectory_or_path, box)
    text = f"{label} (diverged)" if (diverged and mark_divergence) else label
    kw = dict(color=c, linewidth=1.6, label=text, zorder=4)
    # Dots only when every iterate can get one: subsampled dots would
    # suggest step sizes that are not there.
    if markers and 0 < len(kept) <= 101:
        kw.update(marker="o", markersize=2.5)
    kw.update(line_kw)
    (line,) = ax.plot(kept[:, 0], kept[:, 1], **kw)
    if start and len(kept):
        ax.plot(kept[0, 0], kept[0, 1], marker="o", markersize=7, markerfacecolor="white",
                markeredgecolor=c, markeredgewidth=1.6, linestyle="none", zorder=6)
    if diverged and mark_divergence and exit_point is not None:
        ax.plot(exit_point[0], exit_point[1], marker="x", markersize=9, markeredgewidth=2,
                color=c, linestyle="none", zorder=6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return line


def _legend_outside(ax, own_figure, **kw):
    """Legend to the right of a map.

    On a figure made for this one map, a figure legend placed "outside":
    constrained layout reserves its exact width, which an axes legend next to
    an equal-aspect axes does not get. In someone else's figure, an axes
    legend just right of the axes.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if own_figure:
        # borderaxespad keeps the last letters off the figure's edge.
        ax.figure.legend(handles, labels, loc="outside right upper", borderaxespad=1.0, **kw)
    else:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def trajectories(surface, runs, ax=None, colors=None, legend=True, **contour_kw):
    """Contour of a surface with several optimizers' paths on it.

    Parameters
    ----------
    surface : ``Surface``
    runs : dict
        ``{label: Trajectory or (steps+1, 2) array}``, drawn in this order.
    ax : ``matplotlib.axes.Axes``, optional
    colors : dict, optional
        ``{label: colour}`` overriding :func:`color`.
    legend : bool
        Legend outside the right edge.
    **contour_kw
        Passed to :func:`contour` (``levels``, ``log``, ``filled`` ...).

    Returns
    -------
    ``matplotlib.axes.Axes``
    """
    own_figure = ax is None
    ax = contour(surface, ax=ax, legend_room=legend, **contour_kw)
    colors = _assign_colors(list(runs), colors)
    for label, run in runs.items():
        plot_trajectory(ax, run, label, color=colors[label])
    if legend:
        _legend_outside(ax, own_figure)
    return ax


# ---------------------------------------------------------------- loss curves


def _finite_mask(y, log):
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(y)
        if log:
            ok &= y > 0
    return ok


def _plot_curve(ax, x, y, label, c, log, mark_divergence=True, **kw):
    ok = _finite_mask(y, log)
    t = diverged_at(y)
    text = f"{label} (diverged)" if (t is not None and mark_divergence) else label
    # Only finite points are drawn and joined: no gaps, and a run that
    # diverged simply stops at its last finite value.
    (line,) = ax.plot(x[ok], y[ok], color=c, label=text, **kw)
    if t is not None and mark_divergence and ok[: t + 1].any():
        i = np.flatnonzero(ok[: t + 1])[-1]  # where it diverged (or just before)
        ax.plot(x[i], y[i], marker="x", markersize=8, markeredgewidth=2, color=c, linestyle="none")
    return line


def _x_for(x, label, n):
    if x is None:
        return np.arange(n)
    if isinstance(x, Mapping):
        return np.asarray(x[label], dtype=float) if label in x else np.arange(n)
    x = np.asarray(x, dtype=float)
    if len(x) != n:
        raise ValueError(f"x must have one value per loss ({n}), got {len(x)}")
    return x


def _cap_ylim(ax, firsts, log):
    """Keep a blow-up from squashing every other curve against the bottom."""
    firsts = [f for f in firsts if np.isfinite(f) and (f > 0 or not log)]
    if not log or not firsts:
        return
    # Above diverged_at's 1000x, so the x marking a divergence stays in view.
    cap = 1e4 * max(firsts)
    lo, hi = ax.get_ylim()
    if hi > cap:
        ax.set_ylim(lo, cap)


def loss_curves(losses, ax=None, log=True, x=None, xlabel="step", ylabel=None, colors=None,
                legend=True, band="iqr"):
    r"""Loss against step for several runs, on a log axis by default.

    Parameters
    ----------
    losses : dict
        ``{label: values}`` where values is a 1-D array, a Trajectory
        (drawn as the gap :math:`L(\theta_t) - L^\star`), a training
        history (``losses``, ``loss`` or ``train_loss``), or a 2-D array
        (seeds × steps), drawn with :func:`with_spread`.
    ax : ``matplotlib.axes.Axes``, optional
    log : bool
        Log y-axis; values <= 0 cannot be shown there and are skipped.
    x : ``array_like`` or dict, optional
        Common x values, or ``{label: x}``; default ``0, 1, 2, ...``.
    xlabel : str
    ylabel : str, optional
        Default "loss", or :math:`L(\theta_t) - L^\star` when every run is a
        Trajectory.
    colors : dict, optional
        ``{label: colour}`` overriding :func:`color`.
    legend : bool
    band : ``"iqr"`` or ``"minmax"``
        Spread drawn for 2-D values.

    Returns
    -------
    ``matplotlib.axes.Axes``
    """
    ax = _new_ax(ax)
    colors = _assign_colors(list(losses), colors)
    firsts = []
    for label, values in losses.items():
        y = _as_losses(values)
        c = colors[label]
        xs = _x_for(x, label, y.shape[-1])
        if y.ndim == 2:
            with_spread(ax, xs, y, label, c, band=band, log=log)
            firsts.append(np.nanmedian(np.where(np.isfinite(y[:, 0]), y[:, 0], np.nan)) if len(y) else np.nan)
        elif y.ndim == 1:
            _plot_curve(ax, xs, y, label, c, log)
            firsts.append(y[0] if len(y) else np.nan)
        else:
            raise ValueError(f"losses[{label!r}] must be 1-D (steps) or 2-D (seeds × steps), got shape {y.shape}")
    # Autoscaling a log axis around values near 1e300 overflows harmlessly.
    with np.errstate(over="ignore"):
        if log:
            ax.set_yscale("log")
        _cap_ylim(ax, firsts, log)
    if ylabel is None:
        gaps = bool(losses) and all(_is_trajectory(v) for v in losses.values())
        ylabel = r"$L(\theta_t) - L^\star$" if gaps else "loss"
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


def with_spread(ax, x, runs, label, color=None, band="iqr", log=True, alpha=0.2):
    """Median of several seeds with a shaded band (inter-quartile or min–max).

    A seed whose loss is ``nan`` counts as diverged (``+inf``): it pulls the
    upper quantiles up instead of silently dropping out; where the median
    itself is no longer finite the line stops.

    Parameters
    ----------
    ax : ``matplotlib.axes.Axes``
    x : ``array_like`` or None
        Shape (T,); None means ``0 .. T-1``.
    runs : ``array_like``
        Shape (seeds, T).
    label : str
    color : str, optional
        Default :func:`color` of ``label``.
    band : ``"iqr"`` or ``"minmax"``
        25–75 % quantiles or the full range over seeds.
    log : bool
        Whether the axis is (or will be) logarithmic: values <= 0 are skipped.
    alpha : float
        Band opacity.

    Returns
    -------
    ``matplotlib.lines.Line2D``
        The median line.
    """
    runs = np.asarray(runs, dtype=float)
    if runs.ndim != 2 or runs.shape[0] < 1:
        raise ValueError(f"runs must have shape (seeds, T) with seeds >= 1, got {runs.shape}")
    if band not in ("iqr", "minmax"):
        raise ValueError(f"band must be 'iqr' or 'minmax', got {band!r}")
    x = np.arange(runs.shape[1]) if x is None else np.asarray(x, dtype=float)
    if len(x) != runs.shape[1]:
        raise ValueError(f"x must have length T = {runs.shape[1]}, got {len(x)}")
    c = color if color is not None else _color_of(label)
    r = np.where(np.isnan(runs), np.inf, runs)
    # "inverted_cdf" picks actual samples: interpolating towards an inf seed
    # would give 0 * inf = nan.
    q = (0.25, 0.75) if band == "iqr" else (0.0, 1.0)
    lo, hi = np.quantile(r, q, axis=0, method="inverted_cdf")
    med = np.median(r, axis=0)
    ok_band = _finite_mask(lo, log) & _finite_mask(hi, log)
    ax.fill_between(x, np.where(ok_band, lo, np.nan), np.where(ok_band, hi, np.nan),
                    color=c, alpha=alpha, linewidth=0, where=ok_band)
    return _plot_curve(ax, x, med, label, c, log)


# ---------------------------------------------------------------- animation


def _frame_steps(lengths, frames):
    """Step indices shown in each frame: all steps, or ``frames`` evenly spaced."""
    last = max(lengths) - 1
    if last + 1 <= frames:
        return np.arange(last + 1)
    return np.unique(np.round(np.linspace(0, last, frames)).astype(int))


def _race(surface, runs, figsize, dpi, frames, colors, title):
    """The race figure (not pyplot-managed) at its last frame.

    Returns the figure, its axes, the per-frame update function, the artists
    it changes, and the step shown in each frame.
    """
    fig = Figure(figsize=figsize or _figsize_for(surface, height=3.4), dpi=dpi, layout="none")
    ax = fig.add_subplot()
    # Line contours only: PNG frames of lines on white compress several times
    # better than filled gradients.
    contour(surface, ax=ax, levels=14, filled=False, resolution=120)
    if title is not None:
        ax.set_title(title)
    box = (*sorted(ax.get_xlim()), *sorted(ax.get_ylim()))
    colors = _assign_colors(list(runs), colors)
    items = []
    for label, run in runs.items():
        kept, diverged, exit_point = _path_and_divergence(run, box)
        c = colors[label]
        (line,) = ax.plot([], [], color=c, linewidth=1.6, label=f"{label} (diverged)" if diverged else label)
        (head,) = ax.plot([], [], marker="o", markersize=6, color=c, linestyle="none", zorder=6)
        (cross,) = ax.plot([], [], marker="x", markersize=9, markeredgewidth=2, color=c,
                           linestyle="none", zorder=6)
        if len(kept):
            ax.plot(kept[0, 0], kept[0, 1], marker="o", markersize=6, markerfacecolor="white",
                    markeredgecolor=c, linestyle="none", zorder=5)
        items.append((kept, exit_point, line, head, cross))
    steps = _frame_steps([len(_as_path(r)) for r in runs.values()], frames)
    counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left", fontsize=9,
                      bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1.5))
    if items:
        _legend_outside(ax, own_figure=True, fontsize=8)

    def update(i):
        t = int(steps[i])
        for kept, exit_point, line, head, cross in items:
            shown = kept[: t + 1]
            line.set_data(shown[:, 0], shown[:, 1])
            head.set_data(shown[-1:, 0], shown[-1:, 1])
            gone = exit_point is not None and t >= len(kept) - 1
            cross.set_data(*(([exit_point[0]], [exit_point[1]]) if gone else ([], [])))
        counter.set_text(f"step {t}")

    moving = [a for item in items for a in item[2:]] + [counter]
    for artist in moving:
        # Inside the axes anyway; an empty unclipped marker line would
        # otherwise give the layout a bogus bounding box.
        artist.set_in_layout(False)
    update(len(steps) - 1)
    _fit_width(fig)
    return fig, ax, update, moving, steps


def _fit_width(fig, tries=3):
    """Lay out once ("compressed" constrained layout), widening the figure if
    labels or legend would still stick out: an animation's frames are not
    cropped to their contents the way inline figures are."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    for _ in range(tries):
        ConstrainedLayoutEngine(compress=True).execute(fig)
        box = fig.get_tightbbox(renderer)
        width, height = fig.get_size_inches()
        overflow = max(0.0, -box.x0) + max(0.0, box.x1 - width)
        if overflow < 0.01:
            break
        fig.set_size_inches(width + overflow, height)
        renderer = FigureCanvasAgg(fig).get_renderer()


def _animated(fig, ax, moving):
    """Freeze everything that does not move into one background image.

    Contours, ticks, labels and legend are drawn once; each frame then draws
    that image plus a few lines, several times faster than a full redraw.
    """
    for artist in moving:
        artist.set_visible(False)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    background = np.asarray(canvas.buffer_rgba()).copy()
    still_artists = [a for a in ax.get_children() if a not in moving] + list(fig.legends)
    for artist in still_artists:
        artist.set_visible(False)
    for artist in moving:
        artist.set_visible(True)
    fig.figimage(background, 0, 0, origin="upper", zorder=-1)
    # Back to a plain canvas, whose draw_idle does nothing: FuncAnimation
    # calls it after every frame, and savefig draws the frame anyway.
    FigureCanvasBase(fig)
    return fig


_FRAME = re.compile(r'(frames\[\d+\] = "data:image/)(?:tiff|png)(;base64,)([^"]*)(")')


def _quantize_png(image):
    """Re-encode an image (PNG or TIFF bytes) as a PNG with a 64-colour palette.

    A frame is a few line colours plus their anti-aliasing shades, so a
    palette loses nothing visible and the frame shrinks about five-fold.
    """
    from PIL import Image

    with Image.open(io.BytesIO(image)) as im:
        small = im.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE,
                                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    # zlib's default level: optimize=True saves 10 % more and takes 8x longer.
    small.save(out, format="png")
    return out.getvalue()


def _shrink_frames(html, expected):
    """Re-encode every base64 frame of a ``to_jshtml`` player as a palette PNG."""

    def shrink(match):
        # The player writes base64 with a backslash-newline every 76 characters.
        data = base64.b64decode(match.group(3).replace("\\\n", ""))
        png = base64.b64encode(_quantize_png(data)).decode("ascii")
        return match.group(1) + "png" + match.group(2) + png + match.group(4)

    html, count = _FRAME.subn(shrink, html)
    if count != expected:  # browsers cannot show the TIFF frames left behind
        raise RuntimeError(f"re-encoded {count} of {expected} animation frames: "
                           "matplotlib's jshtml format has changed")
    return html


def animate(surface, runs, frames=60, interval=80, dpi=72, figsize=None, colors=None,
            loop=False, title=None):
    """Optimizers racing on a surface, as a JavaScript player for a static page.

    Built with matplotlib's ``FuncAnimation`` and rendered with
    ``to_jshtml()``: the frames are embedded PNGs, so the page plays it with
    no server. Long runs are subsampled to ``frames`` frames. The frames are
    re-encoded as 64-colour PNGs, which keeps 60 frames of 4 optimizers at
    about 0.8 MB; the still parts are drawn once, so that takes about a second.

    Parameters
    ----------
    surface : ``Surface``
    runs : dict
        ``{label: Trajectory or (steps+1, 2) array}``.
    frames : int
        Maximum number of frames.
    interval : int
        Milliseconds per frame.
    dpi : int
        Resolution of each embedded frame (the file size grows with dpi²).
    figsize : tuple, optional
        Inches; default: 3.4 high, as wide as the map and its legend need.
    colors : dict, optional
        ``{label: colour}`` overriding :func:`color`.
    loop : bool
        Loop the playback (False: play once, then stop on the last frame).
    title : str, optional
        Axes title (default: the surface's name).

    Returns
    -------
    ``IPython.display.HTML``
        The player; its ``data`` attribute is the HTML string.
    """
    from IPython.display import HTML

    if int(frames) < 1:
        raise ValueError(f"frames must be an integer >= 1, got {frames}")
    if not interval > 0:
        raise ValueError(f"interval must be a number > 0 (milliseconds), got {interval}")
    fig, ax, update, moving, steps = _race(surface, runs, figsize, dpi, int(frames), colors, title)
    fig = _animated(fig, ax, moving)
    anim = FuncAnimation(fig, update, frames=len(steps), interval=interval, blit=False, repeat=loop)
    limit = float(mpl.rcParams["animation.embed_limit"])
    settings = {
        "savefig.dpi": dpi,  # to_jshtml saves at savefig.dpi
        # Raw TIFF frames (no compression work here) become palette PNGs in
        # _shrink_frames, so the limit is checked on the final size below.
        "animation.frame_format": "tiff",
        "animation.embed_limit": 1e4,
        # savefig re-attaches the rc default layout engine to the figure
        # (matplotlib 3.11), which would lay it out again on every frame.
        "figure.constrained_layout.use": False,
    }
    with mpl.rc_context(settings):
        html = anim.to_jshtml(default_mode="loop" if loop else "once")
    html = _shrink_frames(html, len(steps))
    if len(html) > limit * 2**20:
        warnings.warn(f"animation is {len(html) / 2**20:.1f} MB, above animation.embed_limit = "
                      f"{limit} MB; lower frames, dpi or figsize", stacklevel=2)
    # The figure was never registered with pyplot, so the notebook shows only
    # the player; closing releases it in case a backend adopted it.
    plt.close(fig)
    return HTML(html)


def still(surface, runs, dpi=None, figsize=None, colors=None, title=None):
    """The last frame of :func:`animate` as a figure (for slides and print).

    Parameters are those of :func:`animate`; ``dpi`` defaults to the
    ``figure.dpi`` setting.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot: displayed once when it is a cell's value.
    """
    fig, _, _, _, _ = _race(surface, runs, figsize, dpi or mpl.rcParams["figure.dpi"], 10**9,
                            colors, title)
    return fig
