r"""An explorer for Adam's β₁, β₂ and ε: the path, the loss, and each coordinate's rate.

Like ``optlib.rate_explorer`` (which covers AdaGrad, RMSprop and AdaDelta), for
``Adam``, ``AdamW`` and AMSGrad: the third panel is the effective per-coordinate rate
:math:`\eta/(\sqrt{\hat v_{t,i}} + \epsilon)` (:func:`optlib.adam_family.adam_effective_rate`)
with the line :math:`\eta/\epsilon` that it cannot exceed::

    adam_figure(Quadratic((1, 25)), Adam(lr=0.1))                          # the page
    adam_explorer(Quadratic((1, 25)),
                  lambda lr, beta1, beta2, eps: Adam(lr=lr, betas=(beta1, beta2), eps=eps),
                  {"lr": log_slider("η (lr)", 1e-3, 1, 0.1),
                   "beta1": (0.0, 0.99, 0.01, 0.9), "beta2": (0.5, 0.9999, 0.0001, 0.999),
                   "eps": log_slider("ε (eps)", 1e-8, 10, 1e-8)})           # the live cell
"""

import numpy as np
from matplotlib.figure import Figure

from . import widgets
from .optim import Adam
from .rates import run_with_rates
from .plot import color as optimizer_color
from .plot import contour, display_name, loss_curves, plot_trajectory
from .surfaces import Surface

__all__ = ["run_with_adam_rates", "adam_figure", "adam_explorer"]


def run_with_adam_rates(optimizer, surface, start=None, steps=100):
    r"""``optlib.run`` for an Adam-type optimizer that also returns both coordinates' rates.

    Parameters
    ----------
    optimizer : ``Adam`` or ``AdamW``
        A fresh optimizer.
    surface : ``Surface``
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps :math:`T`.

    Returns
    -------
    trajectory : ``Trajectory``
        As ``optlib.run`` returns it.
    rates : ``ndarray``
        Shape ``(steps, 2)``: row :math:`t-1` is :math:`\eta/(\sqrt{\hat v_t}+\epsilon)`
        after step :math:`t`.
    """
    if not isinstance(optimizer, Adam):
        raise TypeError(f"optimizer must be an optlib Adam or AdamW, got {type(optimizer).__name__}")
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface, got {type(surface).__name__}")
    return run_with_rates(optimizer, surface, start=start, steps=steps)


def _label(optimizer):
    h = optimizer.hyper
    b1, b2 = h["betas"]
    return (f"{display_name(optimizer)}, η = {h['lr']:.3g}, β₁ = {b1:.3g}, β₂ = {b2:.4g}, "
            f"ε = {h['eps']:.0e}")


def adam_figure(surface, optimizer, start=None, steps=100, label=None, color=None,
                figsize=(11.0, 3.5)):
    r"""Path, loss and per-coordinate rate :math:`\eta/(\sqrt{\hat v_t}+\epsilon)` of an Adam run.

    Parameters
    ----------
    surface : ``Surface``
    optimizer : ``Adam`` or ``AdamW``
        A fresh one.
    start : ``array_like``, optional
        :math:`\theta_0`; default ``surface.start``.
    steps : int
        Number of steps.
    label : str, optional
        Default: the optimizer's book name with η, β₁, β₂ and ε.
    color : str, optional
        Default: the optimizer's colour.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
        Not managed by pyplot, so a notebook shows it once, as the cell's value.
    """
    trajectory, rates = run_with_adam_rates(optimizer, surface, start=start, steps=steps)
    label = label or _label(optimizer)
    color = color or optimizer_color(display_name(optimizer))
    fig = Figure(figsize=figsize, layout="constrained")
    fig.suptitle(label, fontsize=10)
    ax_map, ax_loss, ax_rate = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.1])
    contour(surface, ax=ax_map)
    plot_trajectory(ax_map, trajectory, label, color=color)
    ax_map.set_title("path", fontsize=10)
    loss_curves({label: trajectory}, ax=ax_loss, legend=False, colors={label: color})
    ax_loss.set_title(widgets._summary(None, trajectory), fontsize=10)
    t = np.arange(1, len(rates) + 1)
    for i, style in enumerate(("-", "--")):
        ok = np.isfinite(rates[:, i]) & (rates[:, i] > 0)
        ax_rate.plot(t[ok], rates[ok, i], style, color=color, label=f"$\\theta_{i + 1}$")
    ceiling = optimizer.lr / optimizer.hyper["eps"] if optimizer.hyper["eps"] > 0 else np.inf
    top = np.nanmax(np.where(np.isfinite(rates), rates, np.nan)) if np.isfinite(rates).any() else 1.0
    if np.isfinite(ceiling) and ceiling < 100 * top:
        ax_rate.axhline(ceiling, color="0.5", lw=1, ls=":", label="η/ε")
    ax_rate.set(xscale="log", yscale="log", xlabel="step $t$",
                ylabel=r"rate $\eta/(\sqrt{\hat v_{t,i}}+\epsilon)$")
    ax_rate.set_title("rate of each coordinate", fontsize=10)
    if len(rates):
        ax_rate.legend()
    return fig


def adam_explorer(surface, make_optimizer, sliders, steps=100, start=True):
    r"""Sliders for Adam's hyper-parameters on a surface, with the per-coordinate rate panel.

    Parameters
    ----------
    surface : ``Surface``
    make_optimizer : ``callable``
        ``make_optimizer(**values) -> optimizer`` (``Adam`` or ``AdamW``).
    sliders : dict
        Keyword name → slider spec, as for ``optlib.widgets.surface_explorer``.
    steps : int
        Steps per run, >= 1.
    start : bool
        Add sliders for the start point :math:`\theta_0`, starting at ``surface.start``.

    Returns
    -------
    ``optlib.widgets.Explorer``
        The surface explorer drawing :func:`adam_figure`.
    """
    return widgets.surface_explorer(surface, make_optimizer, sliders, steps=steps, start=start,
                                    figure=adam_figure)
