"""Specification of optlib.nn.batchnorm: BatchNorm1d as torch.nn.BatchNorm1d, NoisyShift, bn_mlp."""

import numpy as np
import pytest

from optlib.nn import gradcheck
from optlib.nn.batchnorm import (BatchNorm1d, NoisyShift, batchnorm_layers, bn_mlp, frozen_running_stats,
                              scaled_he)
from optlib.nn.losses import softmax_cross_entropy
from optlib.nn import Linear, ReLU, Sequential, init_he
from optlib.optim import SGD
from optlib.train.loop import fit

TOL = 1e-7


def x64(shape, seed=1, scale=3.0, shift=2.0):
    # seed 1: check_layer projects the output on a random R drawn with seed 0, and an
    # R equal to the normalized input would make the input gradient vanish.
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)


def bn64(**kwargs):
    """A float64 layer with non-trivial γ, β (so that they are tested too)."""
    layer = BatchNorm1d(4, dtype=np.float64, **kwargs)
    if layer.affine:
        rng = np.random.default_rng(7)
        layer.weight[:] = rng.uniform(0.5, 2.0, 4)
        layer.bias[:] = rng.normal(size=4)
    return layer


# --------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("affine", [True, False])
def test_training_mode_passes_gradient_check(affine):
    errors = gradcheck.check_layer(bn64(affine=affine), x64((6, 4)))
    assert set(errors) == ({"input", "weight", "bias"} if affine else {"input"})
    assert max(errors.values()) < TOL


def test_evaluation_mode_passes_gradient_check():
    layer = bn64()
    layer(x64((8, 4)))                               # some running statistics
    layer.eval()
    assert max(gradcheck.check_layer(layer, x64((5, 4), seed=1)).values()) < TOL


def test_without_running_stats_evaluation_mode_passes_gradient_check_with_batch_stats():
    layer = bn64(track_running_stats=False).eval()
    assert max(gradcheck.check_layer(layer, x64((5, 4))).values()) < TOL


def test_network_with_batchnorm_passes_gradient_check():
    model = bn_mlp([5, 6, 6, 3], seed=1, dtype=np.float64)
    errors = gradcheck.check_model(model, softmax_cross_entropy, x64((7, 5)), np.array([0, 1, 2, 0, 1, 2, 2]))
    assert max(errors.values()) < TOL


def test_gradient_with_respect_to_input_sums_to_zero_over_the_batch():
    # the output does not change if the whole batch is shifted: Σ_i ∂L/∂x_i = 0
    layer = bn64()
    layer(x64((6, 4)))
    dx = layer.backward(np.random.default_rng(2).standard_normal((6, 4)))
    np.testing.assert_allclose(dx.sum(axis=0), 0, atol=1e-12)


# ----------------------------------------------------------------- forward pass


def test_training_mode_standardizes_every_feature_with_batch_statistics():
    x = x64((50, 4))
    out = BatchNorm1d(4, dtype=np.float64)(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5), rtol=1e-12)


def test_weight_and_bias_scale_and_shift_the_normalized_output():
    layer = bn64()
    x = x64((20, 4))
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + layer.eps)
    np.testing.assert_allclose(layer(x), layer.weight * x_hat + layer.bias, rtol=1e-12)


def test_evaluation_mode_uses_the_running_statistics():
    layer = bn64()
    layer.running_mean[:] = [1.0, 2.0, 3.0, 4.0]
    layer.running_var[:] = [1.0, 4.0, 9.0, 16.0]
    x = x64((3, 4))
    expected = layer.weight * (x - layer.running_mean) / np.sqrt(layer.running_var + 1e-5) + layer.bias
    np.testing.assert_allclose(layer.eval()(x), expected, rtol=1e-12)


def test_evaluation_mode_treats_each_example_independently_of_its_batch():
    layer = bn64()
    layer(x64((10, 4)))
    layer.eval()
    x = x64((6, 4), seed=3)
    np.testing.assert_allclose(layer(x)[:2], layer(x[:2]), rtol=1e-12)
    layer.train()
    assert not np.allclose(layer(x)[:2], layer(x[:2]))


