"""optlib: the NumPy library of the course *Optimization for Deep Learning*.

Everything a chapter computes comes from here, so the code the book shows is the code
that made its figures. The layout follows PyTorch's, so what a reader finds here is
where they will look for it in ``torch``:

* ``optlib.optim`` — the optimizers of ``torch.optim`` (names, defaults, update rules),
  learning-rate schedules, optimizer wrappers, the book's registry of optimizer names;
* ``optlib.nn`` — layers with hand-written backward passes, initializers, losses,
  gradient checks (names and weight layout of ``torch.nn``);
* ``optlib.data`` — datasets; ``optlib.surfaces`` — 2-D test problems and ``run``;
* ``optlib.train`` — the training loop, callbacks, the learning-rate range test, search;
* ``optlib.viz`` — the book's figure style, plots, animations and explorers;
* ``optlib.lab`` — what only one chapter needs, one module per chapter. The library
  never imports it, and ``import optlib`` does not load it (nor ipywidgets).
"""
from optlib import data, nn, optim, surfaces, train
from optlib.optim import (
                          SGD,
                          Adadelta,
                          Adafactor,
                          Adagrad,
                          Adam,
                          Adamax,
                          AdamW,
                          AdamWScheduleFree,
                          Lion,
                          Muon,
                          NAdam,
                          Optimizer,
                          RAdam,
                          RMSprop,
)
from optlib.surfaces import (
                          Beale,
                          Himmelblau,
                          LeastSquares,
                          Quadratic,
                          Rosenbrock,
                          Saddle,
                          Surface,
                          Trajectory,
                          Valley,
                          run,
)
from optlib.train import History, evaluate, fit

__all__ = [
    "data", "nn", "optim", "surfaces", "train",
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
    "Adafactor", "Muon", "Lion", "AdamWScheduleFree",
    "Surface", "Quadratic", "Rosenbrock", "Beale", "Saddle", "Valley", "Himmelblau", "LeastSquares",
    "Trajectory", "run", "History", "fit", "evaluate",
]
__version__ = "0.1.0"
