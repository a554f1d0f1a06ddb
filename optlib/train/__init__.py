"""Training: the loop (``fit``, ``evaluate``, ``gradient``), its callbacks, the learning-rate
range test and hyper-parameter search."""
from optlib.train.loop import History, evaluate, fit, gradient

__all__ = ["History", "evaluate", "fit", "gradient"]