def test_float32_input_gives_float32_output_and_gradients():
    layer = BatchNorm1d(3)
    out = layer(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == layer.weight_grad.dtype == layer.running_var.dtype == np.float32


# ----------------------------------------------------------- running statistics


def test_running_stats_start_at_zero_mean_and_unit_variance():
    layer = BatchNorm1d(3)
    np.testing.assert_array_equal(layer.running_mean, 0)
    np.testing.assert_array_equal(layer.running_var, 1)
    assert layer.num_batches_tracked == 0


def test_running_variance_is_updated_with_the_unbiased_batch_variance():
    layer = BatchNorm1d(4, momentum=0.1, dtype=np.float64)
    x = x64((5, 4))
    layer(x)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)
    assert layer.num_batches_tracked == 1


def test_momentum_none_gives_the_plain_average_of_all_batches():
    layer = BatchNorm1d(4, momentum=None, dtype=np.float64)
    batches = [x64((6, 4), seed=s) for s in range(3)]
    for x in batches:
        layer(x)
    np.testing.assert_allclose(layer.running_mean, np.mean([x.mean(axis=0) for x in batches], axis=0))
    np.testing.assert_allclose(layer.running_var, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0))


def test_evaluation_mode_does_not_update_running_stats():
    layer = BatchNorm1d(4).eval()
    layer(x64((5, 4)).astype(np.float32))
    np.testing.assert_array_equal(layer.running_mean, 0)
    assert layer.num_batches_tracked == 0


def test_optimizer_trains_weight_and_bias_but_never_the_running_stats():
    model = Sequential(Linear(3, 4, seed=0), BatchNorm1d(4), ReLU(), Linear(4, 2, seed=1))
    assert set(model.parameters()) == {"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"}
    X = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    fit(model, softmax_cross_entropy, SGD(lr=0.1), X, (X[:, 0] > 0).astype(np.int64), epochs=2, batch_size=8)
    bn = model[1]
    assert not np.allclose(bn.weight, 1) and bn.num_batches_tracked == 10
    # the running mean is the momentum average of the batch means, not a trained value
    assert np.all(np.abs(bn.running_mean) < 10)


def test_reset_running_stats_restores_the_initial_values():
    layer = BatchNorm1d(4)
    layer(x64((5, 4)).astype(np.float32))
    layer.reset_running_stats()
    np.testing.assert_array_equal(layer.running_var, 1)
    assert layer.num_batches_tracked == 0


def test_buffers_hold_the_live_running_stats():
    layer = BatchNorm1d(2)
    assert layer.buffers()["running_mean"] is layer.running_mean
    assert BatchNorm1d(2, track_running_stats=False).buffers() == {}


