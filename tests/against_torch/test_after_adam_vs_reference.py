"""optlib's optimizers after Adam against their references: a randomized differential test.

What it compares
    * ``Adafactor`` and ``Muon`` with ``torch.optim.Adafactor`` and ``torch.optim.Muon``
      (``foreach=False`` for Adafactor; Muon has only the single-tensor path);
    * ``Lion`` with the authors' ``lion_pytorch.Lion`` (package ``lion-pytorch``);
    * ``AdamWScheduleFree`` with the authors' ``schedulefree.AdamWScheduleFree``
      (``foreach=False``), including its ``train()`` / ``eval()`` switches;
    each run side by side on the same parameters and the same gradients, 30-50 steps.
    After every step, every parameter of optlib must equal the reference's.

How the configurations are drawn
    ``RANDOM_PER_OPTIMIZER`` random configurations per optimizer from the fixed seed
    ``SEED``, plus ``NAMED`` (the defaults and each option switched on), each in float32
    and float64. A configuration draws every hyper-parameter the reference takes, a few
    arrays of assorted shapes (Muon: 2-D only; Adafactor: no empty arrays, which
    torch's Adafactor divides by zero on), and a data seed for the gradients
    ``g = s * (theta - 1) + noise`` evaluated at the reference's current parameters,
    with some entries replaced by 0 or ±1e-30 and, except for schedule-free AdamW,
    ``None`` for some arrays at some steps. For schedule-free AdamW the reference is
    switched to ``train()`` before the first step, and at random steps both sides switch
    to ``eval`` (the averaged point ``x``, compared too) and back.

How they are compared
    As in ``test_optim_vs_torch.py``: inf and nan in the same places; on the finite
    entries ``max over steps |optlib - reference| / max(1, largest |value| seen)``
    must stay below the tolerance:

    * float64 1e-12, float32 5e-5 (as for the other optimizers): the same arithmetic up
      to the order of a few operations (torch's ``lerp``, ``addcmul``, ``rsqrt`` and
      norms round differently by an ulp or so);
    * Muon against ``torch.optim.Muon`` as it is: ``MUON_BFLOAT16_TOLERANCE``. torch runs
      the Newton-Schulz iteration in bfloat16 (8 significant bits), optlib in the
      parameter's dtype, so each update differs by about 1% of its size, which is
      ``lr`` times a factor of order 1 per step; the error relative to the parameters
      is then of order ``0.01 * adjusted lr * steps`` at most. The lr is drawn up to
      0.05 and the tolerance is 2e-2 (measured: 6.6e-3).
    * Muon against torch with its iteration patched to run in the parameter's dtype
      (``torch_muon_in_parameter_dtype``): the float tolerances above. That is the
      check that everything except the precision is the same.

Reproducing a failure
    A failure prints the configuration as a ``Config(...)`` literal;
    ``tools/torch_compare.sh tests/against_torch/test_after_adam_vs_reference.py -k 'Lion-r007'``
    runs it again.
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass

import numpy as np
import pytest

import optlib.optim

if os.environ.get("OPTLIB_REQUIRE_TORCH"):      # tools/torch_compare.sh: all must be there
    import lion_pytorch
    import schedulefree
    import torch
else:
    torch = pytest.importorskip("torch", reason="tools/torch_compare.sh runs this in .venv-torch")
    lion_pytorch = pytest.importorskip("lion_pytorch", reason="run by tools/torch_compare.sh")
    schedulefree = pytest.importorskip("schedulefree", reason="run by tools/torch_compare.sh")

SEED = 2026
RANDOM_PER_OPTIMIZER = 36           # 4 x 36 = 144 random configurations per run
NAMES = ["Adafactor", "Muon", "Lion", "AdamWScheduleFree"]

# Tolerances (error relative to the trajectory's largest magnitude; see the docstring).
# Largest errors measured over these 144 + 16 configurations and 144 more from seed 7:
#   float64 (all four, Muon patched): 4.9e-16;  float32: 3.8e-7 (Lion: 0, a sign
#   rounds to the same +-1 unless its argument is within an ulp of 0).
#   Muon against torch's bfloat16 iteration: 6.6e-3 (float64), 3.5e-3 (float32).
TOLERANCE = {"float64": 1e-12, "float32": 5e-5}
MUON_BFLOAT16_TOLERANCE = 2e-2

SHAPES = [(), (0,), (3, 0), (1,), (7,), (13,), (3, 4), (5, 1, 3), (2, 3, 5), (1, 1), (6, 2)]
MATRICES = [(3, 4), (4, 3), (1, 5), (5, 1), (1, 1), (7, 7), (2, 9), (0, 3), (8, 3)]


@dataclass(frozen=True)
class Config:
    """One comparison: everything needed to run it again."""

    name: str                 # the optlib class
    hyper: dict               # keyword arguments, the same on both sides
    dtype: str
    shapes: tuple
    steps: int
    seed: int
    use_dict: bool = False
    plain: bool = False       # no None gradients, no zeros or tiny values

    def __str__(self):
        return (f"Config(name={self.name!r}, hyper={self.hyper!r}, dtype={self.dtype!r}, "
                f"shapes={self.shapes!r}, steps={self.steps}, seed={self.seed}, "
                f"use_dict={self.use_dict}, plain={self.plain})")


# ----------------------------------------------------------------------------- drawing

def _log_uniform(rng, low, high):
    return float(10 ** rng.uniform(np.log10(low), np.log10(high)))


def _draw_hyper(name, rng):
    h = {}
    if name == "Adafactor":
        h["lr"] = _log_uniform(rng, 1e-4, 0.3)
        if rng.random() < 0.5:
            h["beta2_decay"] = 0.0 if rng.random() < 0.1 else -float(rng.uniform(0.3, 1.0))
        if rng.random() < 0.6:
            eps1 = None if rng.random() < 0.3 else _log_uniform(rng, 1e-30, 1e-3)
            h["eps"] = (eps1, _log_uniform(rng, 1e-6, 1e-1))
        if rng.random() < 0.5:
            h["d"] = float(rng.uniform(1.0, 3.0))
        if rng.random() < 0.5:
            h["weight_decay"] = _log_uniform(rng, 1e-4, 0.3)
        if rng.random() < 0.3:
            h["maximize"] = True
    elif name == "Muon":
        h["lr"] = _log_uniform(rng, 1e-4, 0.05)
        if rng.random() < 0.6:
            h["weight_decay"] = 0.0 if rng.random() < 0.3 else _log_uniform(rng, 1e-4, 0.3)
        if rng.random() < 0.6:
            h["momentum"] = float(rng.uniform(0.0, 0.99))
        if rng.random() < 0.4:
            h["nesterov"] = False
        if rng.random() < 0.3:
            h["ns_coefficients"] = [(1.5, -0.5, 0.0), (2.0, -1.5, 0.5),
                                    (3.0, -3.2, 1.2)][int(rng.integers(3))]
        if rng.random() < 0.4:
            h["ns_steps"] = int(rng.integers(0, 9))
        if rng.random() < 0.4:
            h["eps"] = _log_uniform(rng, 1e-12, 1e-3)
        if rng.random() < 0.6:
            h["adjust_lr_fn"] = ["original", "match_rms_adamw"][int(rng.integers(2))]
    elif name == "Lion":
        h["lr"] = _log_uniform(rng, 1e-5, 0.1)
        if rng.random() < 0.7:
            h["betas"] = (float(rng.uniform(0.0, 0.99)), float(1 - _log_uniform(rng, 1e-4, 0.5)))
        if rng.random() < 0.6:
            h["weight_decay"] = _log_uniform(rng, 1e-4, 1.0)
    else:                                       # AdamWScheduleFree
        h["lr"] = _log_uniform(rng, 1e-4, 0.3)
        if rng.random() < 0.7:
            h["betas"] = (float(rng.uniform(0.5, 0.99)), float(1 - _log_uniform(rng, 1e-4, 0.5)))
        if rng.random() < 0.5:
            h["eps"] = _log_uniform(rng, 1e-12, 1e-2)
        if rng.random() < 0.5:
            h["weight_decay"] = _log_uniform(rng, 1e-4, 0.3)
        if rng.random() < 0.5:
            h["warmup_steps"] = int(rng.integers(1, 30))
        if rng.random() < 0.4:
            h["r"] = float(rng.uniform(0.0, 2.0))
        if rng.random() < 0.4:
            h["weight_lr_power"] = float(rng.choice([0.0, rng.uniform(0.0, 3.0)]))
    return dict(sorted(h.items()))


def _shapes_for(name, rng):
    if name == "Muon":
        pool = MATRICES
    elif name == "Adafactor":
        pool = [s for s in SHAPES if 0 not in s]
    else:
        pool = SHAPES
    k = int(rng.integers(1, 5))
    return tuple(pool[i] for i in rng.choice(len(pool), size=k, replace=False))


def _draw_configs(seed=SEED, per_optimizer=RANDOM_PER_OPTIMIZER):
    rng = np.random.default_rng(seed)
    configs = []
    for name in NAMES:
        for i in range(per_optimizer):
            configs.append(Config(
                name=name, hyper=_draw_hyper(name, rng), dtype=("float32", "float64")[i % 2],
                shapes=_shapes_for(name, rng), steps=int(rng.integers(30, 51)),
                seed=int(rng.integers(2**31)), use_dict=bool(rng.random() < 0.2)))
    return configs


NAMED = [
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.05, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1, maximize=True)),
    ("Muon", dict()),
    ("Muon", dict(lr=0.02, nesterov=False, adjust_lr_fn="match_rms_adamw", weight_decay=0.0)),
    ("Lion", dict()),
    ("Lion", dict(lr=1e-3, betas=(0.95, 0.98), weight_decay=1.0)),
    ("AdamWScheduleFree", dict()),
    ("AdamWScheduleFree", dict(lr=0.01, warmup_steps=10, r=1.0, weight_lr_power=1.0,
                               weight_decay=0.1)),
]


def _named_configs():
    return [Config(name=name, hyper=hyper, dtype=dtype,
                   shapes=((4, 3), (3, 5)) if name == "Muon" else ((7,), (3, 4)),
                   steps=50, seed=3000 + i, plain=True)
            for i, (name, hyper) in enumerate(NAMED) for dtype in ("float64", "float32")]


RANDOM = _draw_configs()
CONFIGS = (
    [pytest.param(c, id=f"{c.name}-r{i % RANDOM_PER_OPTIMIZER:03d}-{c.dtype}")
     for i, c in enumerate(RANDOM)]
    + [pytest.param(c, id=f"{c.name}-named{i // 2:02d}-{c.dtype}")
       for i, c in enumerate(_named_configs())])


# ----------------------------------------------------------------------------- the data

def _data(config):
    """Initial parameters; step k's gradients from the reference's parameters; eval steps."""
    rng = np.random.default_rng(config.seed)
    dtype = np.dtype(config.dtype)
    theta0 = [np.asarray(rng.normal(size=s) * 10 ** rng.uniform(-1, 1), dtype) for s in config.shapes]
    curvature = [np.asarray(rng.uniform(0, 2, size=s), dtype) for s in config.shapes]
    noise_scale = 10 ** rng.uniform(-3, 1)
    p_none = float(rng.choice([0.0, 0.1, 0.3]))
    special = [[], [0.0], [1e-30, -1e-30]][int(rng.integers(3))]
    if config.plain:
        p_none, special = 0.0, []
    if config.name == "AdamWScheduleFree":
        p_none = 0.0          # its step count is per group there, per array here
    plan = []
    for _ in range(config.steps):
        row = []
        for s in config.shapes:
            if rng.random() < p_none:
                row.append(None)
                continue
            noise = np.asarray(rng.normal(size=s) * noise_scale, dtype)
            mask = rng.random(size=s) < (0.15 if special else 0.0)
            fill = (rng.choice(special, size=s) if special else np.zeros(s)).astype(dtype)
            row.append((noise, mask, fill))
        plan.append(row)
    evals = set(np.flatnonzero(rng.random(config.steps) < 0.15).tolist())

    def gradients(k, thetas):
        grads = []
        for theta, c, entry in zip(thetas, curvature, plan[k]):
            if entry is None:
                grads.append(None)
                continue
            noise, mask, fill = entry
            grads.append(np.asarray(np.where(mask, fill, c * (theta - 1) + noise), dtype=dtype))
        return grads

    return theta0, gradients, evals


def _reference(config, tensors):
    h = dict(config.hyper)
    if config.name == "Adafactor":
        return torch.optim.Adafactor(tensors, foreach=False, **h)
    if config.name == "Muon":
        return torch.optim.Muon(tensors, **h)
    if config.name == "Lion":
        return lion_pytorch.Lion(tensors, **h)
    opt = schedulefree.AdamWScheduleFree(tensors, foreach=False, **h)
    opt.train()
    return opt


def _tolerance(config):
    return TOLERANCE[config.dtype]


def _where(a):
    return {"nan": np.isnan(a), "+inf": np.isposinf(a), "-inf": np.isneginf(a)}


def compare(config, tolerance=None, test_id=None):
    """Run ``config`` in optlib and in its reference side by side; fail on a mismatch."""
    tolerance = _tolerance(config) if tolerance is None else tolerance
    try:
        opt = getattr(optlib.optim, config.name)(**config.hyper)
    except (TypeError, ValueError) as error:
        pytest.fail(f"optlib.optim.{config.name} rejects what its reference accepts: "
                    f"{type(error).__name__}: {error}\n  {config}", pytrace=False)
    theta0, gradients, evals = _data(config)
    ours = [t.copy() for t in theta0]
    theirs = [torch.tensor(t.copy()) for t in theta0]
    ref = _reference(config, theirs)
    keys = [f"p{i}" for i in range(len(ours))]
    scale = [max(1.0, float(np.max(np.abs(t), initial=0.0))) for t in theta0]
    worst = [(0.0, -1)] * len(ours)
    rerun = f"tools/torch_compare.sh -k '{test_id}'" if test_id else "compare(Config(...))"

    def fail(what):
        pytest.fail(f"optlib.optim.{config.name} differs from its reference: {what}\n"
                    f"  {config}\n  tolerance {tolerance:g}; rerun with {rerun}", pytrace=False)

    def check(k, when):
        for i, (a, t) in enumerate(zip(ours, theirs)):
            b = t.detach().numpy()
            if a.dtype != b.dtype or a.shape != b.shape:
                fail(f"parameter {i} became {a.dtype} {a.shape}, the reference's {b.dtype} {b.shape}")
            for kind, here in _where(a).items():
                there = _where(b)[kind]
                if not np.array_equal(here, there):
                    fail(f"{kind} in different places in parameter {i} {when} step {k + 1}: "
                         f"optlib {a[here != there][:5]} vs reference {b[here != there][:5]}")
            finite = np.isfinite(a)
            if finite.any():
                scale[i] = max(scale[i], float(np.abs(a[finite]).max()),
                               float(np.abs(b[finite]).max()))
                diff = float(np.abs(a[finite].astype(np.float64) - b[finite]).max())
                if diff > worst[i][0]:
                    worst[i] = (diff, k + 1)

    def arrays():
        return dict(zip(keys, ours)) if config.use_dict else ours

    with np.errstate(all="ignore"):
        for k in range(config.steps):
            grads = gradients(k, [t.numpy() for t in theirs])
            try:
                opt.step(arrays(), dict(zip(keys, grads)) if config.use_dict else grads)
            except Exception as error:
                where = traceback.format_exc(limit=-2).strip().replace("\n", "\n    ")
                fail(f"optlib raised {type(error).__name__} at step {k + 1}: {error}\n    {where}")
            for t, g in zip(theirs, grads):
                t.grad = None if g is None else torch.from_numpy(g.copy())
            ref.step()
            check(k, "after")
            if config.name == "AdamWScheduleFree" and (k in evals or k == config.steps - 1):
                opt.eval(arrays())
                ref.eval()
                check(k, "in eval mode after")
                opt.train(arrays())
                ref.train()
                check(k, "back in train mode after")
    errors = [d / s for (d, _), s in zip(worst, scale)]
    for i, (err, (diff, step)) in enumerate(zip(errors, worst)):
        if not err <= tolerance:
            fail(f"parameter {i} {config.shapes[i]}: error {err:.3g} (|optlib - reference| = "
                 f"{diff:.3g}, largest at step {step}, relative to the trajectory's largest "
                 f"magnitude {scale[i]:.3g})")
    return errors


# ----------------------------------------------------------------------------- Muon's precision

def _newton_schulz_in_parameter_dtype(grad, ns_coefficients, ns_steps, eps):
    """torch's ``_zeropower_via_newtonschulz`` without its cast to bfloat16."""
    a, b, c = ns_coefficients
    x = grad.clone()
    if grad.size(0) > grad.size(1):
        x = x.T
    x.div_(x.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram = x @ x.T
        update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        x = torch.addmm(x, update, x, beta=a)
    if grad.size(0) > grad.size(1):
        x = x.T
    return x


@pytest.fixture
def torch_muon_in_parameter_dtype(monkeypatch):
    """torch's Muon with the Newton-Schulz iteration in the parameter's dtype, as optlib's."""
    import torch.optim._muon as muon_module
    monkeypatch.setattr(muon_module, "_zeropower_via_newtonschulz",
                        _newton_schulz_in_parameter_dtype)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- the tests

@pytest.mark.parametrize("config", [c for c in CONFIGS if c.values[0].name != "Muon"])
def test_optimizer_matches_its_reference_step_for_step(config, request):
    compare(config, test_id=request.node.callspec.id)


@pytest.mark.parametrize("config", [c for c in CONFIGS if c.values[0].name == "Muon"])
def test_muon_matches_torch_with_the_iteration_in_the_parameters_dtype(
        config, request, torch_muon_in_parameter_dtype):
    compare(config, test_id=request.node.callspec.id)


@pytest.mark.parametrize("config", [c for c in CONFIGS if c.values[0].name == "Muon"])
def test_muon_matches_torchs_bfloat16_iteration_to_bfloat16_precision(config, request):
    compare(config, tolerance=MUON_BFLOAT16_TOLERANCE, test_id=request.node.callspec.id)


def test_muon_differs_from_torch_only_by_bfloat16_rounding():
    # One step from the same matrix: the updates differ by about bfloat16's rounding,
    # far more than float64's, and the patched iteration removes the difference.
    rng = np.random.default_rng(0)
    theta, g = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    ours = theta.copy()
    optlib.optim.Muon(lr=1.0, weight_decay=0.0).step([ours], [g])
    t = torch.tensor(theta.copy())
    t.grad = torch.tensor(g)
    torch.optim.Muon([t], lr=1.0, weight_decay=0.0).step()
    relative = np.abs(ours - t.numpy()).max() / np.abs(ours - theta).max()
    assert 1e-4 < relative < 5e-2


def test_lion_first_step_is_minus_lr_times_the_sign_like_the_reference():
    theta, g = np.array([1.0, -2.0, 0.0, 3.0]), np.array([0.5, -1e-30, 0.0, -7.0])
    ours = theta.copy()
    optlib.optim.Lion(lr=0.1).step([ours], [g])
    t = torch.tensor(theta.copy())
    t.grad = torch.tensor(g)
    lion_pytorch.Lion([t], lr=0.1).step()
    np.testing.assert_array_equal(ours, t.numpy())
    np.testing.assert_array_equal(ours, theta - 0.1 * np.sign(g))


def test_the_draw_covers_every_argument_and_both_dtypes():
    import inspect
    references = {"Adafactor": torch.optim.Adafactor, "Muon": torch.optim.Muon,
                  "Lion": lion_pytorch.Lion, "AdamWScheduleFree": schedulefree.AdamWScheduleFree}
    not_in_optlib = {"params", "foreach", "use_triton", "decoupled_weight_decay"}
    drawn = {(c.name, k) for c in RANDOM for k in c.hyper}
    for name, cls in references.items():
        accepted = set(inspect.signature(cls).parameters) - not_in_optlib
        assert {k for n, k in drawn if n == name} == accepted, name
        assert {c.dtype for c in RANDOM if c.name == name} == {"float32", "float64"}
        assert sum(c.name == name for c in RANDOM) >= 30
