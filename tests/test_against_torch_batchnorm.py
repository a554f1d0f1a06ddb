"""optlib.nn.batchnorm.BatchNorm1d agrees with torch.nn.BatchNorm1d: forward, backward, running stats.

torch is not a dependency of the course, so this file is skipped where it is not
installed. To run it: make a throwaway venv with ``pip install torch==2.13.0 -e .``
and ``python -m pytest tests/test_against_torch_batchnorm.py``.
"""
import numpy as np
import pytest

from optlib.nn.batchnorm import BatchNorm1d, bn_mlp
from optlib.nn.losses import softmax_cross_entropy
from optlib.nn import Linear
from optlib.optim import SGD

torch = pytest.importorskip("torch")

CASES = [
    dict(),
    dict(momentum=0.5),
    dict(momentum=None),
    dict(eps=1e-3),
    dict(affine=False),
    dict(track_running_stats=False),
]
DTYPES = {np.float64: (torch.float64, 1e-12), np.float32: (torch.float32, 1e-5)}


def _pair(kwargs, dtype, C=5, seed=0):
    tdtype, _ = DTYPES[dtype]
    ours = BatchNorm1d(C, dtype=dtype, **kwargs)
    theirs = torch.nn.BatchNorm1d(C, dtype=tdtype, **kwargs)
    if ours.affine:
        rng = np.random.default_rng(seed)
        ours.weight[:] = rng.uniform(0.5, 2, C)
        ours.bias[:] = rng.normal(size=C)
        with torch.no_grad():
            theirs.weight.copy_(torch.from_numpy(ours.weight.copy()))
            theirs.bias.copy_(torch.from_numpy(ours.bias.copy()))
    return ours, theirs


def _close(a, b, tol):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", list(DTYPES), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("kwargs", CASES, ids=repr)
def test_training_steps_then_evaluation_match_torch(kwargs, dtype):
    tol = DTYPES[dtype][1]
    ours, theirs = _pair(kwargs, dtype)
    rng = np.random.default_rng(1)
    for k in range(4):
        x = (1 + 3 * rng.standard_normal((8, 5))).astype(dtype)
        dy = rng.standard_normal((8, 5)).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        yt = theirs(xt)
        yt.backward(torch.from_numpy(dy))
        _close(ours(x), yt, tol)
        _close(ours.backward(dy), xt.grad, tol)
        if ours.affine:
            _close(ours.weight_grad, theirs.weight.grad, tol)
            _close(ours.bias_grad, theirs.bias.grad, tol)
            theirs.weight.grad = theirs.bias.grad = None
        if ours.track_running_stats:
            _close(ours.running_mean, theirs.running_mean, tol)
            _close(ours.running_var, theirs.running_var, tol)
            assert ours.num_batches_tracked == theirs.num_batches_tracked.item()
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((3, 5)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    dy = rng.standard_normal((3, 5)).astype(dtype)
    yt.backward(torch.from_numpy(dy))
    _close(ours(x), yt, tol)
    _close(ours.backward(dy), xt.grad, tol)


def test_a_network_with_batchnorm_trains_like_torch():
    sizes = [6, 8, 8, 3]
    ours = bn_mlp(sizes, seed=0, dtype=np.float64)
    layers = []
    for layer in ours:
        if isinstance(layer, Linear):
            t = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                                dtype=torch.float64)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(layer.weight.copy()))
                if layer.bias is not None:
                    t.bias.copy_(torch.from_numpy(layer.bias.copy()))
        elif isinstance(layer, BatchNorm1d):
            t = torch.nn.BatchNorm1d(layer.num_features, dtype=torch.float64)
        else:
            t = torch.nn.ReLU()
        layers.append(t)
    theirs = torch.nn.Sequential(*layers)
    opt, topt = SGD(lr=0.1, momentum=0.9), torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    params, grads = ours.parameters(), ours.gradients()
    for step in range(20):
        x = rng.standard_normal((16, 6))
        y = rng.integers(0, 3, 16)
        loss, dout = softmax_cross_entropy(ours(x), y)
        ours.backward(dout)
        opt.step(params, grads)
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        tloss.backward()
        topt.step()
        assert loss == pytest.approx(tloss.item(), rel=1e-10)
    state = theirs.state_dict()
    for name, p in params.items():
        _close(p, state[name], 1e-9)
    for i, layer in enumerate(ours):
        if isinstance(layer, BatchNorm1d):
            _close(layer.running_mean, state[f"{i}.running_mean"], 1e-9)
            _close(layer.running_var, state[f"{i}.running_var"], 1e-9)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((5, 6))
    _close(ours(x), theirs(torch.from_numpy(x)), 1e-9)
