"""optlib.nn's layers and losses against ``torch.nn`` and ``torch.nn.functional``.

What it compares
    * ``Linear`` (with and without bias), ``ReLU``, ``Tanh``, ``Sigmoid``: the output,
      the input gradient and the parameter gradients for a random upstream gradient
      ``dout`` (torch: ``y.backward(dout)``);
    * ``BatchNorm1d`` with every option (momentum a number, 0, 1 or ``None``; ``eps``;
      ``affine=False``; ``track_running_stats=False``): a few training batches, then
      evaluation batches, then training again, comparing outputs, input gradients,
      weight and bias gradients, the running statistics, ``num_batches_tracked`` and
      the whole ``state_dict`` (same keys, same values);
    * the losses ``mse`` (``F.mse_loss``) and ``softmax_cross_entropy``
      (``F.cross_entropy``), value and gradient, and ``softmax``;
    * whole networks: ``MLP`` with each activation, and Linear-BatchNorm-ReLU, trained
      for a few steps with SGD with momentum on both sides (parameters, running
      statistics and losses must stay together).

How
    Every case is drawn from its own seed (the test id carries it): shapes (batch sizes
    0 and 1 included where torch accepts them, 0-d and empty arrays for the activations),
    dtypes float32 and float64, inputs over several orders of magnitude, with exact
    zeros and large values, and logits up to 1e3 (the losses must not overflow). Weights
    are copied from optlib into torch, so both sides start equal. Arrays are compared
    like the optimizers (tests/against_torch/test_optim_vs_torch.py): inf and nan in the same
    places, then ``max |optlib - torch| / max(1, max |torch|)`` below ``TOLERANCE``.

Reproducing a failure
    A failure names the case's parameters (``case=...``); the test id (e.g.
    ``test_linear_matches_torch[seed7]``) runs it again with
    ``tools/torch_compare.sh -k 'linear and seed7'``.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import optlib.optim
from optlib.nn import MLP, BatchNorm1d, Linear, ReLU, Sequential, Sigmoid, Tanh, losses

if os.environ.get("OPTLIB_REQUIRE_TORCH"):      # tools/torch_compare.sh: torch must be there
    import torch
else:
    torch = pytest.importorskip("torch", reason="not installed here; tools/torch_compare.sh runs this in .venv-torch")

F = torch.nn.functional

# Error relative to the largest magnitude, as for the optimizers: a few ulps of the dtype
# (measured at most 6e-7 in float32 and 1e-15 in float64, sums being done in a different
# order). BatchNorm1d's are scaled by its condition number (see _batchnorm_condition):
# subtracting the batch mean from features whose mean is up to 30 times their spread,
# or a constant feature, loses digits on both sides.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
CASES = 40                                   # random cases per test below
SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in range(CASES)]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)     # small tensors: threads only cost time (and share 2 cores)
    yield
    torch.set_num_threads(threads)


def _numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def assert_matches(what, ours, theirs, dtype, case, scale=1.0, condition=1.0):
    """optlib's array equals torch's: same shape, inf/nan in the same places, close elsewhere.

    The error is relative to ``max(scale, largest |torch value|)`` (``scale``: the size of
    the terms that cancel into a small result) and may grow with ``condition``, the
    factor by which the computation itself magnifies rounding (on both sides).
    """
    a, b = np.asarray(ours), _numpy(theirs)
    context = f"{what}: optlib differs from torch\n  case={case}"
    assert a.shape == b.shape, f"{context}\n  shapes {a.shape} vs {b.shape}"
    for kind, test in (("nan", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        assert np.array_equal(test(a), test(b)), \
            f"{context}\n  {kind} in different places: optlib {a} vs torch {b}"
    finite = np.isfinite(a)
    if not finite.any():
        return
    scale = max(1.0, scale, float(np.abs(b[finite]).max()))
    err = float(np.abs(a[finite].astype(np.float64) - b[finite]).max()) / scale
    tol = TOLERANCE[dtype] * condition
    assert err <= tol, (f"{context}\n  error {err:.3g} > {tol:g} (scale {scale:.3g}, "
                        f"condition {condition:.3g})")


def _values(rng, shape, dtype, extreme=False):
    """Normal values over several orders of magnitude, with exact zeros (and extremes)."""
    x = rng.normal(size=shape) * 10 ** rng.uniform(-2, 2)
    x = np.where(rng.random(size=shape) < 0.1, 0.0, x)
    if extreme:
        x = np.where(rng.random(size=shape) < 0.1, rng.choice([-1e4, -50.0, 50.0, 1e4], size=shape), x)
        x = np.where(rng.random(size=shape) < 0.03, rng.choice([-np.inf, np.inf], size=shape), x)
    return np.asarray(x, dtype)


def _dtype(rng):
    return [np.float32, np.float64][int(rng.integers(2))]


def _copy_into(tensor, array):
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.array(array)))


# ----------------------------------------------------------------------------- Linear

@pytest.mark.parametrize("seed", SEEDS)
def test_linear_matches_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    n_in, n_out = (int(v) for v in rng.integers(1, 10, size=2))
    B = int(rng.choice([0, 1, rng.integers(2, 17)]))
    bias = bool(rng.random() < 0.7)
    case = dict(in_features=n_in, out_features=n_out, batch=B, bias=bias, dtype=dtype.__name__,
                seed=seed)
    ours = Linear(n_in, n_out, bias=bias, seed=seed, dtype=dtype)
    if bias:
        ours.bias[:] = rng.normal(size=n_out)
    theirs = torch.nn.Linear(n_in, n_out, bias=bias, dtype=TORCH_DTYPE[dtype])
    _copy_into(theirs.weight, ours.weight)
    if bias:
        _copy_into(theirs.bias, ours.bias)
    x = _values(rng, (B, n_in), dtype)
    dout = _values(rng, (B, n_out), dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(dout))
    assert_matches("Linear output", ours(x), yt, dtype, case)
    assert_matches("Linear input gradient", ours.backward(dout), xt.grad, dtype, case)
    assert_matches("Linear weight gradient", ours.weight_grad, theirs.weight.grad, dtype, case)
    if bias:
        assert_matches("Linear bias gradient", ours.bias_grad, theirs.bias.grad, dtype, case)


# ----------------------------------------------------------------------------- activations

ACTIVATIONS = {"ReLU": (ReLU, torch.nn.ReLU), "Tanh": (Tanh, torch.nn.Tanh),
               "Sigmoid": (Sigmoid, torch.nn.Sigmoid)}
ACTIVATION_SHAPES = [(), (0,), (3, 0), (1,), (7,), (4, 5), (2, 3, 4)]


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("seed", SEEDS[:15])
def test_activation_matches_torch(name, seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    shape = ACTIVATION_SHAPES[int(rng.integers(len(ACTIVATION_SHAPES)))]
    case = dict(activation=name, shape=shape, dtype=dtype.__name__, seed=seed)
    ours, theirs = (cls() for cls in ACTIVATIONS[name])
    x = _values(rng, shape, dtype, extreme=True)
    dout = _values(rng, shape, dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(dout))
    assert_matches(f"{name} output", ours(x), yt, dtype, case)
    assert_matches(f"{name} input gradient", ours.backward(dout), xt.grad, dtype, case)


def test_relu_derivative_at_zero_is_zero_as_in_torch():
    x = np.array([-1.0, 0.0, 1.0])
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.ReLU()(xt).backward(torch.ones(3, dtype=torch.float64))
    relu = ReLU()
    relu(x)
    np.testing.assert_array_equal(relu.backward(np.ones(3)), xt.grad.numpy())


# ----------------------------------------------------------------------------- BatchNorm1d

def _batchnorm_case(rng, seed):
    momentum = rng.choice(["default", "random", "none", "zero", "one"])
    kwargs = {"default": {}, "random": {"momentum": float(rng.uniform(0, 1))},
              "none": {"momentum": None}, "zero": {"momentum": 0.0},
              "one": {"momentum": 1.0}}[momentum]
    if rng.random() < 0.3:
        kwargs["eps"] = float(10 ** rng.uniform(-8, -1))
    if rng.random() < 0.25:
        kwargs["affine"] = False
    if rng.random() < 0.25:
        kwargs["track_running_stats"] = False
    return dict(num_features=int(rng.integers(1, 8)), kwargs=kwargs, dtype=_dtype(rng).__name__,
                train_steps=int(rng.integers(1, 5)), eval_steps=int(rng.integers(1, 3)), seed=seed)


def _batch(rng, B, C, dtype):
    """Features with means up to 30 spreads away from 0, and now and then a constant one."""
    spread = 10 ** rng.uniform(-1, 1, size=C)
    mean = rng.uniform(-30, 30, size=C) * spread * (rng.random(size=C) < 0.7)
    x = mean + spread * rng.normal(size=(B, C))
    if rng.random() < 0.2:
        x[:, int(rng.integers(C))] = float(rng.normal())     # zero variance in one feature
    return np.asarray(x, dtype)


def _batchnorm_condition(layer, x, dout):
    """How much batch normalization magnifies rounding, and the size of its gradient's terms.

    x - mean loses the digits of |x| against the spread sqrt(var + eps): the output's
    rounding grows with cond = max |x| / sqrt(var + eps), on both sides (for a constant
    feature the mean's own rounding, amplified by 1/sqrt(eps)). The input gradient is
    a difference of terms of size |gamma| |dout| / sqrt(var + eps), which can cancel to
    nearly 0 (a batch of 2), so its error is measured against those terms.
    """
    x = x.astype(np.float64)
    if layer.training or not layer.track_running_stats:
        var, mean = x.var(axis=0), x.mean(axis=0)
    else:
        var, mean = layer.running_var.astype(np.float64), layer.running_mean.astype(np.float64)
    inv_std = 1 / np.sqrt(var + layer.eps)
    gamma = np.abs(layer.weight) if layer.affine else 1.0
    cond = max(1.0, float((np.maximum(np.abs(x), np.abs(mean)) * inv_std).max()))
    return cond, float((gamma * inv_std * np.abs(dout).max(axis=0)).max())


@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_trains_evaluates_and_saves_like_torch(seed):
    rng = np.random.default_rng(seed)
    case = _batchnorm_case(rng, seed)
    C, dtype, kwargs = case["num_features"], getattr(np, case["dtype"]), case["kwargs"]
    ours = BatchNorm1d(C, dtype=dtype, **kwargs)
    theirs = torch.nn.BatchNorm1d(C, dtype=TORCH_DTYPE[dtype], **kwargs)
    if ours.affine:
        ours.weight[:] = rng.uniform(-2, 2, C)
        ours.bias[:] = rng.normal(size=C)
        _copy_into(theirs.weight, ours.weight)
        _copy_into(theirs.bias, ours.bias)

    def one_batch(phase, B):
        x = _batch(rng, B, C, dtype)
        dout = _values(rng, (B, C), dtype)
        cond, dx_scale = _batchnorm_condition(ours, x, dout)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.backward(torch.from_numpy(dout))
        here = f"BatchNorm1d ({phase}, batch of {B})"
        assert_matches(f"{here} output", ours(x), yt, dtype, case, condition=cond)
        assert_matches(f"{here} input gradient", ours.backward(dout), xt.grad, dtype, case,
                       scale=dx_scale, condition=cond)
        if ours.affine:
            assert_matches(f"{here} weight gradient", ours.weight_grad, theirs.weight.grad, dtype,
                           case, condition=cond)
            assert_matches(f"{here} bias gradient", ours.bias_grad, theirs.bias.grad, dtype, case)
            theirs.weight.grad = theirs.bias.grad = None
        if ours.track_running_stats:
            assert_matches(f"{here} running_mean", ours.running_mean, theirs.running_mean, dtype, case)
            assert_matches(f"{here} running_var", ours.running_var, theirs.running_var, dtype, case)
            assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked), case

    for _ in range(case["train_steps"]):
        one_batch("training", int(rng.integers(2, 17)))
    ours.eval()
    theirs.eval()
    for _ in range(case["eval_steps"]):
        # Without running statistics the layer normalizes with the batch's: 2 rows at least.
        low = 1 if ours.track_running_stats else 2
        one_batch("evaluation", int(rng.integers(low, 9)))
    ours.train()
    theirs.train()
    one_batch("training again", int(rng.integers(2, 17)))

    state, their_state = ours.state_dict(), theirs.state_dict()
    assert set(state) == set(their_state), f"state_dict keys differ\n  case={case}"
    for name, value in state.items():
        assert_matches(f"BatchNorm1d state_dict[{name!r}]", value, their_state[name], dtype, case)


def test_batchnorm_with_momentum_none_resumes_from_its_state_dict_like_torch():
    # num_batches_tracked is in the state: the cumulative average continues where it stopped.
    rng = np.random.default_rng(0)
    first = BatchNorm1d(3, momentum=None, dtype=np.float64)
    theirs = torch.nn.BatchNorm1d(3, momentum=None, dtype=torch.float64)
    for _ in range(3):
        x = rng.normal(size=(5, 3))
        first(x)
        theirs(torch.from_numpy(x))
    resumed = BatchNorm1d(3, momentum=None, dtype=np.float64)
    resumed.load_state_dict(first.state_dict())
    x = rng.normal(size=(5, 3))
    resumed(x)
    theirs(torch.from_numpy(x))
    case = "momentum=None, resumed after 3 batches"
    assert_matches("running_mean", resumed.running_mean, theirs.running_mean, np.float64, case)
    assert_matches("running_var", resumed.running_var, theirs.running_var, np.float64, case)


# ----------------------------------------------------------------------------- losses

@pytest.mark.parametrize("seed", SEEDS)
def test_mse_matches_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    B = int(rng.integers(1, 17))
    shape = (B,) if rng.random() < 0.3 else (B, int(rng.integers(1, 6)))
    case = dict(shape=shape, dtype=dtype.__name__, seed=seed)
    pred, target = _values(rng, shape, dtype), _values(rng, shape, dtype)
    pt = torch.tensor(pred, requires_grad=True)
    lt = F.mse_loss(pt, torch.from_numpy(target))
    lt.backward()
    loss, dpred = losses.mse(pred, target)
    assert_matches("mse value", loss, lt, dtype, case)
    assert_matches("mse gradient", dpred, pt.grad, dtype, case)


def test_mse_of_a_column_against_a_flat_target_is_torchs_with_that_target_as_a_column():
    # optlib accepts a (B,) target for a (B, 1) prediction; torch would broadcast it to
    # (B, B) with a warning. The value is torch's for the target as a column.
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(6, 1)), rng.normal(size=6)
    pt = torch.tensor(pred, requires_grad=True)
    lt = F.mse_loss(pt, torch.from_numpy(target[:, None]))
    lt.backward()
    loss, dpred = losses.mse(pred, target)
    assert_matches("mse value", loss, lt, np.float64, "(6, 1) vs (6,)")
    assert_matches("mse gradient", dpred, pt.grad, np.float64, "(6, 1) vs (6,)")


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy_matches_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    B, C = int(rng.integers(1, 17)), int(rng.integers(1, 9))
    scale = float(10 ** rng.uniform(-1, 3))                    # logits up to ~1e3: no overflow
    case = dict(batch=B, classes=C, logit_scale=scale, dtype=dtype.__name__, seed=seed)
    logits = np.asarray(rng.normal(size=(B, C)) * scale, dtype)
    labels = rng.integers(0, C, size=B)
    zt = torch.tensor(logits, requires_grad=True)
    lt = F.cross_entropy(zt, torch.from_numpy(labels))
    lt.backward()
    loss, dlogits = losses.softmax_cross_entropy(logits, labels)
    assert_matches("cross-entropy value", loss, lt, dtype, case)
    assert_matches("cross-entropy gradient", dlogits, zt.grad, dtype, case)
    assert_matches("softmax", losses.softmax(logits), torch.softmax(torch.from_numpy(logits), 1),
                   dtype, case)


# ----------------------------------------------------------------------------- networks

def _torch_copy(model, dtype):
    """torch.nn.Sequential with the layers and the current weights of an optlib Sequential."""
    layers = []
    for layer in model:
        if isinstance(layer, Linear):
            t = torch.nn.Linear(layer.in_features, layer.out_features,
                                bias=layer.bias is not None, dtype=TORCH_DTYPE[dtype])
        elif isinstance(layer, BatchNorm1d):
            t = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                     dtype=TORCH_DTYPE[dtype])
        else:
            t = {ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, Sigmoid: torch.nn.Sigmoid}[type(layer)]()
        layers.append(t)
    theirs = torch.nn.Sequential(*layers)
    state = theirs.state_dict()
    for name, value in model.state_dict().items():
        state[name] = torch.from_numpy(np.array(value))
    theirs.load_state_dict(state)
    return theirs


def _train_side_by_side(ours, dtype, loss_name, steps, rng, case, n_in, n_out):
    theirs = _torch_copy(ours, dtype)
    assert set(theirs.state_dict()) == set(ours.state_dict()), case
    opt = optlib.optim.SGD(lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, foreach=False)
    params, grads = ours.parameters(), ours.gradients()
    for step in range(steps):
        x = np.asarray(rng.normal(size=(16, n_in)), dtype)
        if loss_name == "mse":
            y = np.asarray(rng.normal(size=(16, n_out)), dtype)
            loss, dout = losses.mse(ours(x), y)
            tloss = F.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        else:
            y = rng.integers(0, n_out, 16)
            loss, dout = losses.softmax_cross_entropy(ours(x), y)
            tloss = F.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        ours.backward(dout)
        topt.zero_grad()
        tloss.backward()
        tgrads = {name: p.grad for name, p in theirs.named_parameters()}
        for name, g in grads.items():
            assert_matches(f"gradient of {name} at step {step + 1}", g, tgrads[name], dtype, case)
        assert_matches(f"loss at step {step + 1}", loss, tloss, dtype, case)
        opt.step(params, grads)
        topt.step()
    for name, value in ours.state_dict().items():
        assert_matches(f"{name} after {steps} steps", value, theirs.state_dict()[name], dtype, case)
    ours.eval()
    theirs.eval()
    x = np.asarray(rng.normal(size=(5, n_in)), dtype)
    assert_matches("evaluation output", ours(x), theirs(torch.from_numpy(x)), dtype, case)


@pytest.mark.parametrize("seed", SEEDS[:12])
def test_an_mlp_trains_like_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    sizes = [int(v) for v in rng.integers(1, 9, size=int(rng.integers(2, 5)))]
    activation = str(rng.choice(["relu", "tanh", "sigmoid"]))
    bias = bool(rng.random() < 0.8)
    loss_name = str(rng.choice(["mse", "cross_entropy"]))
    case = dict(sizes=sizes, activation=activation, bias=bias, loss=loss_name,
                dtype=dtype.__name__, seed=seed)
    ours = MLP(sizes, activation=activation, bias=bias, seed=seed, dtype=dtype)
    _train_side_by_side(ours, dtype, loss_name, 10, rng, case, sizes[0], sizes[-1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
def test_a_network_with_batchnorm_trains_like_torch(dtype):
    sizes = [6, 8, 8, 3]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, seed=i, dtype=dtype))
        if i < len(sizes) - 2:
            layers += [BatchNorm1d(n_out, dtype=dtype), ReLU()]
    ours = Sequential(*layers)
    case = dict(network="Linear-BatchNorm1d-ReLU x2, Linear", sizes=sizes, dtype=dtype.__name__)
    _train_side_by_side(ours, dtype, "cross_entropy", 20, np.random.default_rng(0), case,
                        sizes[0], sizes[-1])
