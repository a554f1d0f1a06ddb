r"""Explorers: sliders that rerun an optimizer on a test surface.

A chapter shows the static figure at the default settings with
:func:`explorer_figure` (the book's pages cannot run Python) and then offers
the live version with :func:`surface_explorer`, whose output is removed on the
site and which the reader runs on Binder, Colab or a local Jupyter::

    make = lambda lr, momentum: SGD(lr=lr, momentum=momentum)
    explorer_figure(Rosenbrock(), make(lr=1e-3, momentum=0.9))       # the page
    surface_explorer(Rosenbrock(), make,
                     {"lr": log_slider("η (lr)", 1e-4, 1e-2, 1e-3),
                      "momentum": (0.0, 0.99, 0.01, 0.9)})               # the live cell

Both are pure functions of their arguments; the explorer also works without a
display (its last figure is kept in ``Explorer.figure``), so tests can drive it.
"""

from __future__ import annotations

import inspect
import math
import numbers

import ipywidgets as widgets
import numpy as np
from IPython import get_ipython
from IPython.display import clear_output, display
from matplotlib.figure import Figure

from optlib.viz.plot import color as optimizer_color
from optlib.viz.plot import contour, display_name, diverged_at, loss_curves, plot_trajectory
from optlib.surfaces import run

__all__ = ["log_slider", "explorer_figure", "Explorer", "surface_explorer"]

# Slider labels in the book's notation (COURSE.md §5), keyed by the torch name.
_SYMBOLS = {
    "lr": "η",
    "momentum": "β",
    "beta1": "β₁",
    "beta2": "β₂",
    "eps": "ε",
    "alpha": "α",
    "rho": "ρ",
    "weight_decay": "λ",
}

_STYLE = {"description_width": "initial"}


def _layout():
    return widgets.Layout(width="340px")


def _label(name):
    """Slider label: "η (lr)" for a known hyper-parameter, else the name itself."""
    symbol = _SYMBOLS.get(name)
    return f"{symbol} ({name})" if symbol else name


def log_slider(name, lo, hi, default, steps=60):
    r"""A slider on a log scale, for rates that span decades (η, ε).

    Parameters
    ----------
    name : str
        The label shown next to the slider, e.g. ``"η (lr)"``.
    lo, hi : float
        Range, :math:`0 < lo < hi`.
    default : float
        Start value, ``lo <= default <= hi``.
    steps : int
        Number of slider positions between ``lo`` and ``hi``.

    Returns
    -------
    ``ipywidgets.FloatLogSlider``
    """
    for arg, value in (("lo", lo), ("hi", hi), ("default", default)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{arg} must be a finite number > 0, got {value!r}")
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo!r}, hi={hi!r}")
    if not lo <= default <= hi:
        raise ValueError(f"default must be in [lo, hi] = [{lo}, {hi}], got {default!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    a, b = math.log10(lo), math.log10(hi)
    return widgets.FloatLogSlider(
        value=default, base=10, min=a, max=b, step=(b - a) / int(steps), description=name,
        readout_format=".3g", continuous_update=False, style=_STYLE, layout=_layout(),
    )


def _slider(name, spec):
    """Widget from a slider spec: a widget, (min, max, step, default), a bool or a list."""
    if isinstance(spec, widgets.ValueWidget):
        if not spec.description:
            spec.description = _label(name)
        return spec
    if isinstance(spec, bool):
        return widgets.Checkbox(value=spec, description=_label(name), style=_STYLE)
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"sliders[{name!r}] must list at least one choice")
        return widgets.Dropdown(options=spec, value=spec[0], description=_label(name), style=_STYLE)
    if isinstance(spec, tuple) and len(spec) == 4 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec):
        lo, hi, step, default = spec
        if not (lo < hi and step > 0 and lo <= default <= hi):
            raise ValueError(f"sliders[{name!r}] must be (min, max, step, default) with min < max, "
                             f"step > 0 and min <= default <= max, got {spec!r}")
        if all(isinstance(v, numbers.Integral) for v in spec):
            return widgets.IntSlider(min=lo, max=hi, step=step, value=default, description=_label(name),
                                     continuous_update=False, style=_STYLE, layout=_layout())
        return widgets.FloatSlider(min=lo, max=hi, step=step, value=default, description=_label(name),
                                   readout_format=".3g", continuous_update=False, style=_STYLE,
                                   layout=_layout())
    raise TypeError(f"sliders[{name!r}] must be a widget (e.g. log_slider(...)), a tuple "
                    f"(min, max, step, default), a bool or a list of choices, got {spec!r}")


