"""Specification of optlib.nn: layers with hand-written backward passes, named as in PyTorch."""

import numpy as np
import pytest

from optlib.nn import (
    MLP,
    Linear,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    gradcheck,
    init_glorot,
    init_he,
    init_normal,
    init_zeros,
)
from optlib.nn.losses import mse, softmax_cross_entropy

TOL = 1e-7   # relative error of analytic vs. central-difference gradients in float64


def x64(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("bias", [True, False])
def test_linear_passes_gradient_check(bias):
    layer = Linear(4, 3, bias=bias, seed=1, dtype=np.float64)
    errors = gradcheck.check_layer(layer, x64((5, 4)))
    assert set(errors) == ({"input", "weight", "bias"} if bias else {"input", "weight"})
    assert max(errors.values()) < TOL


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Sigmoid()], ids=repr)
def test_activation_passes_gradient_check(layer):
    assert gradcheck.check_layer(layer, x64((6, 5)))["input"] < TOL


def test_mlp_with_softmax_cross_entropy_passes_gradient_check():
    model = MLP([5, 7, 6, 3], activation="tanh", seed=2, dtype=np.float64)
    labels = np.array([0, 2, 1, 2])
    errors = gradcheck.check_model(model, softmax_cross_entropy, x64((4, 5)), labels)
    assert set(errors) == {"input", "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    assert max(errors.values()) < TOL


def test_relu_mlp_with_mse_passes_gradient_check():
    model = MLP([3, 8, 2], activation="relu", seed=3, dtype=np.float64)
    errors = gradcheck.check_model(model, mse, x64((6, 3)), x64((6, 2), seed=1))
    assert max(errors.values()) < TOL


def test_gradient_check_catches_a_wrong_backward():
    class BrokenTanh(Tanh):
        def backward(self, dout, input_grad=True):
            return dout * (1 - self._out)      # forgot the square

    assert gradcheck.check_layer(BrokenTanh(), x64((3, 4)))["input"] > 1e-2


def test_gradient_check_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck.check_layer(Linear(2, 2), x64((1, 2)))


# --------------------------------------------------------------------------- layers


def test_linear_computes_x_times_weight_transposed_plus_bias():
    layer = Linear(2, 3)
    layer.weight[:] = [[1, 2], [3, 4], [5, 6]]
    layer.bias[:] = [0.5, 0, -1]
    out = layer(np.array([[1, 1]], dtype=np.float32))
    np.testing.assert_allclose(out, [[3.5, 7, 10]])


def test_linear_weight_layout_is_out_by_in_like_pytorch():
    layer = Linear(5, 3)
    assert layer.weight.shape == (3, 5)
    assert layer.bias.shape == (3,)


def test_float32_layers_keep_float32():
    model = MLP([4, 8, 3], activation="sigmoid")
    x = np.ones((2, 4), dtype=np.float32)
    out = model(x)
    dx = model.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.gradients().values())


def test_backward_overwrites_gradients_instead_of_accumulating():
    layer = Linear(3, 2, seed=0)
    x, dout = np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    layer(x)
    layer.backward(dout)
    first = layer.weight_grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_array_equal(layer.weight_grad, first)


def test_backward_without_input_grad_returns_none_but_fills_parameter_grads():
    model = MLP([3, 4, 2])
    model(np.ones((2, 3), np.float32))
    assert model.backward(np.ones((2, 2), np.float32), input_grad=False) is None
    assert np.any(model.gradients()["0.weight"] != 0)


def test_linear_rejects_input_of_wrong_width():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 3\)"):
        Linear(3, 2)(np.ones((2, 4), np.float32))


def test_changing_the_input_in_place_after_forward_does_not_change_the_weight_gradient():
    layer = Linear(3, 2, seed=0, dtype=np.float64)
    x, dout = x64((4, 3)), x64((4, 2), seed=1)
    layer(x.copy())
    layer.backward(dout)
    expected = layer.weight_grad.copy()
    layer(x)
    x *= 10                                  # the caller reuses its buffer before backward
    layer.backward(dout)
    np.testing.assert_array_equal(layer.weight_grad, expected)


@pytest.mark.parametrize("make", [Tanh, Sigmoid, ReLU], ids=lambda m: m.__name__)
def test_changing_an_activation_output_in_place_does_not_change_its_backward(make):
    x, dout = x64((3, 4)), x64((3, 4), seed=1)
    layer = make()
    layer(x)
    expected = layer.backward(dout)
    out = layer(x)
    out[:] = 0.3
    np.testing.assert_array_equal(layer.backward(dout), expected)


@pytest.mark.parametrize("layer", [Linear(2, 2), ReLU(), Tanh(), Sigmoid(), MLP([2, 3, 2])], ids=repr)
def test_backward_before_forward_is_a_clear_error(layer):
    with pytest.raises(RuntimeError, match=r"backward\(\) was called before forward\(\)"):
        layer.backward(np.ones((1, 2), np.float32))


@pytest.mark.parametrize("layer", [Linear(2, 2), ReLU(), Tanh(), Sigmoid(), MLP([2, 3, 2])], ids=repr)
def test_a_python_list_as_input_is_refused_by_name(layer):
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        layer([[1.0, 2.0]])


