r"""One explorer: sliders above a figure that a pure function draws from their values.

A chapter configures an :class:`Explorer` with a **figure function** and **sliders**:
``figure(**values)`` takes one keyword per slider and returns a matplotlib ``Figure``,
and depends on nothing else, so the same function draws the static figure of the
page, the live explorer (Binder, Colab, a local Jupyter) and, later, figures
precomputed over a grid of slider values::

    def patience_figure(patience=10, min_delta=0.0): ...        # -> Figure
    patience_figure()                                           # the page
    explorer(patience_figure, {"patience": (1, 40, 1, 10),      # the live cell
                               "min_delta": (0.0, 0.1, 0.005, 0.0)})

For the common case, an optimizer on a test surface, :func:`surface_explorer` builds
the figure function from ``make_optimizer(**values)`` and a figure of a run
(:func:`explorer_figure` by default: the path and the loss; chapters pass their own,
e.g. with a panel of per-coordinate rates), plus two sliders for the start point::

    make = lambda lr, momentum: SGD(lr=lr, momentum=momentum)
    explorer_figure(Rosenbrock(), make(lr=1e-3, momentum=0.9))       # the page
    surface_explorer(Rosenbrock(), make,
                     {"lr": log_slider("η (lr)", 1e-4, 1e-2, 1e-3),
                      "momentum": (0.0, 0.99, 0.01, 0.9)})               # the live cell

An explorer also works without a display (its last figure is kept in
``Explorer.figure``), so tests can drive it.

On the static site and in the decks there is no kernel: when ``OPTLIB_STATIC_EXPLORERS``
is set (the book and deck builds set it), displaying an explorer also emits its static
form, the same figure function precomputed over slider settings with a few lines of
JavaScript (:mod:`optlib.viz.static_explorer`); a live notebook shows the widget only.
"""

from __future__ import annotations

import inspect

import ipywidgets as widgets
import numpy as np
from IPython import get_ipython
from IPython.display import clear_output, display
from matplotlib.figure import Figure

from optlib import checks
from optlib.surfaces import run
from optlib.viz import static_explorer
from optlib.viz.plot import color as optimizer_color
from optlib.viz.plot import contour, display_name, diverged_at, loss_curves, plot_trajectory

__all__ = ["log_slider", "Explorer", "explorer", "run_label", "loss_title", "explorer_figure",
           "surface_explorer"]

