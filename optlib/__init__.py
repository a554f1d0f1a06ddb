"""optlib: the NumPy library of the course *Optimization for Deep Learning*.

Everything a chapter computes comes from here, so the code the book shows is the code
that made its figures. Optimizers follow ``torch.optim`` (names, defaults, update rules).
"""
from . import optim, schedules, surfaces
from .optim import (Optimizer, SGD, Adagrad, RMSprop, Adadelta,
                    Adam, AdamW, Adamax, NAdam, RAdam)
from .surfaces import (Surface, Quadratic, Rosenbrock, Beale, Saddle, Valley, Himmelblau,
                       Trajectory, run)

__version__ = "0.1.0"
