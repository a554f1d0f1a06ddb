"""optlib's nine optimizers against ``torch.optim``: a randomized differential test.

What it compares
    SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam and RAdam, each run side by
    side with the ``torch.optim`` class of the same name (``foreach=False``: torch's plain
    single-tensor code path) on the same parameters and the same gradients, for 30-50
    steps. After every step, every parameter of optlib must equal torch's.

How the configurations are drawn
    ``CONFIGS`` is drawn from the fixed seed ``SEED``: ``RANDOM_PER_OPTIMIZER`` random
    configurations per optimizer, plus ``NAMED`` (hand-picked cases that switch on each
    option at least once, whatever the draw), each in float32 and float64. A configuration
    draws every hyper-parameter torch has (lr, momentum, dampening, nesterov, weight_decay,
    betas, eps, amsgrad, centered, rho, alpha, lr_decay, initial_accumulator_value,
    momentum_decay, maximize, decoupled_weight_decay), a few parameter arrays of assorted
    shapes (0-d, empty ``(0,)`` and ``(3, 0)``, length 1, odd sizes, 3-d), and a data seed
    for the gradients: ``g = s * (theta - 1) + noise`` evaluated at torch's current
    parameters (both sides get the very same gradient), with some entries replaced by 0,
    ±1e30 or ±1e-30, some whole steps of zeros, and ``None`` for some arrays at some steps
    (torch: ``p.grad = None`` skips the parameter, its state and step count stay). Some
    configurations pass dicts (name -> array) to optlib instead of lists. A few draws use
    values at the edge of torch's accepted range (momentum 1, rho 1, alpha 1, dampening
    above 1).

How they are compared
    * inf and nan must sit in the same places, with the same sign of inf, after every step;
    * on the finite entries, the error of a parameter is
      ``max over steps |optlib - torch| / max(1, largest |value| seen in its trajectory)``,
      the largest magnitude taken over both trajectories and every step. A parameter that
      went to 1e29 and came back keeps absolute errors of 1e29 x rounding, which this
      measure does not count against it (an error relative to the current value would).
    * the error must stay below ``TOLERANCE[dtype]`` (see there for the numbers and why).

Nothing is skipped
    optlib must accept every hyper-parameter torch accepts (including ``maximize`` and
    ``decoupled_weight_decay``, and the edge values); a draw that optlib rejects fails
    and names the option. (While the comparison is skipped as a whole where torch is
    not installed, tools/torch_compare.sh sets OPTLIB_REQUIRE_TORCH=1: there a missing
    torch fails too.)

Reproducing a failure
    A failure prints the whole configuration as a ``Config(...)`` literal and the test id.
    ``tools/torch_compare.sh -k '[Adam-r017'`` runs it again; or, in the comparison's
    environment (``.venv-torch``), from ``tests/against_torch``::

        from test_optim_vs_torch import Config, compare
        compare(Config(name="Adam", hyper={...}, dtype="float32", shapes=(...), steps=37,
                       seed=123, use_dict=False))
"""
from __future__ import annotations

import inspect
import os
import traceback
from dataclasses import dataclass

import numpy as np
import pytest

import optlib.optim

if os.environ.get("OPTLIB_REQUIRE_TORCH"):      # tools/torch_compare.sh: torch must be there
    import torch
else:
    torch = pytest.importorskip("torch", reason="not installed here; tools/torch_compare.sh runs this in .venv-torch")

SEED = 14
RANDOM_PER_OPTIMIZER = 40           # 9 x 40 = 360 random configurations per run
NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam"]

