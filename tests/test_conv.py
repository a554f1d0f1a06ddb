"""Specification of optlib.nn.conv: Conv2d, MaxPool2d, Flatten, Unflatten and small_cnn."""

import time

import numpy as np
import pytest

import optlib
from optlib.nn import Linear, ReLU, Sequential, gradcheck
from optlib.nn.conv import Conv2d, Flatten, MaxPool2d, Unflatten, small_cnn
from optlib.nn.losses import softmax_cross_entropy

TOL = 1e-7   # relative error of analytic vs. central-difference gradients in float64


def x64(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def conv64(*args, **kwargs):
    layer = Conv2d(*args, seed=1, dtype=np.float64, **kwargs)
    if layer.bias is not None:
        layer.bias[:] = x64(layer.bias.shape, seed=2)
    return layer


# --------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(2, 3), stride=2, padding=(1, 0)),
    dict(kernel_size=3, stride=(1, 2), bias=False),
    dict(kernel_size=1),
], ids=lambda k: ",".join(f"{n}={v}" for n, v in k.items()))
def test_conv2d_passes_gradient_check(kwargs):
    layer = conv64(2, 3, **kwargs)
    errors = gradcheck.check_layer(layer, x64((2, 2, 6, 5)))
    expected = {"input", "weight", "bias"} if layer.bias is not None else {"input", "weight"}
    assert set(errors) == expected
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1),
                                    dict(kernel_size=(2, 3), stride=(2, 1))],
                         ids=lambda k: ",".join(f"{n}={v}" for n, v in k.items()))
def test_maxpool2d_passes_gradient_check(kwargs):
    # Distinct values, so that no small step changes which entry is a window's maximum.
    x = np.random.default_rng(0).permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0
    assert gradcheck.check_layer(MaxPool2d(**kwargs), x)["input"] < TOL


@pytest.mark.parametrize("layer", [Flatten(), Flatten(2, 3), Unflatten(1, (2, 3))], ids=repr)
def test_reshaping_layers_pass_gradient_check(layer):
    x = x64((4, 6)) if isinstance(layer, Unflatten) else x64((2, 3, 4, 5))
    assert gradcheck.check_layer(layer, x)["input"] < TOL


def test_small_cnn_with_cross_entropy_passes_gradient_check():
    model = small_cnn(seed=3, channels=(2, 3), dtype=np.float64)
    errors = gradcheck.check_model(model, softmax_cross_entropy, x64((3, 64)), np.array([0, 9, 4]))
    assert set(errors) == {"input", "1.weight", "1.bias", "4.weight", "4.bias", "7.weight", "7.bias"}
    assert max(errors.values()) < TOL


def test_gradient_check_catches_a_col2im_that_assigns_instead_of_adding():
    class Assigns(Conv2d):                    # overlapping windows overwrite each other
        def backward(self, dout, input_grad=True):
            super().backward(dout, input_grad=False)
            (N, C, H, W), (_, O, Ho, Wo) = self._cache[1], dout.shape
            delta = dout.transpose(0, 2, 3, 1).reshape(-1, O)
            dcols = (delta @ self.weight.reshape(O, -1)).reshape(N, Ho, Wo, C, 3, 3)
            dx = np.zeros((N, C, H, W))
            for u in range(3):
                for v in range(3):
                    dx[:, :, u:u + Ho, v:v + Wo] = dcols[..., u, v].transpose(0, 3, 1, 2)
            return dx

    layer = Assigns(1, 2, 3, seed=0, dtype=np.float64)
    errors = gradcheck.check_layer(layer, x64((1, 1, 5, 5)))
    assert errors["weight"] < TOL and errors["input"] > 1e-2


# --------------------------------------------------------------------------- values


