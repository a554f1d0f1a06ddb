"""Specification of optlib.train.curvature: Hessian-vector products and the sharpness.

References: least squares, whose Hessian is known in closed form
(L = mean((Xw + b - y)^2), so H = 2 A^T A / N with A = [X, 1]), and a tiny network's
Hessian from second differences of the loss *values* (no gradient involved).
"""

import numpy as np
import pytest

from optlib.nn import MLP, BatchNorm1d, Linear, ReLU, Sequential
from optlib.nn.conv import small_cnn
from optlib.nn.losses import mse, softmax_cross_entropy
from optlib.train.curvature import hessian, hvp, lanczos, power_iteration, sharpness


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def least_squares(N=40, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((N, d)), rng.standard_normal((N, 1))
    model = Linear(d, 1, seed=seed, dtype=np.float64)
    model.bias[:] = 0.3
    A = np.hstack([X, np.ones((N, 1))])
    return model, X, y, 2 * A.T @ A / N          # parameters: weight (1 x d), then bias


def tiny_mlp(activation="tanh", seed=1, N=20):
    rng = np.random.default_rng(seed)
    model = MLP([3, 4, 2], activation=activation, seed=seed, dtype=np.float64)
    return model, rng.standard_normal((N, 3)), rng.integers(0, 2, N)


def hessian_from_loss_values(model, loss_fn, X, y, e=1e-4):
    r""":math:`H_{ij} \approx [f(+e_i+e_j) - f(+e_i-e_j) - f(-e_i+e_j) + f(-e_i-e_j)]/(4e^2)`."""
    params = list(model.parameters().values())
    theta = np.concatenate([p.ravel() for p in params])
    n = theta.size

    def f(t):
        start = 0
        for p in params:
            p[...] = t[start:start + p.size].reshape(p.shape)
            start += p.size
        return loss_fn(model.forward(X), y)[0]

    step, H = np.eye(n) * e, np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            H[i, j] = H[j, i] = (f(theta + step[i] + step[j]) - f(theta + step[i] - step[j])
                                 - f(theta - step[i] + step[j]) + f(theta - step[i] - step[j])) / (4 * e * e)
    f(theta)
    return H


@pytest.fixture(scope="module")
def mlp_hessian():
    model, X, y = tiny_mlp()
    return hessian_from_loss_values(model, softmax_cross_entropy, X, y)


# ------------------------------------------------------------- Hessian-vector products


def test_hvp_of_least_squares_is_the_closed_form_up_to_rounding():
    # The loss is quadratic: the central difference has no truncation error (measured 2e-11).
    model, X, y, H = least_squares()
    v = np.random.default_rng(1).standard_normal(H.shape[0])
    assert rel(hvp(model, mse, X, y, v), H @ v) < 1e-9


def test_dense_hessian_of_least_squares_is_two_XtX_over_N():
    model, X, y, H = least_squares()
    assert rel(hessian(model, mse, X, y), H) < 1e-9


def test_hvp_of_a_tiny_mlp_matches_the_hessian_from_loss_values(mlp_hessian):
    # Second differences of the loss carry an error of about 1e-7 (measured 5e-8).
    model, X, y = tiny_mlp()
    v = np.random.default_rng(2).standard_normal(mlp_hessian.shape[0])
    assert rel(hvp(model, softmax_cross_entropy, X, y, v), mlp_hessian @ v) < 1e-6
    assert rel(hessian(model, softmax_cross_entropy, X, y), mlp_hessian) < 1e-6


def test_hvp_error_shrinks_like_h_squared():
    model, X, y = tiny_mlp()
    v = np.random.default_rng(3).standard_normal(26)
    exact = hessian(model, softmax_cross_entropy, X, y) @ v      # default h: error ~1e-10
    errors = [rel(hvp(model, softmax_cross_entropy, X, y, v, h=h), exact) for h in (1e-2, 5e-3)]
    assert 3.5 < errors[0] / errors[1] < 4.5                     # measured 4.0
    assert rel(hvp(model, softmax_cross_entropy, X, y, v), exact) < 1e-8


def test_hvp_of_a_float32_model_is_accurate_to_about_its_precision_to_the_two_thirds():
    model, X, y = tiny_mlp()
    v = np.random.default_rng(4).standard_normal(26)
    exact = hessian(model, softmax_cross_entropy, X, y) @ v
    model32 = MLP([3, 4, 2], activation="tanh", seed=1)            # the same weights in float32
    err = rel(hvp(model32, softmax_cross_entropy, X.astype(np.float32), y, v), exact)
    assert err < 2e-4                          # measured 1.6e-5; eps32^(2/3) = 2.4e-5


@pytest.mark.parametrize("h", [1e-2, 1e-3])
def test_relu_kinks_are_held_fixed_so_a_large_step_still_gives_the_hessian(h):
    # Without holding the on/off pattern, a step this large crosses kinks and the
    # difference of gradients measures their jumps (many times the curvature).
    rng = np.random.default_rng(5)
    model = MLP([5, 16, 3], seed=5, dtype=np.float64)
    X, y = rng.standard_normal((200, 5)), rng.integers(0, 3, 200)
    v = rng.standard_normal(sum(p.size for p in model.parameters().values()))
    exact = hvp(model, softmax_cross_entropy, X, y, v, h=1e-7)
    assert rel(hvp(model, softmax_cross_entropy, X, y, v, h=h), exact) < 1e-3 * (h / 1e-3) ** 2 + 1e-6


def test_maxpool_argmax_is_held_fixed_too():
    rng = np.random.default_rng(6)
    model = small_cnn(seed=6, channels=(2, 3), dtype=np.float64)
    X, y = rng.random((30, 64)), rng.integers(0, 10, 30)
    v = rng.standard_normal(sum(p.size for p in model.parameters().values()))
    exact = hvp(model, softmax_cross_entropy, X, y, v, h=1e-7)
    assert rel(hvp(model, softmax_cross_entropy, X, y, v, h=1e-2), exact) < 1e-3


def test_hvp_leaves_parameters_gradients_buffers_and_layers_as_they_were():
    rng = np.random.default_rng(7)
    model = Sequential(Linear(3, 4, seed=0), BatchNorm1d(4), ReLU(), Linear(4, 2, seed=1))
    X, y = rng.standard_normal((8, 3)).astype(np.float32), rng.integers(0, 2, 8)
    model.backward(softmax_cross_entropy(model(X), y)[1])
    before = {k: a.copy() for k, a in {**model.state_dict(),
                                       **{"grad " + k: g for k, g in model.gradients().items()}}.items()}
    sharpness(model, softmax_cross_entropy, X, y, iters=5)
    after = {**model.state_dict(), **{"grad " + k: g for k, g in model.gradients().items()}}
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)
    assert all("forward" not in vars(layer) for layer in model)   # the class's forward again


