r"""An explorer that also shows the effective per-coordinate learning rate.

Like ``optlib.widgets.explorer_figure`` and ``optlib.widgets.surface_explorer``,
with a third panel: the rate :math:`\eta_{t,i}` of each coordinate against the step
(``optlib.rates.effective_rate``), the quantity that separates AdaGrad, RMSprop
and AdaDelta::

    rate_figure(Quadratic((1, 20)), Adagrad(lr=0.5))                      # the page
    rate_explorer(Quadratic((1, 20)), lambda lr, eps: Adagrad(lr=lr, eps=eps),
                  {"lr": log_slider("η (lr)", 1e-2, 2, 0.5),
                   "eps": log_slider("ε (eps)", 1e-10, 1, 1e-10)})          # the live cell
"""

import numbers

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from . import widgets
from .plot import color as optimizer_color
from .plot import contour, display_name, diverged_at, loss_curves, plot_trajectory
from .rates import run_with_rates

__all__ = ["rate_figure", "RateExplorer", "rate_explorer"]


def _title(trajectory):
    t = diverged_at(trajectory)
    if t is not None:
        return f"diverged at step {t}"
    gap = float(trajectory.losses[-1]) - float(trajectory.min_value)
    return f"$L - L^\\star$ = {gap:.2g} after {len(trajectory.losses) - 1} steps"


def rate_figure(surface, optimizer, start=None, steps=100, label=None, color=None,
                figsize=(11.0, 3.4)):
    r"""Path, loss and effective per-coordinate rate of one adaptive optimizer on a surface.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Adagrad``, ``RMSprop`` or ``Adadelta``
        A fresh one.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps.
    label : str, optional
        Default: the optimizer's book name and its learning rate.
    color : str, optional
        Default: the optimizer's colour.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot, so a notebook shows it once, as the cell's value.
    """
    trajectory, rates = run_with_rates(optimizer, surface, start=start, steps=steps)
    name = display_name(optimizer)
    if label is None:
        label = f"{name}, η = {optimizer.lr:.3g}"
    color = color or optimizer_color(name)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_map, ax_loss, ax_rate = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.1])
    contour(surface, ax=ax_map)
    plot_trajectory(ax_map, trajectory, label, color=color)
    ax_map.set_title(label, fontsize=10)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(_title(trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$", ylabel="effective rate $\\eta_{t,i}$")
    ax_rate.set_title("rate of each coordinate", fontsize=10)
    if len(rates):
        ax_rate.legend()
    return fig


class RateExplorer(widgets.Explorer):
    """The widget ``rate_explorer`` returns: an ``Explorer`` drawing ``rate_figure``."""

    def update(self):
        """Rerun the optimizer with the current slider values and redraw.

        Returns
        -------
        ``matplotlib.figure.Figure`` or None
            The new figure, or None when the optimizer refused the values.
        """
        values = self.values()
        start = (values.pop("x0"), values.pop("y0")) if self._start else None
        try:
            optimizer = self._make(**values)
        except (ValueError, TypeError) as err:
            self.error = str(err)
            self._show(f"{type(err).__name__}: {err}")
            return None
        self.error = None
        self.figure = rate_figure(self._surface, optimizer, start=start, steps=self._steps)
        self.renders += 1
        self._show(self.figure)
        return self.figure


def rate_explorer(surface, make_optimizer, sliders, steps=100, start=True):
    r"""Sliders for an adaptive optimizer on a surface, with the effective-rate panel.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer`` (AdaGrad, RMSprop or AdaDelta).
    sliders : dict
        Keyword name → slider spec, as for ``optlib.widgets.surface_explorer``.
    steps : int
        Steps per run, >= 1.
    start : bool or ``array_like``
        Add sliders for the start point :math:`\theta_0`, starting at
        ``surface.start`` (``True``) or at the given point; ``False``: no sliders.

    Returns
    -------
    ``RateExplorer``
    """
    if not callable(make_optimizer):
        raise TypeError(f"make_optimizer must be a callable (**values) -> optimizer, got {make_optimizer!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not isinstance(sliders, dict):
        raise TypeError(f"sliders must be a dict name -> slider spec, got {type(sliders).__name__}")
    use_start = start is not False and start is not None
    if use_start and {"x0", "y0"} & set(sliders):
        raise ValueError("sliders must not use the names x0, y0: they are the start point")
    built = {name: widgets._slider(name, spec) for name, spec in sliders.items()}
    start_sliders = None
    if use_start:
        (x_lo, x_hi), (y_lo, y_hi) = surface.bounds
        point = surface.start if start is True else np.asarray(start, dtype=float)
        if point.shape != (2,) or not (x_lo <= point[0] <= x_hi and y_lo <= point[1] <= y_hi):
            raise ValueError(f"start must be True, False or a point inside {surface.bounds}, got {start!r}")
        x, y = (float(v) for v in point)

        def slider(lo, hi, value, description):
            return ipywidgets.FloatSlider(
                min=lo, max=hi, step=(hi - lo) / 200, value=value, description=description,
                readout_format=".2f", continuous_update=False,
                style={"description_width": "initial"}, layout=ipywidgets.Layout(width="340px"))

        start_sliders = {"x0": slider(x_lo, x_hi, x, "start θ₁"),
                         "y0": slider(y_lo, y_hi, y, "start θ₂")}
    return RateExplorer(surface, make_optimizer, built, int(steps), start_sliders, None)