def test_conv2d_is_the_cross_correlation_of_its_definition():
    layer = conv64(2, 3, 3, stride=2, padding=1)
    x = x64((2, 2, 5, 6))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = layer(x)
    assert out.shape == (2, 3, 3, 3)
    for n, o, i, j in np.ndindex(out.shape):
        patch = xp[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
        assert out[n, o, i, j] == pytest.approx(np.sum(layer.weight[o] * patch) + layer.bias[o])


def test_conv2d_output_size_follows_torchs_formula():
    # H_out = floor((H + 2p - k) / s) + 1
    assert Conv2d(1, 1, 3, stride=2, padding=1)(np.zeros((1, 1, 8, 7), np.float32)).shape == (1, 1, 4, 4)
    assert Conv2d(1, 1, (3, 1))(np.zeros((1, 1, 8, 7), np.float32)).shape == (1, 1, 6, 7)


def test_conv2d_weight_layout_is_out_in_kh_kw_like_pytorch():
    layer = Conv2d(3, 5, (2, 4))
    assert layer.weight.shape == (5, 3, 2, 4) and layer.bias.shape == (5,)
    assert list(layer.parameters()) == ["weight", "bias"] == list(layer.gradients())


def test_conv2d_he_init_uses_the_fan_in_of_a_window():
    w = Conv2d(16, 200, 3, seed=0).weight
    assert w.var() == pytest.approx(2 / (16 * 9), rel=0.03)


def test_maxpool2d_takes_each_windows_maximum_and_routes_the_gradient_there():
    x = np.array([[[[1, 5, 2, 0],
                    [3, 4, 8, 1],
                    [0, 0, 1, 2],
                    [7, 0, 2, 9]]]], dtype=np.float64)
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool(x), [[[[5, 8], [7, 9]]]])
    dx = pool.backward(np.array([[[[10, 20], [30, 40]]]], dtype=np.float64))
    np.testing.assert_array_equal(dx, [[[[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 0, 0], [30, 0, 0, 40]]]])


def test_maxpool2d_sends_a_tie_to_the_first_maximum_like_torch():
    pool = MaxPool2d(2)
    pool(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[1, 0], [0, 0]]]])


def test_overlapping_maxpool_windows_add_their_gradients():
    pool = MaxPool2d(3, stride=1)
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = 1.0                        # the maximum of all four windows
    pool(x)
    assert pool.backward(np.ones((1, 1, 2, 2)))[0, 0, 1, 1] == 4


def test_maxpool2d_default_stride_is_the_kernel_and_odd_edges_are_dropped():
    assert MaxPool2d(2)(np.zeros((1, 2, 5, 7))).shape == (1, 2, 2, 3)


def test_flatten_and_unflatten_are_torchs_reshapes():
    x = x64((2, 3, 4, 5))
    np.testing.assert_array_equal(Flatten()(x), x.reshape(2, 60))
    assert Flatten(0, 1)(x).shape == (6, 4, 5)
    assert Flatten(-2)(x).shape == (2, 3, 20)
    assert Unflatten(1, (1, 8, 8))(np.zeros((3, 64))).shape == (3, 1, 8, 8)


# ---------------------------------------------------------------- copies, dtypes, errors


def test_changing_the_input_in_place_after_forward_does_not_change_the_conv_gradients():
    for layer in (conv64(1, 2, 1), conv64(2, 2, 3, padding=1)):   # a view-like and a padded case
        x, dout = x64((2, layer.in_channels, 4, 4)), x64((2, 2, 4, 4) if layer.padding[0] or
                                                          layer.kernel_size[0] == 1 else (2, 2, 2, 2), 1)
        layer(x.copy())
        layer.backward(dout)
        expected = layer.weight_grad.copy()
        layer(x)
        x *= 10
        layer.backward(dout)
        np.testing.assert_array_equal(layer.weight_grad, expected)


def test_changing_the_maxpool_output_in_place_does_not_change_its_backward():
    pool, x = MaxPool2d(2), x64((1, 2, 4, 4))
    pool(x)
    expected = pool.backward(np.ones((1, 2, 2, 2)))
    out = pool(x)
    out[:] = 100.0
    np.testing.assert_array_equal(pool.backward(np.ones((1, 2, 2, 2))), expected)


def test_float32_cnn_keeps_float32():
    model = small_cnn()
    out = model(np.ones((2, 64), np.float32))
    dx = model.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.gradients().values())


