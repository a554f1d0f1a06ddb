r"""Optimizers with the update rules, argument names and defaults of ``torch.optim``.

One file per optimizer, as in ``torch/optim``: ``sgd.py``, ``adagrad.py``,
``rmsprop.py``, ``adadelta.py``, ``adam.py``, ``adamw.py``, ``adamax.py``,
``nadam.py``, ``radam.py``, and the methods after Adam: ``adafactor.py``,
``muon.py`` (PyTorch's), ``lion.py`` and ``schedule_free.py`` (the authors' reference
implementations); each holds one class whose docstring gives the equation, the paper
and the differences from its reference, and whose ``update(p, g, state)`` is the rule. What they share (hyper-parameters, per-array state, ``step``, checkpoints) is in
``optimizer.py``. Use::

    opt = Adam(lr=1e-3)
    opt.step(params, grads)     # both dict name -> ndarray, or both lists of ndarrays
"""
from optlib.optim.adadelta import Adadelta
from optlib.optim.adafactor import Adafactor
from optlib.optim.adagrad import Adagrad
from optlib.optim.adam import Adam
from optlib.optim.adamax import Adamax
from optlib.optim.adamw import AdamW
from optlib.optim.lion import Lion
from optlib.optim.muon import Muon
from optlib.optim.nadam import NAdam
from optlib.optim.optimizer import Optimizer, OptimizerWrapper
from optlib.optim.radam import RAdam
from optlib.optim.rmsprop import RMSprop
from optlib.optim.schedule_free import AdamWScheduleFree
from optlib.optim.sgd import SGD

__all__ = [
    "Optimizer", "OptimizerWrapper", "SGD", "Adagrad", "RMSprop", "Adadelta",
    "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
    "Adafactor", "Muon", "Lion", "AdamWScheduleFree",
]