# Tolerances for the error above (relative to the largest magnitude of the trajectory),
# and the largest error measured over 1,484 configurations (these and 1,080 more drawn
# from another seed):
#   float64: 1e-12 (measured 3.3e-15). Both sides do the same float64 arithmetic up to
#            the order of a few operations (torch fuses some: lerp, addcmul, addcdiv,
#            each rounded once), so they differ by a few ulps per step.
#   float32: 5e-5 (measured 4.8e-7; 5.8e-6 for centered RMSprop, whose v - g_avg^2
#            cancels). Same, at float32's 6e-8 per ulp; a division by a small square root
#            turns one ulp of a state into several of the step.
#   NAdam in float64: 1e-7 (measured 7.8e-9; issue 14 saw 2.4e-8). torch keeps NAdam's
#            running product of momentum coefficients, mu_product, in a float32 scalar
#            (its default scalar dtype) even for float64 parameters, so its steps carry
#            float32 rounding; optlib keeps mu_product in float64.
#            test_nadam_differs_only_by_torchs_float32_mu_product pins that down.
TOLERANCE = {"float64": 1e-12, "float32": 5e-5}
NADAM_FLOAT64_TOLERANCE = 1e-7

SHAPES = [(), (0,), (3, 0), (1,), (7,), (13,), (3, 4), (5, 1, 3), (2, 3, 5), (1, 1)]


@dataclass(frozen=True)
class Config:
    """One comparison: everything needed to run it again."""

    name: str                 # the optimizer, in optlib.optim and torch.optim
    hyper: dict               # its keyword arguments (torch's names), the same on both sides
    dtype: str                # "float32" or "float64"
    shapes: tuple             # one parameter array per shape
    steps: int
    seed: int                 # the data: initial parameters, gradients, None gradients
    use_dict: bool = False    # optlib gets dicts name -> array instead of lists
    edge: tuple = ()          # hyper-parameters drawn at the edge of torch's accepted range
    plain: bool = False       # plain data: no None gradients, no zeros or extreme values

    def __str__(self):
        return (f"Config(name={self.name!r}, hyper={self.hyper!r}, dtype={self.dtype!r}, "
                f"shapes={self.shapes!r}, steps={self.steps}, seed={self.seed}, "
                f"use_dict={self.use_dict}, edge={self.edge!r}, plain={self.plain})")


# ----------------------------------------------------------------------------- drawing

def _log_uniform(rng, low, high):
    return float(10 ** rng.uniform(np.log10(low), np.log10(high)))


def _draw_hyper(name, rng):
    """Random hyper-parameters for ``name``, all inside torch's accepted ranges."""
    h, edge = {}, []
    h["lr"] = 0.0 if rng.random() < 0.03 else _log_uniform(rng, 1e-4, 0.3)
    if rng.random() < 0.6:
        h["weight_decay"] = _log_uniform(rng, 1e-4, 0.3)
    if rng.random() < 0.5:
        h["eps"] = _log_uniform(rng, 1e-12, 1e-2)
    if rng.random() < 0.3:
        h["maximize"] = True
    if name == "SGD":
        h.pop("eps", None)                     # SGD has no eps
        if rng.random() < 0.7:
            h["momentum"] = float(rng.uniform(0.0, 0.99))
            if rng.random() < 0.03:
                h["momentum"] = 1.0
                edge.append("momentum")
        if rng.random() < 0.4:
            h["dampening"] = float(rng.uniform(0.0, 1.0))
            if rng.random() < 0.05:
                h["dampening"] = float(rng.uniform(1.0, 1.5))
                edge.append("dampening")
        if h.get("momentum", 0) > 0 and h.get("dampening", 0) == 0 and rng.random() < 0.5:
            h["nesterov"] = True
    elif name == "Adagrad":
        if rng.random() < 0.5:
            h["lr_decay"] = _log_uniform(rng, 1e-4, 0.5)
        if rng.random() < 0.5:
            h["initial_accumulator_value"] = float(rng.choice([0.0, rng.uniform(0, 1), 10.0]))
    elif name == "RMSprop":
        if rng.random() < 0.7:
            h["alpha"] = float(1 - _log_uniform(rng, 1e-4, 0.5))
            if rng.random() < 0.03:
                h["alpha"] = 1.0
                edge.append("alpha")
        if rng.random() < 0.5:
            h["momentum"] = float(rng.uniform(0.0, 0.99))
        if rng.random() < 0.5:
            h["centered"] = True
    elif name == "Adadelta":
        h["lr"] = _log_uniform(rng, 1e-2, 1.0)
        if rng.random() < 0.7:
            h["rho"] = float(rng.uniform(0.0, 0.999))
            if rng.random() < 0.03:
                h["rho"] = 1.0
                edge.append("rho")
    else:                                      # the Adam family: betas
        if rng.random() < 0.8:
            beta1 = 0.0 if rng.random() < 0.1 else float(rng.uniform(0.5, 0.99))
            beta2 = float(1 - _log_uniform(rng, 1e-4, 0.5))
            h["betas"] = (beta1, beta2)
        if name in ("Adam", "AdamW") and rng.random() < 0.4:
            h["amsgrad"] = True
        if name == "NAdam" and rng.random() < 0.6:
            h["momentum_decay"] = float(rng.choice([0.0, _log_uniform(rng, 1e-4, 0.5)]))
        if name in ("Adam", "NAdam", "RAdam") and rng.random() < 0.4:
            h["decoupled_weight_decay"] = True
    return dict(sorted(h.items())), tuple(edge)