def test_conv_backward_overwrites_gradients_and_keeps_their_arrays():
    layer, x = Conv2d(1, 2, 3, seed=0), np.ones((2, 1, 5, 5), np.float32)
    grads = layer.gradients()
    for _ in range(2):
        layer.backward(np.ones_like(layer(x)))
    assert grads["weight"] is layer.weight_grad
    np.testing.assert_allclose(layer.weight_grad, 18.0)      # 2 images x 9 positions, not 36


def test_backward_without_input_grad_returns_none_but_fills_parameter_grads():
    model = small_cnn()
    model(np.ones((2, 64), np.float32))
    assert model.backward(np.ones((2, 10), np.float32), input_grad=False) is None
    assert np.any(model.gradients()["1.weight"] != 0)


@pytest.mark.parametrize("layer", [Conv2d(1, 1, 2), MaxPool2d(2), Flatten(), Unflatten(1, (2, 2))],
                         ids=repr)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((1, 1, 1, 1), np.float32))


def test_bad_inputs_are_refused_by_name():
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        Conv2d(1, 1, 2)([[1.0]])
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3, height, width\)"):
        Conv2d(3, 1, 2)(np.zeros((1, 2, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, channels, height, width\)"):
        MaxPool2d(2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="x is too small for the kernel"):
        Conv2d(1, 1, 5)(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match="x must have size 64"):
        Unflatten(1, (1, 8, 8))(np.zeros((2, 63)))


def test_bad_constructor_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="in_channels must be an integer >= 1"):
        Conv2d(0, 1, 3)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1"):
        Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="kernel_size must be an integer >= 1 or a pair"):
        Conv2d(1, 1, (1, 2, 3))
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        Conv2d(1, 1, 3, padding=-1)
    with pytest.raises(TypeError, match="stride must be an integer >= 1"):
        MaxPool2d(2, stride=1.5)
    with pytest.raises(ValueError, match="init must be one of"):
        Conv2d(1, 1, 3, init="kaiming")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Conv2d(1, 1, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="start_dim .* must not come after end_dim"):
        Flatten(2, 1)(np.zeros((1, 2, 3)))


# ---------------------------------------------------------------------------- small_cnn


def test_small_cnn_is_the_documented_network():
    model = small_cnn(seed=0)
    assert [type(layer).__name__ for layer in model] == [
        "Unflatten", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Flatten", "Linear"]
    assert sum(p.size for p in model.parameters().values()) == 1418
    assert model(np.zeros((5, 64), np.float32)).shape == (5, 10)


def test_small_cnn_is_deterministic_by_seed():
    a, b, c = small_cnn(7), small_cnn(7), small_cnn(8)
    np.testing.assert_array_equal(a[1].weight, b[1].weight)
    assert not np.array_equal(a[1].weight, c[1].weight)
    assert not np.array_equal(a[1].weight.ravel()[:8], a[4].weight.ravel()[:8])


def test_small_cnn_learns_the_digits_in_seconds():
    # Measured: 20 epochs of SGD with momentum take about 0.7 s of training on one core
    # and reach about 96 % validation accuracy (MLP([64, 32, 10]): about the same).
    data = optlib.data.load_digits()
    model = small_cnn(seed=0)
    start = time.perf_counter()
    history = optlib.fit(model, softmax_cross_entropy, optlib.optim.SGD(lr=0.05, momentum=0.9),
                         data.X_train, data.y_train, epochs=20, batch_size=32,
                         X_val=data.X_val, y_val=data.y_val, progress=False)
    assert time.perf_counter() - start < 15
    assert history.val_acc[-1] > 0.93
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]


def test_cnn_layers_work_inside_a_hand_built_sequential():
    model = Sequential(Conv2d(1, 2, 3, padding=1, seed=0), ReLU(), MaxPool2d(2), Flatten(),
                       Linear(2 * 2 * 2, 3, seed=1))
    out = model(np.ones((4, 1, 4, 4), np.float32))
    assert out.shape == (4, 3)
    assert model.backward(np.ones_like(out)).shape == (4, 1, 4, 4)