def test_hvp_of_the_zero_vector_is_zero():
    model, X, y, H = least_squares()
    assert not hvp(model, mse, X, y, np.zeros(H.shape[0])).any()


# ---------------------------------------------------------------------------- sharpness


def test_sharpness_of_least_squares_is_the_largest_eigenvalue_of_two_XtX_over_N():
    rng = np.random.default_rng(8)
    N, d = 200, 50
    X = rng.standard_normal((N, d)) * np.linspace(0.2, 3, d)     # a spread-out spectrum
    y = rng.standard_normal(N)
    model = Linear(d, 1, bias=False, dtype=np.float64)
    lam_max = np.linalg.eigvalsh(2 * X.T @ X / N)[-1]            # 24.1; the next is 21.8
    assert sharpness(model, mse, X, y, iters=20) == pytest.approx(lam_max, rel=1e-9)
    # Power iteration, same budget: only to a few per cent (it converges like (21.8/24.1)^k).
    power = sharpness(model, mse, X, y, iters=20, method="power")
    assert abs(power - lam_max) / lam_max < 0.05
    assert abs(power - lam_max) > 1e3 * abs(sharpness(model, mse, X, y, iters=20) - lam_max)


def test_sharpness_of_a_tiny_mlp_is_the_top_eigenvalue_of_its_hessian(mlp_hessian):
    model, X, y = tiny_mlp()
    top = np.linalg.eigvalsh(mlp_hessian)[-1]
    assert sharpness(model, softmax_cross_entropy, X, y, iters=20) == pytest.approx(top, rel=1e-6)
    assert sharpness(model, softmax_cross_entropy, X, y, iters=50, method="power") == \
        pytest.approx(top, rel=1e-4)


