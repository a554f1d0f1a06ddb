"""optlib: the NumPy library of the course *Optimization for Deep Learning*.

Everything a chapter computes comes from here, so the code the book shows is the code
that made its figures. Optimizers follow ``torch.optim`` (names, defaults, update rules);
layers follow ``torch.nn`` (names, weight layout).

The core: ``optim``, ``schedules``, ``surfaces``, ``nn``, ``losses``, ``data``, ``train``,
``plot``, ``widgets``, ``show``, ``timing``, ``gradcheck``. The other modules hold what one
chapter needs (theory, probes, explorers), each tested like the core.
"""
from . import (data, gradcheck, losses, nn, optim, plot, schedules, show, surfaces, timing,
               train, widgets)
from . import batchnorm, bn_probes, curriculum, fit_explorer
from . import momentum_forms, momentum_probes, quadratic_theory
from . import problems, rate_explorer, rates
from . import adam_explorer, adam_family, counterexamples, race
from . import callbacks, diagnostics, implicit_regularization, lr_finder, noise, scheduled, search
from .optim import (Optimizer, SGD, Adagrad, RMSprop, Adadelta,
                    Adam, AdamW, Adamax, NAdam, RAdam)
from .surfaces import (Surface, Quadratic, Rosenbrock, Beale, Saddle, Valley, Himmelblau,
                       LeastSquares, Trajectory, run)
from .train import History, fit, evaluate

__version__ = "0.1.0"