def _draw_configs(seed=SEED, per_optimizer=RANDOM_PER_OPTIMIZER):
    rng = np.random.default_rng(seed)
    configs = []
    for name in NAMES:
        for _ in range(per_optimizer):
            hyper, edge = _draw_hyper(name, rng)
            k = int(rng.integers(1, 5))
            shapes = tuple(SHAPES[i] for i in rng.choice(len(SHAPES), size=k, replace=False))
            configs.append(Config(
                name=name, hyper=hyper, dtype=str(rng.choice(["float32", "float64"])),
                shapes=shapes, steps=int(rng.integers(30, 51)), seed=int(rng.integers(2**31)),
                use_dict=bool(rng.random() < 0.2), edge=edge))
    return configs


# Hand-picked cases (the comparison's earlier fixed list, and the options torch added
# since): each option switched on at least once whatever the random draw gives, in both
# dtypes, on plain data.
NAMED = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-3, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, eps=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]


def _named_configs():
    return [Config(name=name, hyper=hyper, dtype=dtype, shapes=((7,), (3, 4)), steps=50,
                   seed=1000 + i, plain=True)
            for i, (name, hyper) in enumerate(NAMED) for dtype in ("float64", "float32")]


RANDOM = _draw_configs()
CONFIGS = (
    [pytest.param(c, id=f"{c.name}-r{i % RANDOM_PER_OPTIMIZER:03d}-{c.dtype}")
     for i, c in enumerate(RANDOM)]
    + [pytest.param(c, id=f"{c.name}-named{i // 2:02d}-{c.dtype}")
       for i, c in enumerate(_named_configs())])


# ----------------------------------------------------------------------------- the data

def _data(config):
    """Initial parameters, and a function that makes step k's gradients from torch's parameters."""
    rng = np.random.default_rng(config.seed)
    dtype = np.dtype(config.dtype)
    theta0 = [np.asarray(rng.normal(size=s) * 10 ** rng.uniform(-1, 1), dtype) for s in config.shapes]
    curvature = [np.asarray(rng.uniform(0, 2, size=s), dtype) for s in config.shapes]
    noise_scale = 10 ** rng.uniform(-3, 1)
    p_none = float(rng.choice([0.0, 0.1, 0.3]))
    special = rng.choice(["none", "zeros", "huge", "tiny", "mixed"])
    if config.plain:
        p_none, special = 0.0, "none"
    values = {"none": [], "zeros": [0.0], "huge": [1e30, -1e30], "tiny": [1e-30, -1e-30],
              "mixed": [0.0, 1e30, -1e30, 1e-30, -1e-30]}[special]
    plan = []                                  # per step: per array (noise, mask, values) or None
    for _ in range(config.steps):
        zero_step = rng.random() < 0.05 and not config.plain
        row = []
        for s in config.shapes:
            if rng.random() < p_none:
                row.append(None)
                continue
            noise = np.asarray(rng.normal(size=s) * noise_scale, dtype)
            mask = rng.random(size=s) < (0.15 if values else 0.0)
            fill = rng.choice(values, size=s) if values else np.zeros(s)
            if zero_step:
                mask = np.ones(s, dtype=bool)
                fill = np.zeros(s)
            row.append((noise, mask, fill.astype(dtype)))
        plan.append(row)

    def gradients(k, thetas):
        grads = []
        for theta, c, entry in zip(thetas, curvature, plan[k]):
            if entry is None:
                grads.append(None)
                continue
            noise, mask, fill = entry
            g = np.where(mask, fill, c * (theta - 1) + noise)      # an ndarray, also 0-d
            grads.append(np.asarray(g, dtype=dtype))
        return grads

    return theta0, gradients


