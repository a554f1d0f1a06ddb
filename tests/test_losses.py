"""Specification of optlib.nn.losses: each loss returns (batch-mean loss, its gradient)."""

import math

import numpy as np
import pytest

from optlib.nn.gradcheck import check_loss, numerical_grad, rel_error
from optlib.nn.losses import accuracy, mse, softmax, softmax_cross_entropy


def test_mse_by_hand():
    loss, grad = mse(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    assert loss == pytest.approx((1 + 4) / 2)
    np.testing.assert_allclose(grad, [[2 * 1 / 2], [2 * 2 / 2]])


def test_mse_averages_over_all_entries_like_torch():
    loss, _ = mse(np.ones((2, 3)), np.zeros((2, 3)))
    assert loss == pytest.approx(1.0)


def test_mse_accepts_flat_target_for_single_output_instead_of_broadcasting():
    loss, grad = mse(np.array([[1.0], [3.0]]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(2.5)
    assert grad.shape == (2, 1)


def test_mse_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="target must have the shape of pred"):
        mse(np.ones((2, 2)), np.ones((2, 3)))


def test_mse_passes_gradient_check():
    rng = np.random.default_rng(0)
    assert check_loss(mse, rng.standard_normal((4, 3)), rng.standard_normal((4, 3))) < 1e-8


def test_cross_entropy_of_equal_logits_is_log_of_class_count():
    loss, grad = softmax_cross_entropy(np.zeros((1, 2)), np.array([0]))
    assert loss == pytest.approx(math.log(2))
    np.testing.assert_allclose(grad, [[-0.5, 0.5]])


def test_cross_entropy_by_hand():
    logits = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    loss, grad = softmax_cross_entropy(logits, np.array([2, 0]))
    p0 = np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()
    assert loss == pytest.approx((-math.log(p0[2]) + math.log(3)) / 2)
    np.testing.assert_allclose(grad[0], (p0 - [0, 0, 1]) / 2)
    np.testing.assert_allclose(grad[1], (np.full(3, 1 / 3) - [1, 0, 0]) / 2)


def test_cross_entropy_passes_gradient_check():
    rng = np.random.default_rng(1)
    assert check_loss(softmax_cross_entropy, rng.standard_normal((5, 4)),
                      np.array([0, 3, 1, 1, 2])) < 1e-8


def test_cross_entropy_is_stable_for_huge_logits():
    with np.errstate(over="raise", invalid="raise"):      # underflow to 0 is fine
        loss, grad = softmax_cross_entropy(np.array([[1000.0, 0.0]], dtype=np.float32), np.array([1]))
    assert loss == pytest.approx(1000.0)
    np.testing.assert_allclose(grad, [[1.0, -1.0]])


def test_cross_entropy_keeps_float32():
    _, grad = softmax_cross_entropy(np.zeros((3, 4), dtype=np.float32), np.array([0, 1, 2]))
    assert grad.dtype == np.float32


def test_cross_entropy_does_not_modify_the_logits():
    logits = np.array([[1.0, 2.0]])
    softmax_cross_entropy(logits, np.array([0]))
    np.testing.assert_array_equal(logits, [[1.0, 2.0]])


@pytest.mark.parametrize("labels, error, message", [
    (np.array([0.0, 1.0]), TypeError, "labels must be integer"),
    (np.array([0, 3]), ValueError, r"labels must lie in \[0, 2\]"),
    (np.array([-1, 0]), ValueError, r"labels must lie in \[0, 2\]"),
    (np.array([0, 1, 2]), ValueError, r"labels must have shape \(2,\)"),
])
def test_cross_entropy_rejects_bad_labels(labels, error, message):
    with pytest.raises(error, match=message):
        softmax_cross_entropy(np.zeros((2, 3)), labels)


@pytest.mark.parametrize("loss_fn, pred, target", [
    (mse, np.zeros((0, 1)), np.zeros((0, 1))),
    (softmax_cross_entropy, np.zeros((0, 3)), np.zeros(0, np.int64)),
], ids=["mse", "cross_entropy"])
def test_an_empty_batch_is_an_error_naming_the_argument(loss_fn, pred, target):
    name = "pred" if loss_fn is mse else "logits"
    with pytest.raises(ValueError, match=f"{name} must hold at least one example"):
        loss_fn(pred, target)


@pytest.mark.parametrize("loss_fn, pred, target, name", [
    (mse, np.array([[1], [2]]), np.array([[0.0], [1.0]]), "pred"),
    (softmax_cross_entropy, np.array([[1, 2], [3, 4]]), np.array([0, 1]), "logits"),
], ids=["mse", "cross_entropy"])
def test_integer_predictions_are_refused_because_the_gradient_has_their_dtype(loss_fn, pred, target, name):
    with pytest.raises(TypeError, match=f"{name} must be a floating-point array"):
        loss_fn(pred, target)


@pytest.mark.parametrize("loss_fn, pred, target, name", [
    (mse, [[1.0], [2.0]], np.array([[0.0], [1.0]]), "pred"),
    (softmax_cross_entropy, [[1.0, 2.0]], np.array([0]), "logits"),
    (accuracy, [[1.0, 2.0]], np.array([0]), "logits"),
], ids=["mse", "cross_entropy", "accuracy"])
def test_a_python_list_of_predictions_is_refused_by_name(loss_fn, pred, target, name):
    with pytest.raises(TypeError, match=f"{name} must be a NumPy array"):
        loss_fn(pred, target)


def test_targets_and_labels_may_be_python_lists():
    assert mse(np.array([[1.0], [3.0]]), [[0.0], [1.0]])[0] == pytest.approx(2.5)
    assert softmax_cross_entropy(np.zeros((1, 2)), [0])[0] == pytest.approx(math.log(2))


def test_accuracy_of_an_empty_batch_is_an_error_not_zero():
    with pytest.raises(ValueError, match="batch >= 1"):
        accuracy(np.zeros((0, 3)), np.zeros(0, np.int64))


def test_softmax_rows_sum_to_one():
    p = softmax(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(p.sum(axis=1), 1)


def test_accuracy_counts_rows_whose_largest_logit_is_the_label():
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_numerical_grad_of_a_known_function():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(numerical_grad(lambda v: np.sum(v**3), x), 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])           # restored after perturbing


def test_rel_error_is_zero_for_equal_arrays_and_for_two_zeros():
    assert rel_error(np.ones(3), np.ones(3)) == 0 == rel_error(np.zeros(2), np.zeros(2))
