"""Specification of optlib.lab.ch08_batch_norm: the chapter's networks, recording layer inputs,
probing the loss along the gradient, internal covariate shift, probes during fit, per-layer rates."""

import numpy as np
import pytest

from optlib.lab.ch08_batch_norm import (
    InputRecorder,
    LayerRates,
    NoisyShift,
    ProbeEvery,
    batch_dependence,
    batchnorm_layers,
    bn_mlp,
    evaluate_train_mode,
    frozen_running_stats,
    internal_covariate_shift,
    layer_output_std,
    loss_along_gradient,
    scaled_he,
)
from optlib.nn import MLP, BatchNorm1d, Linear, Sequential, gradcheck, init_he
from optlib.nn.losses import mse, softmax_cross_entropy
from optlib.optim import SGD
from optlib.train.loop import evaluate, fit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


# ------------------------------------------------------------ frozen running stats


def test_frozen_running_stats_undoes_forward_passes_made_inside_it():
    model = bn_mlp([3, 4, 4, 2], seed=0)
    model(np.ones((5, 3), np.float32) + np.arange(5, dtype=np.float32)[:, None])
    before = [(bn.running_mean.copy(), bn.running_var.copy(), int(bn.num_batches_tracked))
              for bn in batchnorm_layers(model)]
    with frozen_running_stats(model):
        model(np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32))
    for bn, (mean, var, tracked) in zip(batchnorm_layers(model), before):
        np.testing.assert_array_equal(bn.running_mean, mean)
        np.testing.assert_array_equal(bn.running_var, var)
        assert bn.num_batches_tracked == tracked



def test_sequential_switches_batchnorm_between_train_and_eval():
    model = bn_mlp([3, 4, 2])
    model.eval()
    assert not batchnorm_layers(model)[0].training
    model.train()
    assert batchnorm_layers(model)[0].training



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
    x = np.random.default_rng(1).standard_normal((3, 2))
    assert max(gradcheck.check_layer(layer, x).values()) < 1e-7


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


# ----------------------------------------------------------------- InputRecorder


def test_recorder_is_the_identity_forward_and_backward():
    rec = InputRecorder()
    x = np.arange(6.0).reshape(3, 2)
    assert rec(x) is x and rec.backward(x) is x and rec.backward(x, input_grad=False) is None