# Slider labels in the book's notation (COURSE.md §5), keyed by the argument name.
_SYMBOLS = {
    "lr": "η",
    "momentum": "β",
    "beta1": "β₁",
    "beta2": "β₂",
    "eps": "ε",
    "alpha": "α",
    "rho": "ρ",
    "weight_decay": "λ",
    "patience": "p",
    "min_delta": "δ",
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
    lo = checks.real("lo", lo, low=0, low_open=True)
    hi = checks.real("hi", hi, low=lo, low_open=True, rule=f"a finite number > lo = {lo:g}")
    default = checks.real("default", default, low=lo, high=hi)
    steps = checks.integer("steps", steps, low=1)
    a, b = np.log10(lo), np.log10(hi)
    return widgets.FloatLogSlider(
        value=default, base=10, min=a, max=b, step=(b - a) / steps, description=name,
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
            isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in spec):
        lo, hi, step, default = spec
        if not (lo < hi and step > 0 and lo <= default <= hi):
            raise ValueError(f"sliders[{name!r}] must be (min, max, step, default) with min < max, "
                             f"step > 0 and min <= default <= max, got {spec!r}")
        if all(isinstance(v, (int, np.integer)) for v in spec):
            return widgets.IntSlider(min=lo, max=hi, step=step, value=default, description=_label(name),
                                     continuous_update=False, style=_STYLE, layout=_layout())
        return widgets.FloatSlider(min=lo, max=hi, step=step, value=default, description=_label(name),
                                   readout_format=".3g", continuous_update=False, style=_STYLE,
                                   layout=_layout())
    raise TypeError(f"sliders[{name!r}] must be a widget (e.g. log_slider(...)), a tuple "
                    f"(min, max, step, default), a bool or a list of choices, got {spec!r}")


def loss_title(trajectory, label=None):
    """Title of a loss panel: the final gap :math:`L - L^\\star`, or the step of divergence."""
    t = diverged_at(trajectory)
    if t is not None:
        text = f"diverged at step {t}"
    else:
        gap = float(trajectory.losses[-1]) - float(trajectory.min_value)
        text = f"$L - L^\\star$ = {gap:.2g} after {len(trajectory.losses) - 1} steps"
    return f"{label}: {text}" if label else text


def run_label(optimizer, eps=False):
    """The book name and key hyper-parameters in the book's notation.

    E.g. ``"Momentum, η = 0.01, β = 0.9"`` or, with ``eps=True``,
    ``"Adam, η = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-08"``.
    """
    name = display_name(optimizer)
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
    if "rho" in hyper:  # AdaDelta's decay rate
        parts.append(f"ρ = {hyper['rho']:.3g}")
    if eps and "eps" in hyper:
        parts.append(f"ε = {hyper['eps']:.0e}")
    return ", ".join([name] + parts)


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
        Default: :func:`run_label`, the optimizer's book name with its main
        hyper-parameters.
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
        label = run_label(optimizer)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_map, ax_loss = fig.subplots(1, 2, width_ratios=[1.0, 1.2])
    contour(surface, ax=ax_map)
    # The colour follows the optimizer, not the label with its numbers.
    color = color or optimizer_color(name)
    plot_trajectory(ax_map, trajectory, label, color=color)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(loss_title(trajectory, label), fontsize=10)
    return fig


class Explorer(widgets.VBox):
    """Sliders above a figure; every change calls ``figure(**values)`` and shows the result.

    Build one with :func:`explorer` or :func:`surface_explorer`.

    Attributes
    ----------
    draw : ``callable``
        The figure function, ``draw(**values) -> Figure``.
    sliders : dict
        Name → widget.
    output : ``ipywidgets.Output``
        Where the figure is shown in a notebook.
    figure : ``matplotlib.figure.Figure`` or None
        The last figure drawn (also without a display, e.g. in tests).
    renders : int
        How many times the figure has been drawn.
    error : str or None
        Why the last setting could not be drawn (the ``ValueError`` or ``TypeError``
        of the figure function, e.g. an optimizer refusing ``nesterov=True`` without
        momentum), shown instead of the figure.
    """

    def __init__(self, draw, sliders, columns=None):
        self.draw = draw
        self.sliders = dict(sliders)
        self.figure, self.error, self.renders = None, None, 0
        self.output = widgets.Output()
        columns = columns or [list(self.sliders)]
        boxes = [widgets.VBox([self.sliders[name] for name in column]) for column in columns]
        super().__init__([widgets.HBox(boxes) if len(boxes) > 1 else boxes[0], self.output])
        for widget in self.sliders.values():
            widget.observe(self._on_change, names="value")
        self.update()

    def values(self):
        """Current slider values, name → value."""
        return {name: w.value for name, w in self.sliders.items()}

    def _on_change(self, change):
        self.update()

    def static(self, **kwargs):
        """The static form: the figure function precomputed over slider settings.

        Keyword arguments go to :func:`optlib.viz.static_explorer.precompute`
        (``max_frames``, ``seconds``, ``dpi``).

        Returns
        -------
        ``optlib.viz.static_explorer.StaticExplorer``
            Its HTML is ``static_explorer.to_html(...)``.
        """
        return static_explorer.precompute(self.draw, self.sliders, **kwargs)

    def _repr_mimebundle_(self, **kwargs):
        # The widget view for a live frontend (which prefers it); under a build, also the
        # static explorer as HTML, for the page and the deck (tools/course_site.py and
        # tools/course_slides.py drop the widget view there).
        data = super()._repr_mimebundle_(**kwargs)
        if data is not None and static_explorer.enabled():
            data["text/html"] = static_explorer.to_html(self.static())
        return data

    def update(self):
        """Redraw with the current slider values.

        Returns
        -------
        ``matplotlib.figure.Figure`` or None
            The new figure, or None when the figure function refused the values.
        """
        try:
            figure = self.draw(**self.values())
        except (ValueError, TypeError) as err:
            # A slider combination that cannot be drawn: show why, instead of a
            # silently stale figure.
            self.error = f"{type(err).__name__}: {err}"
            self._show(self.error)
            return None
        self.error, self.figure = None, figure
        self.renders += 1
        self._show(figure)
        return figure

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


def explorer(figure, sliders):
    """Sliders that redraw ``figure(**values)`` whenever one of them moves.

    Parameters
    ----------
    figure : ``callable``
        ``figure(**values) -> Figure``, one keyword per slider; a pure function of
        its arguments, which also draws the page's static figure.
    sliders : dict
        Keyword name → a widget (e.g. :func:`log_slider`), a tuple
        ``(min, max, step, default)`` for a linear slider (integers: an integer
        slider), a bool for a checkbox, or a list of choices for a drop-down. Sliders
        update when released, not while dragged.

    Returns
    -------
    Explorer
        An ``ipywidgets.VBox``; as a cell's last expression it displays itself.
    """
    if not callable(figure):
        raise TypeError(f"figure must be a callable (**values) -> Figure, got {figure!r}")
    if not isinstance(sliders, dict) or not sliders:
        raise TypeError(f"sliders must be a non-empty dict name -> slider spec, got {sliders!r}")
    return Explorer(figure, {name: _slider(name, spec) for name, spec in sliders.items()})


def surface_explorer(surface, make_optimizer, sliders, steps=100, start=True, schedule=None,
                     figure=None):
    r"""An :class:`Explorer` of one optimizer on a surface: its hyper-parameters and start.

    Every change runs ``make_optimizer(**slider_values)`` for ``steps`` steps from the
    chosen start and draws the run with ``figure``.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer``, called with one keyword per
        entry of ``sliders`` (not the start point).
    sliders : dict
        Keyword name → slider spec, as for :func:`explorer`.
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
    Explorer
    """
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be a callable (**values) -> optimizer, got {make_optimizer!r}")
    steps = checks.integer("steps", steps, low=1)
    if not isinstance(sliders, dict):
        raise TypeError(f"sliders must be a dict name -> slider spec, got {type(sliders).__name__}")
    use_start = start is not False and start is not None
    reserved = {"x0", "y0"} & set(sliders) if use_start else set()
    if reserved:
        raise ValueError(f"sliders must not use the names {sorted(reserved)}: they are the start point")
    built = {name: _slider(name, spec) for name, spec in sliders.items()}
    columns = [list(built)]
    if use_start:
        (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
        point = surface.start if start is True else np.asarray(start, dtype=float)
        if point.shape != (2,) or not (x_lo <= point[0] <= x_hi and y_lo <= point[1] <= y_hi):
            raise ValueError(f"start must be True, False or a point inside {surface.bounds}, got {start!r}")
        x, y = (float(v) for v in point)
        built["x0"] = widgets.FloatSlider(min=x_lo, max=x_hi, step=(x_hi - x_lo) / 200, value=x,
                                          description="start θ₁", readout_format=".2f",
                                          continuous_update=False, style=_STYLE, layout=_layout())
        built["y0"] = widgets.FloatSlider(min=y_lo, max=y_hi, step=(y_hi - y_lo) / 200, value=y,
                                          description="start θ₂", readout_format=".2f",
                                          continuous_update=False, style=_STYLE, layout=_layout())
        columns.append(["x0", "y0"])
    figure = figure or explorer_figure
    # A figure function need not know schedules when the explorer has none.
    extra = {} if schedule is None else {"schedule": schedule}

    def draw(**values):
        point = (values.pop("x0"), values.pop("y0")) if use_start else None
        return figure(surface, make_optimizer(**values), start=point, steps=steps, **extra)

    return Explorer(draw, built, columns)
