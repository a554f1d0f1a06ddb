r"""Explorers for training runs (not surfaces): curriculum pacing and batch normalization.

``optlib.widgets`` reruns an optimizer on a 2-D surface; the explorers here rerun a
small *training* run on real data and redraw. As there, a chapter shows the static
figure at the default settings (``curriculum_figure``, ``batchnorm_figure``) and then
the live version (``curriculum_explorer``, ``batchnorm_explorer``), whose output is
removed on the site::

    curriculum_figure(data, difficulty)                        # the page
    curriculum_explorer(data, difficulty)                      # the live cell

Both figures keep their runs small (a second or less) so that the sliders stay
responsive. ``figure_explorer`` is the generic part: sliders whose values are
passed to a function that returns a figure.
"""

import inspect
import warnings

import ipywidgets
import numpy as np
from IPython import get_ipython
from IPython.display import clear_output, display
from matplotlib.figure import Figure

from . import widgets
from .batchnorm import bn_mlp, scaled_he
from .curriculum import fit_curriculum, pacing
from .losses import softmax_cross_entropy
from .nn import MLP
from .optim import SGD
from .train import fit

__all__ = ["ORDER_COLORS", "BN_COLORS", "FigureExplorer", "figure_explorer", "curriculum_figure",
           "curriculum_explorer", "batchnorm_figure", "batchnorm_explorer"]

#: Colours of the data orderings of chapter 7 (none is an optimizer's colour).
ORDER_COLORS = {
    "sorted by class": "#B8860B",
    "one fixed random order": "#CC79A7",
    "reshuffled every epoch": "#222222",
    "with replacement": "#999999",
    "curriculum": "#CC79A7",
    "anti-curriculum": "#B8860B",
    "random curriculum": "#56B4E9",
    "standard": "#222222",
}

#: Colours of the networks of chapter 8.
BN_COLORS = {"without BN": "#222222", "with BN": "#CC79A7", "BN + noise": "#B8860B"}

#: The orderings of ``curriculum_figure``: label -> ``fit_curriculum``'s ``order``.
_ORDERS = {"curriculum": "easy-first", "anti-curriculum": "hard-first",
           "random curriculum": "random"}


class FigureExplorer(ipywidgets.VBox):
    """Sliders above a figure; every change calls ``make_figure(**values)`` and shows the result.

    Attributes
    ----------
    sliders : dict
        Name → widget.
    output : ``ipywidgets.Output``
    figure : ``matplotlib.figure.Figure`` or None
        The last figure drawn (also without a display, e.g. in tests).
    renders : int
        How many times the figure has been drawn.
    error : str or None
        Why the last setting could not be drawn (a ``ValueError`` or ``TypeError``).
    """

    def __init__(self, make_figure, sliders):
        self._make = make_figure
        self.sliders = sliders
        self.figure, self.error, self.renders = None, None, 0
        self.output = ipywidgets.Output()
        super().__init__([ipywidgets.VBox(list(sliders.values())), self.output])
        for widget in sliders.values():
            widget.observe(lambda change: self.update(), names="value")
        self.update()

    def values(self):
        """Current slider values, name → value."""
        return {name: w.value for name, w in self.sliders.items()}

    def update(self):
        """Redraw with the current values.

        Returns
        -------
        ``matplotlib.figure.Figure`` or None
        """
        try:
            figure = self._make(**self.values())
        except (ValueError, TypeError) as err:
            self.error = f"{type(err).__name__}: {err}"
            self._show(self.error)
            return None
        self.error, self.figure = None, figure
        self.renders += 1
        self._show(figure)
        return figure

    def _show(self, content):
        if get_ipython() is None:       # tests, scripts: nothing to show into
            return
        with self.output:
            clear_output(wait=True)
            print(content) if isinstance(content, str) else display(content)


# traitlets' ``__new__(*args, **kwargs)`` would otherwise be documented as the constructor.
FigureExplorer.__signature__ = inspect.Signature(
    list(inspect.signature(FigureExplorer.__init__).parameters.values())[1:])