def _summary(label, trajectory):
    """One line for the loss panel: the final gap, or the step of divergence."""
    t = diverged_at(trajectory)
    if t is not None:
        text = f"diverged at step {t}"
    else:
        gap = float(trajectory.losses[-1]) - float(trajectory.min_value)
        text = f"$L - L^\\star$ = {gap:.2g} after {len(trajectory.losses) - 1} steps"
    return f"{label}: {text}" if label else text


def _hyper_text(optimizer):
    """Key hyper-parameters in the book's notation, e.g. "η = 0.01, β = 0.9"."""
    hyper = getattr(optimizer, "hyper", None) or {}
    parts = []
    if "lr" in hyper:
        parts.append(f"η = {hyper['lr']:.3g}")
    if hyper.get("momentum"):
        parts.append(f"β = {hyper['momentum']:.3g}")
    if "betas" in hyper:
        b1, b2 = hyper["betas"]
        parts.append(f"β₁ = {b1:.3g}, β₂ = {b2:.4g}")
    if "alpha" in hyper and "momentum" in hyper:  # RMSprop's decay rate
        parts.append(f"α = {hyper['alpha']:.3g}")
    return ", ".join(parts)


def explorer_figure(surface, optimizer, start=None, steps=100, schedule=None, label=None, color=None,
                    figsize=(8.4, 3.5)):
    r"""Run an optimizer on a surface and show its path and its loss side by side.

    Left: the path :math:`\theta_0, \theta_1, \dots, \theta_T` on the contour
    map. Right: the gap :math:`L(\theta_t) - L^\star` on a log axis, titled with
    the final gap or the step at which the run diverged.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Optimizer``
        A fresh one: its state carries over between runs.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps :math:`T`.
    schedule : ``callable``, optional
        ``t -> lr``, passed to ``optlib.surfaces.run``.
    label : str, optional
        Default: the optimizer's book name (:func:`optlib.plot.display_name`)
        with its main hyper-parameters.
    color : str, optional
        Default: the optimizer's colour.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot, so a notebook shows it once, as the cell's value.
    """
    trajectory = run(optimizer, surface, start=start, steps=steps, schedule=schedule)
    name = display_name(optimizer)
    if label is None:
        hyper = _hyper_text(optimizer)
        label = f"{name}, {hyper}" if hyper else name
    fig = Figure(figsize=figsize, layout="constrained")
    ax_map, ax_loss = fig.subplots(1, 2, width_ratios=[1.0, 1.2])
    contour(surface, ax=ax_map)
    # The colour follows the optimizer, not the label with its numbers.
    color = color or optimizer_color(name)
    plot_trajectory(ax_map, trajectory, label, color=color)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(_summary(label, trajectory), fontsize=10)
    return fig


class Explorer(widgets.VBox):
    """The widget :func:`surface_explorer` returns: sliders above, figure below.

    Attributes
    ----------
    sliders : dict
        Name → widget, including ``"x0"`` and ``"y0"`` for the start point.
    output : ``ipywidgets.Output``
        Where the figure is shown in a notebook.
    figure : ``matplotlib.figure.Figure`` or None
        The last figure drawn (also without a display, e.g. in tests).
    renders : int
        How many times the figure has been drawn.
    error : str or None
        Why the last slider setting could not be run (the optimizer's
        ``ValueError`` or ``TypeError`` message), shown instead of the figure.
    """

    def __init__(self, surface, make_optimizer, sliders, steps, start, schedule,
                 figure=None):
        self._surface = surface
        self._make = make_optimizer
        self._steps = steps
        self._schedule = schedule
        self._start = start
        self._figure = figure or explorer_figure
        self.figure = None
        self.error = None
        self.renders = 0
        self.output = widgets.Output()
        optimizer_column = widgets.VBox(list(sliders.values()))
        columns = [optimizer_column]
        if start:
            columns.append(widgets.VBox([start["x0"], start["y0"]]))
        self.sliders = {**sliders, **(start or {})}
        super().__init__([widgets.HBox(columns), self.output])
        for widget in self.sliders.values():
            widget.observe(self._on_change, names="value")
        self.update()

    def values(self):
        """Current slider values, name → value."""
        return {name: w.value for name, w in self.sliders.items()}

    def _on_change(self, change):
        self.update()

    def update(self):
        """Rerun the optimizer with the current slider values and redraw.

        Returns
        -------
        ``matplotlib.figure.Figure`` or None
            The new figure, or None when the optimizer refused the values.
        """
        values = self.values()
        start = None
        if self._start:
            start = (values.pop("x0"), values.pop("y0"))
        try:
            optimizer = self._make(**values)
        except (ValueError, TypeError) as err:
            # A slider combination the optimizer refuses (e.g. nesterov=True
            # with momentum=0): show why, instead of a silently stale figure.
            self.error = str(err)
            self._show(f"{type(err).__name__}: {err}")
            return None
        self.error = None
        # A figure function need not know schedules when the explorer has none.
        extra = {} if self._schedule is None else {"schedule": self._schedule}
        self.figure = self._figure(self._surface, optimizer, start=start, steps=self._steps,
                                   **extra)
        self.renders += 1
        self._show(self.figure)
        return self.figure

    def _show(self, content):
        # Without a kernel (tests, scripts) there is nothing to show into.
        if get_ipython() is None:
            return
        with self.output:
            clear_output(wait=True)
            if isinstance(content, str):
                print(content)
            else:
                display(content)