def test_relu_derivative_at_zero_is_zero():
    relu = ReLU()
    relu(np.array([[0.0, 1.0, -1.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), [[0, 1, 0]])


def test_sigmoid_does_not_overflow_for_large_inputs():
    with np.errstate(over="raise", invalid="raise"):
        out = Sigmoid()(np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32))
    np.testing.assert_allclose(out, [[0, 0.5, 1]])


# --------------------------------------------------------------- parameters, modes


def test_sequential_names_parameters_like_pytorch_state_dict():
    model = MLP([4, 5, 3])
    assert list(model.parameters()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(model.gradients()) == list(model.parameters())


def test_parameters_are_the_live_arrays_not_copies():
    model = MLP([2, 3, 1])
    params = model.parameters()
    assert params["0.weight"] is model[0].weight
    params["0.weight"] -= 1.0                           # what an in-place optimizer does
    assert model.parameters()["0.weight"] is params["0.weight"]


def test_gradients_are_the_same_arrays_after_every_backward():
    model = MLP([2, 3, 1])
    grads = model.gradients()
    for _ in range(2):
        model(np.ones((4, 2), np.float32))
        model.backward(np.ones((4, 1), np.float32))
    assert all(grads[k] is g for k, g in model.gradients().items())
    assert np.any(grads["0.weight"] != 0)


def test_state_dict_is_a_copy_and_load_state_dict_restores_in_place():
    model = MLP([2, 3, 1], seed=0)
    saved = model.state_dict()
    weight = model.parameters()["0.weight"]
    weight += 1.0
    assert not np.array_equal(saved["0.weight"], weight)
    model.load_state_dict(saved)
    assert model.parameters()["0.weight"] is weight
    np.testing.assert_array_equal(weight, saved["0.weight"])


def test_load_state_dict_rejects_wrong_keys():
    with pytest.raises(ValueError, match="state keys must be"):
        MLP([2, 3, 1]).load_state_dict({"0.weight": np.zeros((3, 2))})


def test_train_and_eval_set_the_mode_of_every_layer():
    model = MLP([2, 3, 1])
    assert model.eval() is model
    assert not any(layer.training for layer in model)
    model.train()
    assert all(layer.training for layer in model)


def test_activation_layers_have_no_parameters():
    assert ReLU().parameters() == {} == Tanh().gradients()


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="layers must be Module instances"):
        Sequential(Linear(2, 2), np.tanh)


# ----------------------------------------------------------------------------- init


def test_initialization_is_deterministic_by_seed():
    a, b, c = MLP([4, 5, 3], seed=7), MLP([4, 5, 3], seed=7), MLP([4, 5, 3], seed=8)
    np.testing.assert_array_equal(a[0].weight, b[0].weight)
    assert not np.array_equal(a[0].weight, c[0].weight)


def test_mlp_layers_get_different_weights():
    model = MLP([4, 4, 4, 4], seed=0)
    assert not np.array_equal(model[0].weight, model[2].weight)


def test_he_init_has_variance_two_over_fan_in():
    w = init_he((400, 250), seed=0)
    assert w.var() == pytest.approx(2 / 250, rel=0.02)


def test_glorot_init_is_uniform_within_its_bound():
    w = init_glorot((300, 100), seed=0)
    bound = np.sqrt(6 / 400)
    assert np.abs(w).max() <= bound
    assert w.var() == pytest.approx(bound**2 / 3, rel=0.02)


def test_normal_init_has_the_requested_scale():
    assert init_normal((300, 300), scale=3.0, seed=0).std() == pytest.approx(3.0, rel=0.02)


def test_zeros_init_and_linear_init_names():
    assert not init_zeros((2, 3)).any()
    assert not Linear(3, 2, init="zeros").weight.any()
    assert Linear(300, 300, init="normal", scale=5.0).weight.std() == pytest.approx(5.0, rel=0.02)


def test_mlp_default_init_follows_the_activation():
    relu, tanh = MLP([500, 400], seed=0), MLP([500, 400], activation="tanh", seed=0)
    assert relu[0].weight.var() == pytest.approx(2 / 500, rel=0.02)                  # He
    assert tanh[0].weight.var() == pytest.approx(6 / 900 / 3, rel=0.02)              # Glorot


def test_biases_start_at_zero():
    assert not Linear(3, 4).bias.any()


def test_bad_constructor_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="in_features must be an integer >= 1"):
        Linear(0, 3)
    with pytest.raises(TypeError, match="out_features must be an integer >= 1"):
        Linear(2, 3.0)
    with pytest.raises(TypeError, match="bias must be True or False"):
        Linear(2, 3, bias="yes")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        Linear(2, 3, dtype=np.int64)
    with pytest.raises(ValueError, match="init must be one of"):
        Linear(2, 3, init="kaiming")
    with pytest.raises(ValueError, match="scale is only used with init='normal'"):
        Linear(2, 3, init="he", scale=2.0)
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        Linear(2, 3, init="normal", scale=-1.0)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([2, 3], activation="gelu")
    with pytest.raises(ValueError, match="sizes must list at least"):
        MLP([2])