def test_recorder_keeps_batch_statistics_of_every_training_step(data):
    X, y = data
    rec = InputRecorder(q=(0.5,))
    model = Sequential(Linear(4, 3, seed=0), rec, Linear(3, 2, seed=1))
    first = model[0](X[:20])                          # what step 1 will see
    fit(model, softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=2, batch_size=20, shuffle=False)
    steps, mean, std, quantiles = rec.arrays()
    assert steps.tolist() == [1, 2, 3, 4, 5, 6]        # evaluation passes are not recorded
    assert mean.shape == std.shape == (6, 3) and quantiles.shape == (6, 1, 3)
    np.testing.assert_allclose(mean[0], first.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(quantiles[0, 0], np.median(first, axis=0), rtol=1e-6)


def test_recorder_every_thins_the_records():
    rec = InputRecorder(every=3)
    for _ in range(7):
        rec(np.ones((2, 2)))
    assert rec.steps == [3, 6]


def test_recorder_refuses_bad_quantiles():
    with pytest.raises(ValueError, match="q must"):
        InputRecorder(q=(1.5,))


# ------------------------------------------------------------- layer_output_std


def test_scaling_every_weight_by_c_scales_layer_k_by_c_to_the_k(data):
    X, _ = data
    base = layer_output_std(MLP([4, 6, 6, 6, 2], bias=False, seed=0), X)
    scaled = layer_output_std(MLP([4, 6, 6, 6, 2], bias=False, init=scaled_he(2.0), seed=0), X)
    assert len(base) == 4
    np.testing.assert_allclose(scaled / base, 2.0 ** np.arange(1, 5), rtol=1e-5)


def test_layer_output_std_can_measure_batchnorm_outputs(data):
    X, _ = data
    stds = layer_output_std(bn_mlp([4, 6, 6, 2], seed=0), X * 100, kind=BatchNorm1d)
    np.testing.assert_allclose(stds, 1.0, rtol=1e-3)


# ---------------------------------------------------------- loss_along_gradient


def test_loss_along_gradient_of_least_squares_matches_the_closed_form():
    # L(θ - s g) for a linear model with mse is a parabola in s with known coefficients
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    model = Linear(3, 2, dtype=np.float64, seed=0)
    steps = [0.01, 0.1, 0.5]
    probe = loss_along_gradient(model, mse, X, Y, steps)
    loss0, d = mse(model(X), Y)
    model.backward(d)
    gW, gb = model.weight_grad.copy(), model.bias_grad.copy()
    for s, loss in zip(steps, probe["loss"]):
        pred = X @ (model.weight - s * gW).T + (model.bias - s * gb)
        assert loss == pytest.approx(mse(pred, Y)[0], rel=1e-12)
    assert probe["loss0"] == pytest.approx(loss0)
    assert probe["grad_norm"] == pytest.approx(np.sqrt(np.sum(gW**2) + np.sum(gb**2)))


def test_for_a_quadratic_the_effective_smoothness_is_the_same_at_every_step_size():
    # ∇L(θ - s g) - g = -s H g, so Δ_s / (s |g|) does not depend on s
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((30, 3)), rng.standard_normal((30, 1))
    probe = loss_along_gradient(Linear(3, 1, dtype=np.float64), mse, X, Y, [0.01, 0.1, 1.0])
    np.testing.assert_allclose(probe["smoothness"], probe["smoothness"][0], rtol=1e-9)


def test_loss_along_gradient_restores_parameters_gradients_and_running_stats(data):
    X, y = data
    model = bn_mlp([4, 5, 3], seed=0)
    model(X[:10] + 3)
    params = {k: p.copy() for k, p in model.parameters().items()}
    bn = batchnorm_layers(model)[0]
    mean, tracked = bn.running_mean.copy(), bn.num_batches_tracked
    probe = loss_along_gradient(model, softmax_cross_entropy, X, y, [0.1, 1.0])
    for k, p in model.parameters().items():
        np.testing.assert_array_equal(p, params[k])
    np.testing.assert_array_equal(bn.running_mean, mean)
    assert bn.num_batches_tracked == tracked
    _, d = softmax_cross_entropy(model(X), y)       # (this forward moves the stats; fine)
    model.backward(d)
    grads_now = np.concatenate([g.ravel() for g in model.gradients().values()])
    assert np.linalg.norm(grads_now) == pytest.approx(probe["grad_norm"], rel=1e-5)


def test_loss_along_gradient_refuses_non_positive_steps(data):
    X, y = data
    with pytest.raises(ValueError, match="step_sizes"):
        loss_along_gradient(MLP([4, 3]), softmax_cross_entropy, X, y, [0.0, 0.1])


# ------------------------------------------------- batch noise and train vs. eval


def test_without_batchnorm_the_output_does_not_depend_on_the_batch(data):
    X, _ = data
    out = batch_dependence(MLP([4, 5, 3], seed=0), X, index=3, batch_size=4, draws=10)
    assert out.shape == (10, 3)
    np.testing.assert_allclose(out, out[0:1].repeat(10, axis=0), rtol=1e-6)


def test_with_batchnorm_the_output_varies_less_in_larger_batches(data):
    X, _ = data
    model = bn_mlp([4, 8, 3], seed=0)
    spread = [batch_dependence(model, X, 0, B, draws=200).std(axis=0).mean() for B in (2, 8, 32)]
    assert spread[0] > spread[1] > spread[2] > 0


def test_batch_dependence_leaves_mode_and_running_stats_alone(data):
    X, _ = data
    model = bn_mlp([4, 8, 3], seed=0).eval()
    batch_dependence(model, X, 0, 4, draws=5)
    assert not model.training and batchnorm_layers(model)[0].num_batches_tracked == 0


def test_train_mode_evaluation_equals_evaluate_without_batchnorm(data):
    X, y = data
    model = MLP([4, 5, 2], seed=0)
    loss, acc = evaluate_train_mode(model, softmax_cross_entropy, X, y, batch_size=20)
    assert (loss, acc) == pytest.approx(evaluate(model, softmax_cross_entropy, X, y))


def test_train_mode_evaluation_of_a_batchnorm_network_differs_from_eval_mode(data):
    X, y = data
    model = bn_mlp([4, 8, 2], seed=0)
    fit(model, softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=3, batch_size=10)
    tracked = batchnorm_layers(model)[0].num_batches_tracked
    train_mode = evaluate_train_mode(model, softmax_cross_entropy, X, y, batch_size=2)
    assert train_mode[0] != pytest.approx(evaluate(model, softmax_cross_entropy, X, y)[0])
    assert batchnorm_layers(model)[0].num_batches_tracked == tracked


def test_batch_sizes_below_two_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_train_mode(MLP([4, 2]), softmax_cross_entropy, X, y, batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        batch_dependence(MLP([4, 2]), X, 0, batch_size=1)


# --------------------------------------------------- internal_covariate_shift


def _two_linear_layers(seed=0):
    return Sequential(Linear(3, 4, bias=False, dtype=np.float64, seed=seed),
                      Linear(4, 2, bias=False, dtype=np.float64, seed=seed + 1))


def test_internal_covariate_shift_compares_a_layers_gradient_before_and_after_the_earlier_layers_step():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    model = _two_linear_layers()
    result = internal_covariate_shift(model, mse, X, Y, lr=0.1)
    # by hand: G = the second layer's gradient; G' = the same after W1 <- W1 - 0.1 ∇W1
    _, d = mse(model(X), Y)
    model.backward(d)
    G, G1 = model[1].weight_grad.copy(), model[0].weight_grad.copy()
    moved = _two_linear_layers()
    moved[0].weight[:] -= 0.1 * G1
    _, d = mse(moved(X), Y)
    moved.backward(d)
    G_after = moved[1].weight_grad
    assert list(result["layers"]) == [1]
    assert result["l2"][0] == pytest.approx(np.linalg.norm(G - G_after), rel=1e-10)
    assert result["relative"][0] == pytest.approx(np.linalg.norm(G - G_after) / np.linalg.norm(G), rel=1e-10)
    assert result["cosine"][0] == pytest.approx(np.sum(G * G_after) / (np.linalg.norm(G) * np.linalg.norm(G_after)), rel=1e-10)


def test_internal_covariate_shift_steps_every_earlier_parameter_and_no_later_one(data):
    # Santurkar et al.'s Definition 2.1 for the last Linear of Linear-BN-ReLU-Linear-BN-ReLU-Linear:
    # every parameter before it (both Linears and both BNs) takes its SGD step; its own bias does not
    X, y = data
    lr = 0.5
    model = bn_mlp([4, 6, 6, 3], seed=0, dtype=np.float64)
    result = internal_covariate_shift(model, softmax_cross_entropy, X, y, lr=lr, layers=[6])
    _, d = softmax_cross_entropy(model(X), y)
    model.backward(d)
    grads = {k: g.copy() for k, g in model.gradients().items()}
    moved = bn_mlp([4, 6, 6, 3], seed=0, dtype=np.float64)
    for k, p in moved.parameters().items():
        if not k.startswith("6."):
            p -= lr * grads[k]
    _, d = softmax_cross_entropy(moved(X), y)
    moved.backward(d)
    G, G_after = grads["6.weight"], moved.gradients()["6.weight"]
    assert result["l2"][0] == pytest.approx(np.linalg.norm(G - G_after), rel=1e-9)
    assert result["l2"][0] > 1e-3 * np.linalg.norm(G)            # the earlier steps do matter


def test_internal_covariate_shift_vanishes_with_the_step(data):
    X, y = data
    model = bn_mlp([4, 6, 6, 3], seed=0, dtype=np.float64)
    small = internal_covariate_shift(model, softmax_cross_entropy, X, y, lr=1e-8)
    assert np.all(small["relative"] < 1e-5) and np.allclose(small["cosine"], 1)


def test_internal_covariate_shift_restores_parameters_gradients_and_running_stats(data):
    X, y = data
    model = bn_mlp([4, 6, 6, 3], seed=0)
    params = {k: p.copy() for k, p in model.parameters().items()}
    bn = batchnorm_layers(model)[0]
    mean, tracked = bn.running_mean.copy(), bn.num_batches_tracked
    internal_covariate_shift(model, softmax_cross_entropy, X, y, lr=1.0)
    for k, p in model.parameters().items():
        np.testing.assert_array_equal(p, params[k])
    np.testing.assert_array_equal(bn.running_mean, mean)
    assert bn.num_batches_tracked == tracked


def test_internal_covariate_shift_measures_only_linear_layers(data):
    X, y = data
    with pytest.raises(ValueError, match="layers"):
        internal_covariate_shift(bn_mlp([4, 6, 3]), softmax_cross_entropy, X, y, lr=0.1, layers=[1])


# ------------------------------------------------------- ProbeEvery, LayerRates


def test_probe_every_runs_the_probe_after_every_kth_update(data):
    X, y = data
    probe = ProbeEvery(3, lambda step, model: step * 10)
    fit(MLP([4, 3], seed=0), softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=1, batch_size=6,
        callbacks=[probe])                                     # 10 updates
    assert probe.steps == [3, 6, 9] and probe.values == [30, 60, 90]


def test_layer_rates_scales_the_rate_of_the_listed_parameters_only(data):
    X, y = data
    model = MLP([4, 5, 3], seed=0)
    params, grads = model.parameters(), model.gradients()
    _, d = softmax_cross_entropy(model(X), y)
    model.backward(d)
    before = {k: p.copy() for k, p in params.items()}
    LayerRates(0.1, {"0.weight": 10.0}).step(params, grads)
    for k, p in params.items():
        factor = 10.0 if k == "0.weight" else 1.0
        np.testing.assert_allclose(p, before[k] - factor * 0.1 * grads[k], rtol=1e-6)


def test_layer_rates_with_no_factors_is_sgd(data):
    X, y = data
    a, b = MLP([4, 5, 3], seed=0), MLP([4, 5, 3], seed=0)
    fit(a, softmax_cross_entropy, LayerRates(0.1, {}), X, y, epochs=2, batch_size=10)
    fit(b, softmax_cross_entropy, SGD(lr=0.1), X, y, epochs=2, batch_size=10)
    for k, p in a.parameters().items():
        np.testing.assert_array_equal(p, b.parameters()[k])
