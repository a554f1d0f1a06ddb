"""optlib.nn.conv against ``torch.nn``: Conv2d, MaxPool2d, Flatten, Unflatten and small_cnn.

What it compares
    * ``Conv2d`` (kernel sizes, strides and paddings as ints or pairs, with and without
      bias): the output, the input gradient and the weight and bias gradients for a random
      upstream gradient ``dout`` (torch: ``y.backward(dout)``);
    * ``MaxPool2d`` (overlapping and non-overlapping windows, edges that do not fill a
      window, ties from small-integer inputs): output and input gradient;
    * ``Flatten`` (``start_dim``, ``end_dim``) and ``Unflatten``: output and input gradient;
    * ``small_cnn`` against the same ``torch.nn.Sequential``, trained side by side for a
      few steps of SGD with momentum on cross-entropy: the loss and every gradient at
      every step, the parameters at the end, and the evaluation output.

How
    Every case is drawn from its own seed (the test id carries it): shapes (batch sizes 0
    and 1 included), dtypes float32 and float64, values over several orders of magnitude
    with exact zeros. Weights are copied from optlib into torch, so both sides start
    equal. Arrays are compared as in test_nn_vs_torch.py: inf and nan in the same places,
    then ``max |optlib - torch| / max(1, max |torch|)`` below ``TOLERANCE``, scaled for a
    convolution by the number of terms of each sum (rounding grows with it).

Reproducing a failure
    A failure names the case (``case=...``); ``tools/torch_compare.sh -k 'conv2d and seed7'``
    runs it again.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import optlib.optim
from optlib.nn import Linear, ReLU, losses
from optlib.nn.conv import Conv2d, Flatten, MaxPool2d, Unflatten, small_cnn

if os.environ.get("OPTLIB_REQUIRE_TORCH"):      # tools/torch_compare.sh: torch must be there
    import torch
else:
    torch = pytest.importorskip("torch", reason="not installed here; tools/torch_compare.sh runs this in .venv-torch")

F = torch.nn.functional
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
CASES = 40
SEEDS = [pytest.param(seed, id=f"seed{seed}") for seed in range(CASES)]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _numpy(value):
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def assert_matches(what, ours, theirs, dtype, case, condition=1.0):
    a, b = np.asarray(ours), _numpy(theirs)
    context = f"{what}: optlib differs from torch\n  case={case}"
    assert a.shape == b.shape, f"{context}\n  shapes {a.shape} vs {b.shape}"
    for kind, test in (("nan", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        assert np.array_equal(test(a), test(b)), f"{context}\n  {kind} in different places"
    finite = np.isfinite(a)
    if not finite.any():
        return
    scale = max(1.0, float(np.abs(b[finite]).max()))
    err = float(np.abs(a[finite].astype(np.float64) - b[finite]).max()) / scale
    tol = TOLERANCE[dtype] * condition
    assert err <= tol, f"{context}\n  error {err:.3g} > {tol:g} (scale {scale:.3g})"


def _values(rng, shape, dtype):
    x = rng.normal(size=shape) * 10 ** rng.uniform(-2, 2)
    return np.asarray(np.where(rng.random(size=shape) < 0.1, 0.0, x), dtype)


def _dtype(rng):
    return [np.float32, np.float64][int(rng.integers(2))]


def _int_or_pair(rng, low, high):
    if rng.random() < 0.5:
        return int(rng.integers(low, high + 1))
    return tuple(int(v) for v in rng.integers(low, high + 1, size=2))


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _copy_into(tensor, array):
    with torch.no_grad():
        tensor.copy_(torch.from_numpy(np.array(array)))


# ----------------------------------------------------------------------------- Conv2d

@pytest.mark.parametrize("seed", SEEDS)
def test_conv2d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    c_in, c_out = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    kernel, stride, padding = _int_or_pair(rng, 1, 4), _int_or_pair(rng, 1, 3), _int_or_pair(rng, 0, 2)
    bias = bool(rng.random() < 0.7)
    (kh, kw), (ph, pw) = _pair(kernel), _pair(padding)
    H = int(rng.integers(max(1, kh - 2 * ph), 10))
    W = int(rng.integers(max(1, kw - 2 * pw), 10))
    B = int(rng.choice([0, 1, rng.integers(2, 6)]))
    case = dict(in_channels=c_in, out_channels=c_out, kernel_size=kernel, stride=stride,
                padding=padding, bias=bias, input=(B, c_in, H, W), dtype=dtype.__name__, seed=seed)
    ours = Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias, seed=seed,
                  dtype=dtype)
    if bias:
        ours.bias[:] = rng.normal(size=c_out)
    theirs = torch.nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=bias,
                             dtype=TORCH_DTYPE[dtype])
    _copy_into(theirs.weight, ours.weight)
    if bias:
        _copy_into(theirs.bias, ours.bias)
    x = _values(rng, (B, c_in, H, W), dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    dout = _values(rng, tuple(yt.shape), dtype)
    yt.backward(torch.from_numpy(dout))
    # A sum of C_in kh kw products (outputs, input gradients) or of B H_out W_out
    # (weight gradients), in another order: rounding grows like the number of terms.
    terms = max(c_in * kh * kw, B * yt.shape[2] * yt.shape[3], c_out * kh * kw, 1)
    cond = max(1.0, terms / 16)
    assert_matches("Conv2d output", ours(x), yt, dtype, case, cond)
    assert_matches("Conv2d input gradient", ours.backward(dout), xt.grad, dtype, case, cond)
    assert_matches("Conv2d weight gradient", ours.weight_grad, theirs.weight.grad, dtype, case, cond)
    if bias:
        assert_matches("Conv2d bias gradient", ours.bias_grad, theirs.bias.grad, dtype, case, cond)


# ----------------------------------------------------------------------------- MaxPool2d

@pytest.mark.parametrize("seed", SEEDS)
def test_maxpool2d_matches_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    kernel = _int_or_pair(rng, 1, 3)
    stride = None if rng.random() < 0.4 else _int_or_pair(rng, 1, 3)
    kh, kw = _pair(kernel)
    B, C = int(rng.choice([0, 1, rng.integers(2, 5)])), int(rng.integers(1, 4))
    shape = (B, C, int(rng.integers(kh, 9)), int(rng.integers(kw, 9)))
    ties = bool(rng.random() < 0.4)
    case = dict(kernel_size=kernel, stride=stride, input=shape, ties=ties, dtype=dtype.__name__,
                seed=seed)
    ours = MaxPool2d(kernel, stride=stride)
    theirs = torch.nn.MaxPool2d(kernel, stride=stride)
    # Small integers: many windows hold their maximum twice (torch takes the first).
    x = np.asarray(rng.integers(-2, 3, size=shape), dtype) if ties else _values(rng, shape, dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    dout = _values(rng, tuple(yt.shape), dtype)
    yt.backward(torch.from_numpy(dout))
    assert_matches("MaxPool2d output", ours(x), yt, dtype, case)
    assert_matches("MaxPool2d input gradient", ours.backward(dout), xt.grad, dtype, case)


# ----------------------------------------------------------------------------- reshapes

@pytest.mark.parametrize("seed", SEEDS[:15])
def test_flatten_and_unflatten_match_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    ndim = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(0 if rng.random() < 0.2 else 1, 5, size=ndim))
    start, end = sorted(int(v) for v in rng.integers(-ndim, ndim, size=2))
    if (start % ndim) > (end % ndim):
        start, end = end, start
    case = dict(shape=shape, start_dim=start, end_dim=end, dtype=dtype.__name__, seed=seed)
    x = _values(rng, shape, dtype)
    for ours, theirs in ((Flatten(start, end), torch.nn.Flatten(start, end)),
                         (Flatten(), torch.nn.Flatten()) if ndim >= 2 else (None, None)):
        if ours is None:
            continue
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        dout = _values(rng, tuple(yt.shape), dtype)
        yt.backward(torch.from_numpy(dout))
        assert_matches(f"{ours!r} output", ours(x), yt, dtype, case)
        assert_matches(f"{ours!r} input gradient", ours.backward(dout), xt.grad, dtype, case)
        # Unflatten undoes it, in torch too.
        if ndim >= 2 and ours.start_dim == 1 and ours.end_dim == -1:
            back, tback = Unflatten(1, shape[1:]), torch.nn.Unflatten(1, shape[1:])
            assert_matches("Unflatten output", back(ours(x)), tback(yt.detach()), dtype, case)


# ----------------------------------------------------------------------------- small_cnn

def _torch_cnn(model, dtype):
    layers = []
    for layer in model:
        if isinstance(layer, Conv2d):
            t = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                                stride=layer.stride, padding=layer.padding,
                                bias=layer.bias is not None, dtype=TORCH_DTYPE[dtype])
        elif isinstance(layer, Linear):
            t = torch.nn.Linear(layer.in_features, layer.out_features, dtype=TORCH_DTYPE[dtype])
        elif isinstance(layer, MaxPool2d):
            t = torch.nn.MaxPool2d(layer.kernel_size, layer.stride)
        elif isinstance(layer, Unflatten):
            t = torch.nn.Unflatten(layer.dim, layer.unflattened_size)
        elif isinstance(layer, Flatten):
            t = torch.nn.Flatten(layer.start_dim, layer.end_dim)
        else:
            assert isinstance(layer, ReLU)
            t = torch.nn.ReLU()
        layers.append(t)
    theirs = torch.nn.Sequential(*layers)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
    return theirs


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_small_cnn_trains_step_for_step_like_torch(seed):
    rng = np.random.default_rng(seed)
    dtype = _dtype(rng)
    channels = tuple(int(v) for v in rng.integers(1, 9, size=2))
    case = dict(channels=channels, dtype=dtype.__name__, seed=seed)
    ours = small_cnn(seed=seed, channels=channels, dtype=dtype)
    theirs = _torch_cnn(ours, dtype)
    assert set(theirs.state_dict()) == set(ours.state_dict()), case
    opt = optlib.optim.SGD(lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, foreach=False)
    params, grads = ours.parameters(), ours.gradients()
    for step in range(5):
        x = np.asarray(rng.random(size=(16, 64)), dtype)
        y = rng.integers(0, 10, 16)
        loss, dout = losses.softmax_cross_entropy(ours(x), y)
        tloss = F.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        ours.backward(dout)
        topt.zero_grad()
        tloss.backward()
        tgrads = {name: p.grad for name, p in theirs.named_parameters()}
        for name, g in grads.items():
            assert_matches(f"gradient of {name} at step {step + 1}", g, tgrads[name], dtype, case, 10)
        assert_matches(f"loss at step {step + 1}", loss, tloss, dtype, case)
        opt.step(params, grads)
        topt.step()
    for name, value in ours.state_dict().items():
        assert_matches(f"{name} after 5 steps", value, theirs.state_dict()[name], dtype, case, 10)
    x = np.asarray(rng.random(size=(5, 64)), dtype)
    assert_matches("evaluation output", ours.eval()(x), theirs.eval()(torch.from_numpy(x)), dtype,
                   case, 10)
