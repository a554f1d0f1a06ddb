"""Specification of optlib.data: seeded datasets, no network, float32 features."""

import time

import numpy as np
import pytest

from optlib.data import (
    Dataset,
    linear_regression,
    load_digits,
    make_digits,
    split_indices,
    standardize,
    train_val_test_split,
)


@pytest.fixture(scope="module")
def digits():
    return make_digits(seed=0)


# ------------------------------------------------------------------ real digits


def test_load_digits_is_the_1797_real_images_split_three_ways():
    data = load_digits()
    sizes = [len(data.X_train), len(data.X_val), len(data.X_test)]
    assert sum(sizes) == 1797
    assert data.X_train.shape[1] == 64
    assert data.X_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0 <= data.X_train.min() and data.X_train.max() == 1
    assert data.n_classes == 10


def test_load_digits_can_upsample_to_mnist_shape():
    data = load_digits(size=28)
    assert data.X_val.shape[1] == 784 and data.X_val.dtype == np.float32


# ------------------------------------------------------------------ 55,000 digits


def test_make_digits_has_55000_training_examples_by_default(digits):
    assert digits.X_train.shape == (55_000, 64)
    assert digits.y_train.shape == (55_000,)
    assert digits.X_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert 0 <= digits.X_train.min() and digits.X_train.max() <= 1
    assert set(np.unique(digits.y_train)) == set(range(10))


def test_make_digits_is_deterministic_by_seed():
    a, b, other = make_digits(n=2000, seed=0), make_digits(n=2000, seed=0), make_digits(n=2000, seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.X_train, other.X_train)


def test_make_digits_trains_only_on_distortions_of_training_images(digits):
    idx = digits.info["indices"]
    used = set(digits.info["sources"].tolist())
    assert used == set(idx["train"].tolist())                      # every source used
    assert used.isdisjoint(idx["val"].tolist())
    assert used.isdisjoint(idx["test"].tolist())


def test_make_digits_validation_and_test_are_the_real_untouched_images(digits):
    real = load_digits(seed=0)                                       # same split, same seed
    np.testing.assert_array_equal(digits.X_val, real.X_val)
    np.testing.assert_array_equal(digits.y_test, real.y_test)


def test_make_digits_labels_follow_their_source_images(digits):
    raw = load_digits(fractions=(1.0, 0.0, 0.0), seed=0)
    label_of = dict(zip(raw.info["indices"]["train"].tolist(), raw.y_train.tolist()))
    sources = digits.info["sources"][:500]
    np.testing.assert_array_equal(digits.y_train[:500], [label_of[s] for s in sources.tolist()])


def test_make_digits_without_distortion_reproduces_the_source_images():
    data = make_digits(n=100, max_shift=0, max_rotation=0, max_zoom=0, max_shear=0,
                       thickness=0, contrast=0, noise=0)
    raw = load_digits(fractions=(1.0, 0.0, 0.0), seed=0)
    image_of = dict(zip(raw.info["indices"]["train"].tolist(), raw.X_train))
    expected = np.stack([image_of[s] for s in data.info["sources"].tolist()])
    np.testing.assert_allclose(data.X_train, expected, atol=1e-5)


def test_make_digits_is_fast():
    load_digits()                                   # scikit-learn import and file read
    start = time.perf_counter()
    make_digits(seed=3)
    assert time.perf_counter() - start < 2.0


def test_make_digits_size_28_gives_784_features():
    data = make_digits(n=500, size=28)
    assert data.X_train.shape == (500, 784) and data.X_test.shape[1] == 784
    assert data.X_train.dtype == np.float32


def test_make_digits_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        make_digits(n=0)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make_digits(n=10, noise=-0.1)
    with pytest.raises(ValueError, match="size must be an integer >= 8"):
        make_digits(n=10, size=4)


# ------------------------------------------------------------------- regression


def test_linear_regression_without_noise_is_exactly_linear():
    X, y, w, b = linear_regression(n=50, d=3, noise=0.0, seed=0)
    assert X.shape == (50, 3) and y.shape == (50, 1) and w.shape == (3,)
    np.testing.assert_allclose(y[:, 0], X @ w + b, rtol=1e-5, atol=1e-5)


def test_linear_regression_least_squares_recovers_true_weights():
    X, y, w, b = linear_regression(n=5000, d=4, noise=0.1, seed=1)
    coef = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(coef, np.r_[w, b], atol=0.01)


# --------------------------------------------------------------- split, scaling


def test_split_indices_partition_the_examples():
    train, val, test = split_indices(100, (0.7, 0.2, 0.1), seed=0)
    assert (len(train), len(val), len(test)) == (70, 20, 10)
    assert sorted(np.r_[train, val, test].tolist()) == list(range(100))


def test_train_val_test_split_is_deterministic_and_returns_a_dataset():
    X, y = np.arange(40, dtype=np.float32).reshape(20, 2), np.arange(20)
    a, b = train_val_test_split(X, y, seed=4), train_val_test_split(X, y, seed=4)
    assert isinstance(a, Dataset)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.X_train[:, 0] / 2, a.y_train)   # rows stay with labels


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.5, 0.3, 0.3), (0.0, 0.5, 0.5), (1.2, -0.1, -0.1)])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError, match="fractions must be 3 numbers"):
        split_indices(10, fractions)


@pytest.mark.parametrize("fractions", [0.5, None, ("0.6", 0.2, 0.2), (True, False, False)])
def test_fractions_that_are_not_three_numbers_are_a_type_error(fractions):
    with pytest.raises(TypeError, match="fractions must be 3 numbers"):
        split_indices(10, fractions)


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError),
                                         (True, TypeError)])
def test_every_data_maker_names_a_bad_seed(seed, error):
    for make in (lambda: split_indices(10, seed=seed), lambda: load_digits(seed=seed),
                 lambda: make_digits(n=10, seed=seed), lambda: linear_regression(n=5, seed=seed)):
        with pytest.raises(error, match="seed must be an integer >= 0 or a numpy.random.Generator"):
            make()


def test_a_generator_is_a_seed_and_is_advanced():
    rng = np.random.default_rng(0)
    first, second = split_indices(10, seed=rng)[0], split_indices(10, seed=rng)[0]
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(split_indices(10, seed=np.random.default_rng(0))[0], first)


def test_make_digits_names_zoom_and_contrast_outside_zero_one():
    with pytest.raises(ValueError, match=r"max_zoom must be a number in \[0, 1\)"):
        make_digits(n=10, max_zoom=1.0)
    with pytest.raises(ValueError, match=r"contrast must be a number in \[0, 1\)"):
        make_digits(n=10, contrast=-0.1)


def test_standardize_uses_training_statistics_only():
    train = np.array([[0.0, 5.0], [2.0, 5.0]], dtype=np.float32)
    other = np.array([[4.0, 5.0]], dtype=np.float32)
    train_s, other_s, mean, std = standardize(train, other)
    np.testing.assert_allclose(mean, [1, 5])
    np.testing.assert_allclose(std, [1, 1])                         # constant column: std 1
    np.testing.assert_allclose(train_s, [[-1, 0], [1, 0]])
    np.testing.assert_allclose(other_s, [[3, 0]])
    assert train_s.dtype == np.float32


def test_standardized_dataset_has_zero_mean_unit_variance_training_features():
    X = load_digits().standardized().X_train
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-5)
    assert X.std(axis=0).max() == pytest.approx(1, abs=1e-4)


def test_standardize_rejects_mismatched_widths():
    with pytest.raises(ValueError, match=r"array 1 must have shape \(n, 2\)"):
        standardize(np.ones((3, 2)), np.ones((3, 3)))
