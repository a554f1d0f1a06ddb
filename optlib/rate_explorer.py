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


import numpy as np
from matplotlib.figure import Figure

from . import widgets
from .plot import color as optimizer_color
from .plot import contour, display_name, loss_curves, plot_trajectory
from .rates import run_with_rates

__all__ = ["rate_figure", "rate_explorer"]


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
    ax_loss.set_title(widgets._summary(None, trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$", ylabel="effective rate $\\eta_{t,i}$")
    ax_rate.set_title("rate of each coordinate", fontsize=10)
    if len(rates):
        ax_rate.legend()
    return fig


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
    ``optlib.widgets.Explorer``
        The surface explorer drawing ``rate_figure``.
    """
    return widgets.surface_explorer(surface, make_optimizer, sliders, steps=steps, start=start,
                                    figure=rate_figure)
