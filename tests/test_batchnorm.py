"""Specification of optlib.nn.batchnorm: BatchNorm1d as torch.nn.BatchNorm1d."""

import numpy as np
import pytest

from optlib.nn import BatchNorm1d, Linear, ReLU, Sequential, gradcheck
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import SGD
from optlib.train.loop import fit

TOL = 1e-7


def x64(shape, seed=1, scale=3.0, shift=2.0):
    # seed 1: check_layer projects the output on a random R drawn with seed 0, and an
    # R equal to the normalized input would make the input gradient vanish.
    return shift + scale * np.random.default_rng(seed).standard_normal(shape)


def bn64_of(features, **kwargs):
    """A float64 layer with non-trivial γ, β (so that they are tested too)."""
    layer = BatchNorm1d(features, dtype=np.float64, **kwargs)
    if layer.affine:
        rng = np.random.default_rng(7)
        layer.weight[:] = rng.uniform(0.5, 2.0, features)
        layer.bias[:] = rng.normal(size=features)
    return layer


def bn64(**kwargs):
    return bn64_of(4, **kwargs)


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
    model = Sequential(Linear(5, 6, bias=False, seed=1, dtype=np.float64), bn64_of(6), ReLU(),
                       Linear(6, 6, bias=False, seed=2, dtype=np.float64), bn64_of(6), ReLU(),
                       Linear(6, 3, seed=3, dtype=np.float64))
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


def test_state_dict_has_pytorchs_keys_including_num_batches_tracked():
    layer = BatchNorm1d(3)
    layer(x64((5, 3)).astype(np.float32))
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].shape == () and state["num_batches_tracked"].dtype == np.int64
    assert state["num_batches_tracked"] == 1


def test_with_momentum_none_a_restored_layer_continues_the_cumulative_average():
    batches = [x64((6, 4), seed=s) for s in range(4)]
    straight = BatchNorm1d(4, momentum=None, dtype=np.float64)
    for x in batches:
        straight(x)
    first = BatchNorm1d(4, momentum=None, dtype=np.float64)
    for x in batches[:2]:
        first(x)
    resumed = BatchNorm1d(4, momentum=None, dtype=np.float64)
    resumed.load_state_dict(first.state_dict())
    for x in batches[2:]:
        resumed(x)
    assert resumed.num_batches_tracked == 4
    np.testing.assert_allclose(resumed.running_mean, straight.running_mean, rtol=1e-12)
    np.testing.assert_allclose(resumed.running_var, straight.running_var, rtol=1e-12)


def test_num_batches_tracked_is_none_without_running_stats_as_in_pytorch():
    assert BatchNorm1d(2, track_running_stats=False).num_batches_tracked is None


# --------------------------------------------------------------------- modules


def test_parameters_are_named_weight_and_bias_like_pytorch():
    layer = BatchNorm1d(3)
    assert list(layer.parameters()) == list(layer.gradients()) == ["weight", "bias"]
    np.testing.assert_array_equal(layer.weight, 1)
    np.testing.assert_array_equal(layer.bias, 0)
    assert BatchNorm1d(3, affine=False).parameters() == {}


def test_a_batch_of_one_is_refused_in_training_mode_but_not_in_eval():
    layer = BatchNorm1d(3)
    with pytest.raises(ValueError, match="at least 2 rows"):
        layer(np.ones((1, 3), np.float32))
    assert layer.eval()(np.ones((1, 3), np.float32)).shape == (1, 3)


def test_without_running_stats_a_batch_of_one_is_refused_in_eval_mode_without_blaming_training():
    layer = BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ValueError, match="at least 2 rows") as error:
        layer(np.ones((1, 3), np.float32))
    assert "track_running_stats=False" in str(error.value)
    assert "training mode" not in str(error.value)


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"BatchNorm1d.backward\(\) was called before forward\(\)"):
        BatchNorm1d(3).backward(np.ones((2, 3), np.float32))


def test_a_python_list_as_input_is_refused_by_name():
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        BatchNorm1d(2)([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("affine", [True, False])
def test_changing_the_output_in_place_does_not_change_the_backward_pass(affine):
    layer, x, dout = bn64(affine=affine), x64((6, 4)), x64((6, 4), seed=2)
    layer(x)
    expected = layer.backward(dout)
    out = layer(x)
    out[:] = 0.0
    np.testing.assert_array_equal(layer.backward(dout), expected)


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


def test_state_dict_of_a_network_holds_the_running_statistics():
    net = Sequential(Linear(3, 4, seed=0), BatchNorm1d(4))
    rng = np.random.default_rng(0)
    net.forward(rng.normal(size=(8, 3)).astype(np.float32))
    saved = net.state_dict()
    assert "1.running_mean" in saved and "1.running_var" in saved
    net.forward(rng.normal(size=(8, 3)).astype(np.float32) + 5)
    net.load_state_dict(saved)
    assert np.array_equal(net[1].running_mean, saved["1.running_mean"])