# traitlets' ``__new__(*args: t.Any, ...)`` would otherwise be documented as
# the constructor's signature (and fail Sphinx's nitpicky cross-references).
Explorer.__signature__ = inspect.Signature(
    list(inspect.signature(Explorer.__init__).parameters.values())[1:])


def surface_explorer(surface, make_optimizer, sliders, steps=100, start=True, schedule=None,
                     figure=None):
    r"""Sliders for hyper-parameters (and the start point) of one optimizer on a surface.

    Every change reruns ``make_optimizer(**slider_values)`` for ``steps`` steps
    from the chosen start and redraws :func:`explorer_figure`. Sliders update
    when released, not while dragged, so a slow surface stays responsive.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer``, called with one keyword per
        entry of ``sliders`` (not the start point).
    sliders : dict
        Keyword name → a widget (e.g. :func:`log_slider`), a tuple
        ``(min, max, step, default)`` for a linear slider, a bool for a
        checkbox, or a list of choices for a drop-down.
    steps : int
        Steps per run, >= 1.
    start : bool or ``array_like``
        Add two sliders ``x0``, ``y0`` for :math:`\theta_0` within the
        surface's bounds, starting at ``surface.start`` (``True``) or at the given
        point; ``False``: no start sliders, every run starts at ``surface.start``.
    schedule : ``callable``, optional
        ``t -> lr`` for every run.
    figure : ``callable``, optional
        ``figure(surface, optimizer, start=..., steps=...) -> Figure`` draws each
        run; default :func:`explorer_figure`. Chapters pass their own (e.g. one with
        a panel of per-coordinate rates) and keep the same sliders.

    Returns
    -------
    ``Explorer``
        An ``ipywidgets.VBox``; as a cell's last expression it displays itself.
    """
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be a callable (**values) -> optimizer, got {make_optimizer!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not isinstance(sliders, dict):
        raise TypeError(f"sliders must be a dict name -> slider spec, got {type(sliders).__name__}")
    use_start = start is not False and start is not None
    reserved = {"x0", "y0"} & set(sliders) if use_start else set()
    if reserved:
        raise ValueError(f"sliders must not use the names {sorted(reserved)}: they are the start point")
    built = {name: _slider(name, spec) for name, spec in sliders.items()}
    start_sliders = None
    if use_start:
        (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
        point = surface.start if start is True else np.asarray(start, dtype=float)
        if point.shape != (2,) or not (x_lo <= point[0] <= x_hi and y_lo <= point[1] <= y_hi):
            raise ValueError(f"start must be True, False or a point inside {surface.bounds}, got {start!r}")
        x, y = (float(v) for v in point)
        start_sliders = {
            "x0": widgets.FloatSlider(min=x_lo, max=x_hi, step=(x_hi - x_lo) / 200, value=x,
                                      description="start θ₁", readout_format=".2f",
                                      continuous_update=False, style=_STYLE, layout=_layout()),
            "y0": widgets.FloatSlider(min=y_lo, max=y_hi, step=(y_hi - y_lo) / 200, value=y,
                                      description="start θ₂", readout_format=".2f",
                                      continuous_update=False, style=_STYLE, layout=_layout()),
        }
    return Explorer(surface, make_optimizer, built, int(steps), start_sliders, schedule, figure)