def figure_explorer(make_figure, sliders):
    """Sliders that redraw ``make_figure(**values)``.

    Parameters
    ----------
    make_figure : callable
        ``make_figure(**values) -> Figure``, one keyword per slider.
    sliders : dict
        Keyword → a widget (e.g. ``optlib.widgets.log_slider``), a tuple
        ``(min, max, step, default)``, a bool (checkbox) or a list of choices.

    Returns
    -------
    FigureExplorer
    """
    if not callable(make_figure):
        raise TypeError(f"make_figure must be a callable (**values) -> Figure, got {make_figure!r}")
    if not isinstance(sliders, dict) or not sliders:
        raise TypeError("sliders must be a non-empty dict name -> slider spec")
    return FigureExplorer(make_figure, {name: widgets._slider(name, spec)
                                        for name, spec in sliders.items()})


# -------------------------------------------------------------------- chapter 7


def curriculum_figure(data, difficulty, order="curriculum", kind="linear", start=0.2, until=0.8,
                      epochs=4, lr=0.1, batch_size=32, hidden=32, seed=0, figsize=(9.0, 3.2)):
    r"""One paced run against standard shuffled training: the pacing and the validation accuracy.

    Left: the fraction of the data admitted, :math:`c(p)`, against the epoch. Right:
    validation accuracy of a ``64 -> hidden -> 10`` ReLU network trained by SGD
    with the chosen ordering and pacing, and of the same network trained on all
    data in shuffled order (``"standard"``), same budget and seed.

    Parameters
    ----------
    data : ``Dataset``
        Training and validation data (e.g. ``optlib.data.make_digits``).
    difficulty : ``ndarray``
        One score per training example, larger = harder.
    order : str
        ``"curriculum"``, ``"anti-curriculum"`` or ``"random curriculum"``.
    kind, start, until : str, float, float
        The pacing function (``optlib.curriculum.pacing``).
    epochs, lr, batch_size, hidden, seed
        The training run.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    if order not in _ORDERS:
        raise ValueError(f"order must be one of {sorted(_ORDERS)}, got {order!r}")
    competence = pacing(kind, start=start, until=until)
    sizes = [data.X_train.shape[1], hidden, int(data.y_train.max()) + 1]
    runs = {}
    for label, pace, how in ((order, competence, _ORDERS[order]), ("standard", None, "random")):
        runs[label] = fit_curriculum(MLP(sizes, seed=seed), softmax_cross_entropy, SGD(lr=lr),
                                     data.X_train, data.y_train, difficulty, order=how, pace=pace,
                                     epochs=epochs, batch_size=batch_size, X_val=data.X_val,
                                     y_val=data.y_val, seed=seed)
    fig = Figure(figsize=figsize, layout="constrained")
    ax_pace, ax_acc = fig.subplots(1, 2)
    p = np.linspace(0, 1, 200)
    ax_pace.plot(p * epochs, competence(p), color=ORDER_COLORS[order])
    ax_pace.set(xlabel="epoch", ylabel="fraction admitted $c(p)$", ylim=(0, 1.05),
                title=f"{kind} pacing, start {start:.2g}, all data from {until:.2g}")
    for label, h in runs.items():
        ax_acc.plot(h.epoch, h.val_acc, color=ORDER_COLORS[label], label=label)
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1),
               title=" vs. ".join(f"{k} {h.val_acc[-1]:.1%}" for k, h in runs.items()))
    ax_acc.title.set_fontsize(10)
    ax_acc.legend(loc="lower right")
    return fig


def curriculum_explorer(data, difficulty, epochs=4, seed=0):
    """Sliders for the ordering and the pacing of ``curriculum_figure``.

    Parameters
    ----------
    data : ``Dataset``
    difficulty : ``ndarray``
    epochs, seed : int
        Fixed for every run.

    Returns
    -------
    FigureExplorer
    """
    def draw(order, kind, start, until, lr):
        return curriculum_figure(data, difficulty, order=order, kind=kind, start=start,
                                 until=until, lr=lr, epochs=epochs, seed=seed)

    return figure_explorer(draw, {
        "order": list(_ORDERS),
        "kind": ["linear", "root", "step", "exponential"],
        "start": (0.05, 1.0, 0.05, 0.2),
        "until": (0.05, 1.0, 0.05, 0.8),
        "lr": widgets.log_slider("η (lr)", 0.01, 1.0, 0.1),
    })


# -------------------------------------------------------------------- chapter 8


def batchnorm_figure(data, lr=0.3, init_scale=1.0, depth=8, width=64, epochs=2, batch_size=64,
                     seed=0, figsize=(9.0, 3.2)):
    r"""The same network trained with and without batch normalization: mini-batch loss per step.

    Both are ``bn_mlp`` networks (``depth`` hidden layers of ``width`` ReLU units)
    started from the same weights, :math:`c` times He's scale (``scaled_he``),
    trained by SGD with rate :math:`\eta`. A run whose loss becomes non-finite stops
    and is marked as diverged.

    Parameters
    ----------
    data : ``Dataset``
        Training data (``X_train``, ``y_train``).
    lr : float
        :math:`\eta`.
    init_scale : float
        :math:`c`.
    depth, width : int
        Hidden layers and their width.
    epochs, batch_size, seed
        The training runs.
    figsize : tuple
        Inches.

    Returns
    -------
    ``matplotlib.figure.Figure``
    """
    X, y = data.X_train, data.y_train
    sizes = [X.shape[1]] + [width] * depth + [int(y.max()) + 1]
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    notes = []
    cap = 30.0            # the loss of a sane start is a few units; above this, off the chart
    for label, bn in (("without BN", False), ("with BN", True)):
        model = bn_mlp(sizes, batchnorm=bn, init=scaled_he(init_scale), seed=seed)
        # Divergence is a result here, drawn in the figure: no warning needed.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            h = fit(model, softmax_cross_entropy, SGD(lr=lr), X, y, epochs=epochs,
                    batch_size=batch_size, seed=seed, progress=False)
        loss = h.loss
        t = np.arange(1, len(loss) + 1) / h.steps_per_epoch
        # A diverging run is drawn up to the top of the frame and marked with a cross.
        shown = np.minimum(np.where(np.isfinite(loss), loss, np.inf), cap)
        ax.plot(t, shown, color=BN_COLORS[label], lw=1, label=label)
        if h.diverged or np.any(loss >= cap):
            first = int(np.argmax(~(loss < cap)))
            ax.plot(t[first], cap, "x", color=BN_COLORS[label], ms=9, mew=2, clip_on=False)
        if h.diverged:
            notes.append(f"{label}: diverged at step {h.diverged_step}")
        else:
            notes.append(f"{label}: last-epoch loss {loss[-h.steps_per_epoch:].mean():.2f}")
    ax.set(yscale="log", ylim=(None, cap), xlabel="epoch", ylabel="mini-batch loss",
           title=f"η = {lr:.3g}, init scale {init_scale:.3g} × He;  " + ";  ".join(notes))
    ax.title.set_fontsize(9)
    ax.legend(loc="upper right")
    return fig


def batchnorm_explorer(data, depth=8, width=64, epochs=2, seed=0):
    """Sliders for the learning rate and the initialization scale of ``batchnorm_figure``.

    Parameters
    ----------
    data : ``Dataset``
    depth, width, epochs, seed : int
        Fixed for every run.

    Returns
    -------
    FigureExplorer
    """
    def draw(lr, init_scale):
        return batchnorm_figure(data, lr=lr, init_scale=init_scale, depth=depth, width=width,
                                epochs=epochs, seed=seed)

    return figure_explorer(draw, {
        "lr": widgets.log_slider("η (lr)", 0.01, 10.0, 0.3),
        "init_scale": widgets.log_slider("init scale c", 0.05, 20.0, 1.0),
    })