def test_frozen_running_stats_undoes_forward_passes_made_inside_it():
    model = bn_mlp([3, 4, 4, 2], seed=0)
    model(np.ones((5, 3), np.float32) + np.arange(5, dtype=np.float32)[:, None])
    before = [(bn.running_mean.copy(), bn.running_var.copy(), bn.num_batches_tracked)
              for bn in batchnorm_layers(model)]
    with frozen_running_stats(model):
        model(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    for bn, (mean, var, tracked) in zip(batchnorm_layers(model), before):
        np.testing.assert_array_equal(bn.running_mean, mean)
        np.testing.assert_array_equal(bn.running_var, var)
        assert bn.num_batches_tracked == tracked


# --------------------------------------------------------------------- modules


def test_parameters_are_named_weight_and_bias_like_pytorch():
    layer = BatchNorm1d(3)
    assert list(layer.parameters()) == list(layer.gradients()) == ["weight", "bias"]
    np.testing.assert_array_equal(layer.weight, 1)
    np.testing.assert_array_equal(layer.bias, 0)
    assert BatchNorm1d(3, affine=False).parameters() == {}


def test_sequential_switches_batchnorm_between_train_and_eval():
    model = bn_mlp([3, 4, 2])
    model.eval()
    assert not batchnorm_layers(model)[0].training
    model.train()
    assert batchnorm_layers(model)[0].training


def test_a_batch_of_one_is_refused_in_training_mode_but_not_in_eval():
    layer = BatchNorm1d(3)
    with pytest.raises(ValueError, match="at least 2 rows"):
        layer(np.ones((1, 3), np.float32))
    assert layer.eval()(np.ones((1, 3), np.float32)).shape == (1, 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_features=0), "num_features"), (dict(num_features=2.5), "num_features"),
    (dict(num_features=3, eps=0), "eps"), (dict(num_features=3, momentum=1.5), "momentum"),
    (dict(num_features=3, dtype=np.int32), "dtype"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BatchNorm1d(**kwargs)


def test_input_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        BatchNorm1d(3)(np.ones((4, 2), np.float32))


def test_repr_matches_pytorch():
    assert repr(BatchNorm1d(64)) == ("BatchNorm1d(64, eps=1e-05, momentum=0.1, affine=True, "
                                     "track_running_stats=True)")


# ------------------------------------------------------------------ NoisyShift


def test_noisy_shift_changes_its_transformation_every_training_step():
    layer = NoisyShift(3, scale=3.0, shift=1.0, seed=0)
    x = np.ones((4, 3), np.float32)
    a, b = layer(x), layer(x)
    assert not np.allclose(a, b)
    assert np.all((a >= 0) & (a <= 4))           # s ∈ [1, 3], c ∈ [-1, 1]


def test_noisy_shift_backward_multiplies_by_this_steps_scale():
    layer = NoisyShift(3, seed=0)
    x = np.random.default_rng(0).standard_normal((5, 3))
    out = layer(x)
    dx = layer.backward(np.ones_like(x))
    # y = s x + c with the same s for every row: dy/dx = s
    s = (out[1] - out[0]) / (x[1] - x[0])
    np.testing.assert_allclose(dx, np.broadcast_to(s, x.shape), rtol=1e-9)


def test_noisy_shift_in_eval_mode_is_the_average_scaling():
    layer = NoisyShift(2, scale=3.0, seed=0).eval()
    np.testing.assert_allclose(layer(np.ones((2, 2))), 2.0)
    assert max(gradcheck.check_layer(layer, x64((3, 2))).values()) < TOL


# ---------------------------------------------------------------------- bn_mlp


def test_bn_mlp_puts_batchnorm_between_linear_and_relu():
    model = bn_mlp([4, 5, 5, 3])
    kinds = [type(layer).__name__ for layer in model]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert model[0].bias is None and model[6].bias is not None   # β replaces the hidden biases


def test_bn_mlp_with_and_without_batchnorm_starts_from_the_same_weights():
    with_bn, without = bn_mlp([4, 5, 5, 3], seed=3), bn_mlp([4, 5, 5, 3], batchnorm=False, seed=3)
    linear = [m for m in with_bn if isinstance(m, Linear)]
    for a, b in zip(linear, [m for m in without if isinstance(m, Linear)]):
        np.testing.assert_array_equal(a.weight, b.weight)


def test_bn_mlp_noisy_needs_batchnorm():
    assert [type(m).__name__ for m in bn_mlp([2, 3, 2], noisy=True)][1:3] == ["BatchNorm1d", "NoisyShift"]
    with pytest.raises(ValueError, match="noisy"):
        bn_mlp([2, 3, 2], batchnorm=False, noisy=True)


def test_scaled_he_multiplies_he_initialization():
    w = scaled_he(3.0)((4, 5), seed=1, dtype=np.float32)
    np.testing.assert_allclose(w, 3.0 * init_he((4, 5), seed=1, dtype=np.float64), rtol=1e-6)
    assert w.dtype == np.float32
    with pytest.raises(ValueError, match="factor"):
        scaled_he(0.0)


def test_state_dict_of_a_network_holds_the_running_statistics():
    from optlib.nn import Linear, Sequential
    net = Sequential(Linear(3, 4, seed=0), BatchNorm1d(4))
    rng = np.random.default_rng(0)
    net.forward(rng.normal(size=(8, 3)).astype(np.float32))
    saved = net.state_dict()
    assert "1.running_mean" in saved and "1.running_var" in saved
    net.forward(rng.normal(size=(8, 3)).astype(np.float32) + 5)
    net.load_state_dict(saved)
    assert np.array_equal(net[1].running_mean, saved["1.running_mean"])