def test_sharpness_of_a_float32_relu_network_matches_float64():
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((300, 10)), rng.integers(0, 4, 300)
    s64 = sharpness(MLP([10, 32, 4], seed=9, dtype=np.float64), softmax_cross_entropy, X, y, h=1e-7)
    s32 = sharpness(MLP([10, 32, 4], seed=9), softmax_cross_entropy, X.astype(np.float32), y)
    assert s32 == pytest.approx(s64, rel=1e-3)


def test_sharpness_is_deterministic_by_seed():
    model, X, y = tiny_mlp()
    a = sharpness(model, softmax_cross_entropy, X, y, iters=3, seed=0)
    assert a == sharpness(model, softmax_cross_entropy, X, y, iters=3, seed=0)
    assert a != sharpness(model, softmax_cross_entropy, X, y, iters=3, seed=1)


def test_lanczos_ritz_values_approach_the_top_eigenvalue_from_below():
    A = np.diag(np.linspace(1, 10, 30))
    tops = [lanczos(lambda v: A @ v, 30, iters=k)[0][-1] for k in (2, 4, 8, 16)]
    assert all(t <= 10 + 1e-12 for t in tops)
    assert np.all(np.diff(tops) >= -1e-12)


def test_lanczos_over_the_whole_space_returns_every_eigenvalue_and_unit_eigenvectors():
    rng = np.random.default_rng(10)
    M = rng.standard_normal((8, 8))
    A = M + M.T
    values, vectors = lanczos(lambda v: A @ v, 8, iters=50)
    np.testing.assert_allclose(values, np.linalg.eigvalsh(A), atol=1e-10)
    np.testing.assert_allclose(A @ vectors, vectors * values, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1, atol=1e-12)


def test_power_iteration_finds_the_eigenvalue_of_largest_magnitude():
    A = np.diag([-5.0, 1.0, 2.0])
    value, vector = power_iteration(lambda v: A @ v, 3, iters=200)
    assert value == pytest.approx(-5.0, rel=1e-6)
    assert abs(vector[0]) == pytest.approx(1.0, rel=1e-6)
    assert lanczos(lambda v: A @ v, 3, iters=3)[0][-1] == pytest.approx(2.0)   # lambda_max itself


# ---------------------------------------------------------------------------------- errors


def test_bad_arguments_raise_clear_errors():
    model, X, y, H = least_squares()
    with pytest.raises(ValueError, match=r"v must be a flat vector of length 7"):
        hvp(model, mse, X, y, np.ones(6))
    with pytest.raises(ValueError, match="h must be a finite number > 0 or None"):
        hvp(model, mse, X, y, np.ones(7), h=0.0)
    with pytest.raises(ValueError, match="method must be one of"):
        sharpness(model, mse, X, y, method="arnoldi")
    with pytest.raises(ValueError, match="iters must be an integer >= 1"):
        sharpness(model, mse, X, y, iters=0)
    with pytest.raises(ValueError, match="model has no parameters"):
        sharpness(ReLU(), mse, X, y)
    with pytest.raises(TypeError, match="matvec must be a callable"):
        lanczos(np.eye(3), 3)
