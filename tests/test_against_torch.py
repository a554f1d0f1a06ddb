"""optlib's optimizers agree with torch.optim step for step.

torch is not a dependency of the course, so this file is skipped where it is not
installed. To run it: make a throwaway venv with ``pip install torch==2.13.0 -e .``
and ``python -m pytest tests/test_against_torch.py``.
"""
import numpy as np
import pytest

import optlib

torch = pytest.importorskip("torch")

# (optimizer name, hyper-parameters): every option that changes the update rule.
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, centered=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, eps=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
]


def _torch_kwargs(hyper):
    return {**hyper, "foreach": False}     # the plain single-tensor code path


def _trajectories(name, hyper, dtype, steps=60, seed=0):
    """Run optlib and torch side by side on the same gradients g = Aθ - b + noise."""
    rng = np.random.default_rng(seed)
    shapes = [(7,), (3, 4)]
    theta0 = [rng.normal(size=s).astype(dtype) for s in shapes]
    scales = [rng.uniform(0.1, 3.0, size=s).astype(dtype) for s in shapes]
    noise = [[rng.normal(size=s).astype(dtype) * 0.3 for s in shapes] for _ in range(steps)]

    ours = [t.copy() for t in theta0]
    opt = getattr(optlib, name)(**hyper)
    theirs = [torch.tensor(t.copy(), requires_grad=True) for t in theta0]
    topt = getattr(torch.optim, name)(theirs, **_torch_kwargs(hyper))
    worst = 0.0
    for k in range(steps):
        grads = [s * (p - 1) + n for s, p, n in zip(scales, ours, noise[k])]
        opt.step(ours, grads)
        for tp, s, n in zip(theirs, scales, noise[k]):
            with torch.no_grad():
                tp.grad = torch.tensor(s) * (tp.detach() - 1) + torch.tensor(n)
        topt.step()
        for p, tp in zip(ours, theirs):
            assert p.dtype == dtype
            ref = tp.detach().numpy()
            err = np.max(np.abs(p - ref) / (1e-3 + np.abs(ref)))
            worst = max(worst, float(err))
    return worst


@pytest.mark.parametrize("name,hyper", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_in_float64(name, hyper):
    # torch keeps NAdam's running product of momentum coefficients in a float32
    # scalar even for float64 parameters, so NAdam agrees to float32 precision only.
    tolerance = 1e-6 if name == "NAdam" else 1e-10
    assert _trajectories(name, hyper, np.float64) < tolerance


@pytest.mark.parametrize("name,hyper", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_in_float32(name, hyper):
    # 60 steps of float32 rounding, done in a different order than torch's kernels
    assert _trajectories(name, hyper, np.float32) < 1e-3