# ----------------------------------------------------------------------------- the comparison

def _optlib_optimizer(config):
    """optlib's optimizer for ``config``: whatever torch accepts, optlib must accept too."""
    cls = getattr(optlib.optim, config.name)
    try:
        return cls(**config.hyper)
    except (TypeError, ValueError) as error:
        edge = f" (drawn at the edge of torch's range: {', '.join(config.edge)})" if config.edge else ""
        pytest.fail(f"optlib.optim.{config.name} rejects hyper-parameters that "
                    f"torch.optim.{config.name} accepts{edge}: {type(error).__name__}: {error}\n"
                    f"  {config}", pytrace=False)


def _tolerance(config):
    if config.name == "NAdam" and config.dtype == "float64":
        return NADAM_FLOAT64_TOLERANCE
    return TOLERANCE[config.dtype]


def _where(a):
    return {"nan": np.isnan(a), "+inf": np.isposinf(a), "-inf": np.isneginf(a)}


def compare(config, tolerance=None, test_id=None):
    """Run ``config`` in optlib and torch side by side; fail with the details on a mismatch.

    Returns the error of every parameter (see the module's docstring).
    """
    tolerance = _tolerance(config) if tolerance is None else tolerance
    opt = _optlib_optimizer(config)
    theta0, gradients = _data(config)
    ours = [t.copy() for t in theta0]
    theirs = [torch.tensor(t.copy()) for t in theta0]
    topt = getattr(torch.optim, config.name)(theirs, foreach=False, **config.hyper)
    keys = [f"p{i}" for i in range(len(ours))]
    scale = [max(1.0, float(np.max(np.abs(t), initial=0.0))) for t in theta0]
    worst = [(0.0, -1)] * len(ours)             # (largest |optlib - torch|, its step)

    rerun = (f"tools/torch_compare.sh -k '[{test_id}]'" if test_id else
             "compare(Config(...)) from tests/against_torch/test_optim_vs_torch.py")

    def fail(what):
        pytest.fail(f"optlib.optim.{config.name} differs from torch.optim.{config.name}: {what}\n"
                    f"  {config}\n  tolerance {tolerance:g}; rerun with {rerun}",
                    pytrace=False)

    with np.errstate(all="ignore"):
        for k in range(config.steps):
            grads = gradients(k, [t.numpy() for t in theirs])
            try:
                if config.use_dict:
                    opt.step(dict(zip(keys, ours)), dict(zip(keys, grads)))
                else:
                    opt.step(ours, grads)
            except Exception as error:
                where = traceback.format_exc(limit=-2).strip().replace("\n", "\n    ")
                fail(f"optlib raised {type(error).__name__} at step {k + 1}: {error}\n    {where}")
            for t, g in zip(theirs, grads):
                t.grad = None if g is None else torch.from_numpy(g.copy())
            topt.step()
            for i, (a, t) in enumerate(zip(ours, theirs)):
                b = t.detach().numpy()
                if a.dtype != b.dtype or a.shape != b.shape:
                    fail(f"parameter {i} became {a.dtype} {a.shape}, torch's is {b.dtype} {b.shape}")
                for kind, here in _where(a).items():
                    there = _where(b)[kind]
                    if not np.array_equal(here, there):
                        at = np.argwhere(here != there)[:5].tolist()
                        fail(f"{kind} in different places in parameter {i} {a.shape} after step "
                             f"{k + 1}: optlib {a[here != there][:5]} vs torch {b[here != there][:5]} "
                             f"at {at}")
                finite = np.isfinite(a)
                if finite.any():
                    scale[i] = max(scale[i], float(np.abs(a[finite]).max()),
                                   float(np.abs(b[finite]).max()))
                    diff = float(np.abs(a[finite].astype(np.float64) - b[finite]).max())
                    if diff > worst[i][0]:
                        worst[i] = (diff, k + 1)
    errors = [d / s for (d, _), s in zip(worst, scale)]
    for i, (err, (diff, step)) in enumerate(zip(errors, worst)):
        if not err <= tolerance:
            fail(f"parameter {i} {config.shapes[i]}: error {err:.3g} (|optlib - torch| = {diff:.3g}, "
                 f"largest at step {step}, relative to the trajectory's largest magnitude "
                 f"{scale[i]:.3g})")
    return errors


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)     # tiny tensors: threads only cost time (and share 2 cores)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("config", CONFIGS)
def test_optimizer_matches_torch_step_for_step(config, request):
    compare(config, test_id=request.node.callspec.id)


# Mismatches this comparison found (issue 14), each as its smallest example.

def test_sgd_with_momentum_and_weight_decay_on_a_0d_parameter_matches_torch():
    p, t = np.array(1.0), torch.tensor(1.0, dtype=torch.float64)
    opt = optlib.optim.SGD(lr=.1, momentum=.9, weight_decay=.1)
    topt = torch.optim.SGD([t], lr=.1, momentum=.9, weight_decay=.1, foreach=False)
    for _ in range(5):
        opt.step([p], [np.array(1.0)])
        t.grad = torch.tensor(1.0, dtype=torch.float64)
        topt.step()
    assert float(p) == pytest.approx(t.item(), rel=1e-12)      # -0.412, not 0.45


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_parameter_is_left_as_it_is_like_torch(name):
    p, t = np.zeros((3, 0)), torch.zeros((3, 0))
    topt = getattr(torch.optim, name)([t], foreach=False)
    t.grad = torch.zeros((3, 0))
    topt.step()
    getattr(optlib.optim, name)().step([p], [np.zeros((3, 0))])    # no BLAS error
    assert p.shape == tuple(t.shape) == (3, 0)


def test_centered_rmsprop_in_float32_survives_a_huge_gradient_like_torch():
    # torch's fused addcmul gives v - g_avg^2 = inf - 1e56 = inf (a zero step), where an
    # unfused float32 product would overflow: inf - inf = nan.
    p, t = np.ones(1, np.float32), torch.ones(1)
    optlib.optim.RMSprop(centered=True).step([p], [np.full(1, 1e30, np.float32)])
    topt = torch.optim.RMSprop([t], centered=True, foreach=False)
    t.grad = torch.full((1,), 1e30)
    topt.step()
    np.testing.assert_array_equal(p, t.numpy())


def test_the_draw_covers_every_option_dtype_and_kind_of_shape():
    drawn = {(c.name, k) for c in RANDOM for k in c.hyper}
    for name in NAMES:
        accepted = set(inspect.signature(getattr(torch.optim, name)).parameters)
        accepted -= {"params", "foreach", "capturable", "differentiable", "fused"}
        assert {k for n, k in drawn if n == name} == accepted, name
    assert {c.dtype for c in RANDOM} == {"float32", "float64"}
    shapes = {s for c in RANDOM for s in c.shapes}
    assert {(), (0,), (3, 0)} <= shapes
    assert len(RANDOM) >= 300


def test_nadam_differs_only_by_torchs_float32_mu_product():
    # With float64 as torch's default dtype, its scalars (step, mu_product) are float64
    # too, and NAdam in float64 then agrees to float64 rounding.
    config = Config(name="NAdam", hyper=dict(lr=0.01, momentum_decay=0.01, weight_decay=0.1),
                    dtype="float64", shapes=((7,), (3, 4)), steps=50, seed=7)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        compare(config, tolerance=TOLERANCE["float64"])
    finally:
        torch.set_default_dtype(default)
